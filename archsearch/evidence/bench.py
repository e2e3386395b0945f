"""Benchmark tables of trained layouts: what the prior is judged against.

A table holds layouts **matched in size** (parameter count between ``band`` x budget and the budget) of
one search space, each trained on one task: every such layout when the space is a finite grid small
enough (a complete grid, the way NAS-Bench-201 tabulates its space, so whole searches can be replayed
against it), else a fixed, seeded sample; plus the paper's pair and the uniform layout at the budget
when the space allows them. Every run records the layout, seed, validation and test accuracy, the
per-epoch curves, wall and CPU seconds, device, the training settings and the archsearch version.

The file is plain JSON (:data:`FORMAT`), documented in the README, loadable with ``json`` or pandas
alone. A build is resumable: the table is rewritten atomically after every finished run, and the same
command trains only the runs it lacks, a first run of every untrained layout before any other, each in a
seeded random order (a table stopped part way is a fair sample of its layouts). ``workers`` training processes
run at once (spawned; on CPU each single-threaded, on a GPU all on the one device).
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from archsearch import __version__
from archsearch.core.layout import Layout
from archsearch.errors import InputError
from archsearch.evidence.table import BenchSettings, Table
from archsearch.formats.space import Space
from archsearch.formats.table import FORMAT, MAX_TABLE_LAYOUTS, LayoutEntry, SpaceEntry, TaskEntry
from archsearch.formats.task import Task
from archsearch.train.runs import train_run

__all__ = [
    "FORMAT", "MAX_GRID", "BenchSettings", "Table", "build_on_study", "build_table", "candidate_layouts", "new_table",
    "open_table",
    "planned_runs", "sync_table", "table_study", "todo_runs",
]


#: a space with at most this many channel layouts (before the size band) is tabulated completely
MAX_GRID = 20_000
#: a sampled table draws at most this many layouts per layout asked for (each draw tries the budget up to
#: 50 times): about a second per 100 layouts asked for
SAMPLE_DRAWS = 20


def _grid_size(space: Space) -> float:
    if space.channel_choices is None:
        return math.inf
    return sum(len(space.channel_choices) ** len(s) for s in space.schedules) * len(space.M)


def _key(lay: Layout) -> tuple:
    return (lay.pools, lay.M, lay.channels)


def candidate_layouts(space: Space, band: float, n: int, seed: int = 0) -> tuple[list[tuple[str, Layout]], bool]:
    """The layouts of a table, and whether they are the complete grid of the space within the band."""
    low = band * space.max_params
    fits = lambda lay: low <= lay.param_count() <= space.max_params  # noqa: E731
    out: dict[tuple, tuple[str, Layout]] = {}
    complete = _grid_size(space) <= MAX_GRID
    if complete:
        for s, sched in enumerate(space.schedules):
            for m in space.M:
                for ch in itertools.product(space.channel_choices, repeat=len(sched)):
                    lay = space.layout(s, m, list(ch))
                    if fits(lay):
                        out[_key(lay)] = ("grid", lay)
    else:
        rng = np.random.default_rng(seed)
        draws = SAMPLE_DRAWS * n  # bounded: a band few layouts meet is refused, not searched for without end
        for _ in range(draws):
            if len(out) >= n:
                break
            lay = space.random_layouts(1, seed=int(rng.integers(2**31)))
            if lay and fits(lay[0]):
                out.setdefault(_key(lay[0]), ("sample", lay[0]))
        if len(out) < n:
            raise InputError(f"only {len(out)} distinct layouts of the {n} asked for lie between {band} x "
                             f"{space.max_params} and {space.max_params} parameters after {draws} draws: give a "
                             "lower --band or fewer --layouts", space.source, "budget")
    for label, lay in _extras(space):
        if fits(lay) and _allowed(space, lay):
            out[_key(lay)] = (label, lay)
    ordered = sorted(out.values(), key=lambda t: (t[1].pools, t[1].M, t[1].channels))
    return ordered, complete


def _allowed(space: Space, lay: Layout) -> bool:
    if space.channel_choices is not None:
        return set(lay.channels) <= set(space.channel_choices)
    low, high, _ = space.channel_range
    return all(low <= c <= high for c in lay.channels)


def _extras(space: Space) -> list[tuple[str, Layout]]:
    """The paper's pair at the largest r within the budget (one schedule, M = 10 in the space), and the
    widest uniform layout at the budget on each schedule."""
    from archsearch.evidence.verify import paper_layouts_for
    from archsearch.prior.score import uniform_at_budget

    extras = [(label.split(" ")[0], lay) for label, lay in paper_layouts_for(space)]
    for s, sched in enumerate(space.schedules):
        template = space.layout(s, space.M[0], [1] * len(sched))
        extras.append(("uniform", uniform_at_budget(template, space.max_params)))
    return extras


def planned_runs(n_layouts: int, settings: BenchSettings) -> list[tuple[int, int]]:
    """(layout id, seed) for every run of the table: each layout for ``seeds`` seeds (with ``seed_layouts``
    N > 0, seed 0 for every layout and the others for a seeded subset of N), and with a single seed a seeded
    subset of ``noise_layouts`` layouts for a second (the noise ceiling)."""
    if settings.seeds > 1 and 0 < settings.seed_layouts < n_layouts:
        subset = _seed_subset(n_layouts, settings)
        return [(i, 0) for i in range(n_layouts)] + [(i, s) for i in subset for s in range(1, settings.seeds)]
    runs = [(i, s) for i in range(n_layouts) for s in range(settings.seeds)]
    if settings.seeds == 1 and settings.noise_layouts > 0:
        runs += [(i, 1) for i in _noise_subset(n_layouts, settings)]
    return runs


def _noise_subset(n_layouts: int, settings: BenchSettings) -> list[int]:
    rng = np.random.default_rng(settings.sample_seed + 1)
    return sorted(rng.choice(n_layouts, size=min(settings.noise_layouts, n_layouts), replace=False).tolist())


def _seed_subset(n_layouts: int, settings: BenchSettings) -> list[int]:
    """``seed_layouts`` layouts: the noise subset first (its second-seed runs are kept), then a seeded
    draw from the others."""
    base = _noise_subset(n_layouts, settings)[: settings.seed_layouts] if settings.noise_layouts else []
    rest = sorted(set(range(n_layouts)) - set(base))
    extra = np.random.default_rng(settings.sample_seed + 3).choice(rest, size=settings.seed_layouts - len(base),
                                                                    replace=False).tolist()
    return sorted(base + [int(i) for i in extra])


def _layout_entry(i: int, label: str, lay: Layout, space: Space) -> LayoutEntry:
    return LayoutEntry(id=i, label=label, schedule=space.schedules.index(lay.pools), M=lay.M,
                       channels=list(lay.channels), params=lay.param_count())


def new_table(task: Task, space: Space, settings: BenchSettings, device: str,
              chosen: list[tuple[str, Layout]] | None = None) -> Table:
    """An empty table: the layouts ``chosen`` (as ``verify`` picks them), or else the space's
    size-matched candidates."""
    if chosen is not None:
        layouts, complete = chosen, False
    else:
        layouts, complete = candidate_layouts(space, settings.band, settings.layouts, settings.sample_seed)
    if len(layouts) > MAX_TABLE_LAYOUTS:
        raise InputError(f"{len(layouts)} layouts, over the limit of {MAX_TABLE_LAYOUTS} for one table",
                         space.source, "budget")
    if not layouts:
        raise InputError(f"no layout of the space has between {settings.band} x {space.max_params} and "
                         f"{space.max_params} parameters", space.source, "budget")
    return Table(
        format=FORMAT, archsearch_version=__version__,
        created=datetime.datetime.now().isoformat(timespec="seconds"),
        task=TaskEntry(name=task.name, file=task.source, input_shape=list(task.input_shape)),
        space=SpaceEntry(name=space.name, file=space.source, schedules=[list(map(list, s)) for s in space.schedules],
                         max_params=space.max_params, band=settings.band, complete_grid=complete),
        settings=settings, device=device,
        layouts=[_layout_entry(i, label, lay, space) for i, (label, lay) in enumerate(layouts)], runs=[])


# -- workers ---------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(task_path: str, settings: dict[str, Any], classes: int, in_channels: int, cache: str,
                 device: str, parent: int, threads: int | None) -> None:
    from archsearch.formats.task import load_task
    from archsearch.train.data import load_task_data
    from archsearch.train.runs import start_worker

    _WORKER.clear()
    try:  # an error is kept and raised by the first job: a pool whose initializer raises would hang
        start_worker(device, threads, parent)
        task = load_task(task_path)
        _WORKER.update(device=device, settings=settings, data=load_task_data(
            task, classes, in_channels, settings["train"], settings["test"], cache, val=settings["val"]))
    except Exception as exc:  # noqa: BLE001 - raised again by the first job, in the parent
        _WORKER["init_error"] = exc


def _train_one(job: tuple[int, int, dict[str, Any]]) -> dict[str, Any]:
    if "init_error" in _WORKER:
        raise _WORKER["init_error"]
    layout_id, seed, layout = job
    return train_run(layout_id, seed, layout, _WORKER["settings"], _WORKER["data"], _WORKER["device"])


def open_table(task: Task, space: Space, settings: BenchSettings, out: Path,
               chosen: list[tuple[str, Layout]] | None, device: str) -> Table:
    """The table at ``out`` (refused when made with other settings or files, except more ``seeds``: a table
    grows to more seeds per layout, keeping its runs), or a new, empty one."""
    if not out.exists():
        table = new_table(task, space, settings, device, chosen)
        table.path = out
        return table
    table = Table.load(out, locate=False)
    stored = table.settings
    if stored != settings and settings.seeds > stored.seeds:
        # more seeds (for every layout, or a seeded subset): the runs already there are kept (seed s of
        # layout i is the same run under either plan), the missing seeds are planned
        grown = replace(stored, seeds=settings.seeds, seed_layouts=settings.seed_layouts)
        if grown == settings:
            table.settings = grown
    if table.settings != settings or table.task.name != task.name or table.space.name != space.name:
        raise InputError(f"this table was built with other settings or files ({table.task.name}, "
                         f"{table.space.name}, {asdict(table.settings)}); give the same, or another --out",
                         out, "settings")
    return table


def todo_runs(table: Table, settings: BenchSettings) -> list[tuple[int, int]]:
    """The planned runs the table lacks: first seed 0 of every layout with no run yet, then the rest, each
    part in a seeded random order. A table stopped part way is a fair sample of its grid (not its first
    rows), and the whole grid, which replays and a full ranking need, is covered first."""
    done = {(r.layout, r.seed) for r in table.runs}
    trained = {r.layout for r in table.runs}
    todo = [(i, s) for i, s in planned_runs(len(table.layouts), settings) if (i, s) not in done]
    shuffled = [todo[k] for k in np.random.default_rng(settings.sample_seed + 2).permutation(len(todo))]
    return sorted(shuffled, key=lambda run: run[0] in trained or run[1] > 0)  # stable: each part stays shuffled


def build_table(task: Task, space: Space, settings: BenchSettings, out: str | Path, *, workers: int = 1,
                device: str = "cpu", cache_dir: str | Path = "runs/.cache",
                on_run: Callable[[dict[str, Any], int, int], None] | None = None,
                chosen: list[tuple[str, Layout]] | None = None, threads: int | None = 1) -> Table:
    """Build (or resume) the table at ``out``; returns it. ``on_run(run, done, total)`` after each run;
    ``chosen``: train these layouts rather than the space's size-matched ones; ``threads``: torch threads
    per CPU worker (None: torch's default, all cores)."""
    import multiprocessing as mp

    from archsearch.train.data import load_task_data

    out = Path(out)
    table = open_table(task, space, settings, out, chosen, device)
    # the data set is built (and cached) here once, so that workers only read it
    load_task_data(task, space.classes, space.in_channels, settings.train, settings.test, cache_dir, val=settings.val)
    todo = todo_runs(table, settings)
    total = len(table.runs) + len(todo)
    table.save(out)
    if not todo:
        return table
    layouts = {e.id: space.layout(e.schedule, e.M, e.channels).to_dict() for e in table.layouts}
    jobs = [(i, s, layouts[i]) for i, s in todo]
    ctx = mp.get_context("spawn")  # no fork of a process that has started torch's thread pools
    init = (task.source, asdict(settings), space.classes, space.in_channels, str(cache_dir), device, os.getpid(),
            threads)
    with ctx.Pool(workers, initializer=_init_worker, initargs=init) as pool:
        for run in pool.imap_unordered(_train_one, jobs):
            table.add_run(run)
            table.save(out)
            if on_run is not None:
                on_run(run, len(table.runs), total)
    return table


# -- a table built through an Optuna study: many workers, on many machines ------------------------------
def table_study(table: Table, settings: BenchSettings, study: Any) -> None:
    """Make ``study`` hold the table: runs the table already has become COMPLETE trials, every missing one
    is enqueued (once: a run the study holds in any state but FAIL is not enqueued again)."""
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import TrialState

    n = len(table.layouts)
    dists = {"layout": IntDistribution(0, max(n - 1, 0)), "seed": IntDistribution(0, 10_000)}
    held: set[tuple[int, int]] = set()
    for t in study.get_trials(deepcopy=False):
        p = t.params if t.params else t.system_attrs.get("fixed_params", {})
        if "layout" in p and t.state != TrialState.FAIL:
            held.add((int(p["layout"]), int(p["seed"])))
    for r in table.runs:
        if (r.layout, r.seed) not in held:
            study.add_trial(optuna.trial.create_trial(
                params={"layout": r.layout, "seed": r.seed}, distributions=dists,
                value=float(r.val_accuracy or 0.0), user_attrs={"run": r.model_dump(exclude_none=True)}))
            held.add((r.layout, r.seed))
    for i, seed in todo_runs(table, settings):
        if (i, seed) not in held:
            study.enqueue_trial({"layout": i, "seed": seed})


def sync_table(study: Any, table: Table, out: str | Path, extra: list[dict[str, Any]] = ()) -> Table:
    """Rewrite the table at ``out`` with every run the study has completed, and the rows ``extra`` (a run
    finished a moment ago, before its trial is stored COMPLETE); atomically."""
    from optuna.trial import TrialState

    from archsearch.formats.table import RunRow

    runs = {(r.layout, r.seed): r for r in table.runs}
    done = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    for row in [t.user_attrs.get("run") for t in done if not t.user_attrs.get("surplus")] + list(extra):
        if isinstance(row, dict) and (row.get("layout"), row.get("seed")) not in runs:
            runs[(row["layout"], row["seed"])] = RunRow.model_validate(row)
    table.runs = list(runs.values())
    table.save(out)
    return table


def build_on_study(task: Task, space: Space, settings: BenchSettings, out: Path, name: str, storage: str,
                   files: tuple[str, str], *, device: str = "cpu", runs_dir: str | Path = "runs", workers: int = 1,
                   threads: int | None = 1, bar: Any = None) -> tuple[Table, bool]:
    """Build (or resume) the table at ``out`` through the Optuna study ``name`` on ``storage``: its runs are
    the study's trials, trained by this process, ``workers - 1`` helpers here and any ``archsearch worker``
    elsewhere; the table is rewritten from the study as runs complete here, and at the end. ``files``: the
    task and space files as given (the recipe stores their text). Returns the table and whether a signal
    stopped the work."""
    from archsearch.search import study as search
    from archsearch.search.recipe import Recipe
    from archsearch.search.worker import prepare, work_with_helpers

    table = open_table(task, space, settings, out, None, device)
    total = len(planned_runs(len(table.layouts), settings))  # the study is done when it holds them all
    recipe = Recipe.from_files(files[0], files[1], kind="bench", mode="bench", trials=total,
                               epochs=settings.epochs, seed=settings.sample_seed, max_failures=10**6,
                               bench={"settings": asdict(settings), "layouts": [e.model_dump() for e in table.layouts],
                                      "out": str(out)})
    work = prepare(recipe, name, device=device, runs_dir=runs_dir, threads=threads)
    study = search.open_study(name, storage, fp=work.fingerprint, create=True)
    study.set_user_attr("fingerprint", work.fingerprint)
    table.save(out)
    table_study(table, settings, study)
    recipe.store(study)
    from archsearch.search.dashboard import describe_study

    describe_study(study, recipe, task, space)
    objective = work.objective

    def and_save(trial: Any) -> float:  # every run this process finishes rewrites the table with all runs so far
        value = objective(trial)
        sync_table(study, table, out, extra=[trial.user_attrs["run"]])
        return value

    work.objective = and_save
    if bar is not None:
        bar.total = total
        bar.refresh()
    try:
        outcome = work_with_helpers(study, work, storage, workers=workers, runs_dir=runs_dir, threads=threads,
                                    progress=False, bar=bar)
    finally:
        table = sync_table(study, table, out)
    return table, bool(outcome.stopped)
