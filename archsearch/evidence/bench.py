"""Benchmark tables of trained layouts: what the prior is judged against.

A table holds layouts **matched in size** (parameter count between ``band`` x budget and the budget) of
one search space, each trained on one task: every such layout when the space is a finite grid small
enough (a complete grid, the way NAS-Bench-201 tabulates its space, so whole searches can be replayed
against it), else a fixed, seeded sample; plus the paper's pair and the uniform layout at the budget
when the space allows them. Every run records the layout, seed, validation and test accuracy, the
per-epoch curves, seconds, device, the training settings and the archsearch version.

The file is plain JSON (:data:`FORMAT`), documented in the README, loadable with ``json`` or pandas
alone. A build is resumable: the table is rewritten atomically after every finished run, and the same
command trains only the runs it lacks, in a seeded random order (a table stopped part way is a fair
sample of its layouts). ``workers`` training processes run at once (spawned; on CPU each
single-threaded, on a GPU all on the one device).
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archsearch import __version__
from archsearch.core.layout import Layout
from archsearch.formats.space import Space
from archsearch.formats.table import FORMAT, MAX_TABLE_LAYOUTS, read_table
from archsearch.formats.task import Task
from archsearch.formats.yamlio import InputError

__all__ = [
    "FORMAT", "MAX_GRID", "BenchSettings", "bench_objective", "build_table", "candidate_layouts", "load_table",
    "locate_file", "open_table", "planned_runs", "save_table", "sync_table", "table_study", "table_summary",
    "todo_runs", "train_run",
]

#: a space with at most this many channel layouts (before the size band) is tabulated completely
MAX_GRID = 20_000
#: a sampled table draws at most this many layouts per layout asked for (each draw tries the budget up to
#: 50 times): about a second per 100 layouts asked for
SAMPLE_DRAWS = 20


@dataclass(frozen=True)
class BenchSettings:
    """What a table's runs are: the training settings and how layouts and seeds are chosen. A resumed
    build must have the same, so that every run of a table is comparable."""

    epochs: int = 12
    seeds: int = 1
    noise_layouts: int = 40  #: with one seed, this many layouts (a seeded subset) get a second seed
    #: with several seeds: 0, every layout gets every seed; N, only a seeded subset of N layouts (holding the
    #: ``noise_layouts`` subset, so a table grown from one seed keeps its second-seed runs) gets seeds 1..S-1
    seed_layouts: int = 0
    band: float = 0.85
    layouts: int = 300  #: sample size when the space is no small finite grid
    train: int = 8000
    val: int = 2000
    test: int = 2000
    data_seed: int = 0
    sample_seed: int = 0
    model: str = "convnet"


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


def _layout_entry(i: int, label: str, lay: Layout, space: Space) -> dict[str, Any]:
    return {"id": i, "label": label, "schedule": space.schedules.index(lay.pools), "M": lay.M,
            "channels": list(lay.channels), "params": lay.param_count()}


def new_table(task: Task, space: Space, settings: BenchSettings, device: str,
              chosen: list[tuple[str, Layout]] | None = None) -> dict[str, Any]:
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
    return {
        "format": FORMAT, "archsearch_version": __version__,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "task": {"name": task.name, "file": task.source, "input_shape": list(task.input_shape)},
        "space": {"name": space.name, "file": space.source, "schedules": [list(map(list, s)) for s in space.schedules],
                  "max_params": space.max_params, "band": settings.band, "complete_grid": complete},
        "settings": asdict(settings), "device": device,
        "layouts": [_layout_entry(i, label, lay, space) for i, (label, lay) in enumerate(layouts)],
        "runs": [],
    }


def save_table(path: str | Path, table: dict[str, Any]) -> None:
    """Write under a temporary name, then rename: a reader or a kill never meets half a table."""
    from archsearch.formats.files import write_atomic

    write_atomic(path, json.dumps(table, separators=(",", ":")) + "\n")


def load_table(path: str | Path, locate: bool = False) -> dict[str, Any]:
    """A table file, checked against its schema (:func:`~archsearch.formats.table.read_table`). ``locate``
    (readers, never a build that writes the table back): the task and space files it names are found
    wherever the command runs (:func:`locate_file`)."""
    path = Path(path)
    table = read_table(path)  # the whole schema, bounded; one line naming the field otherwise
    if locate:
        for key in ("task", "space"):
            if isinstance(table[key], dict) and isinstance(table[key].get("file"), str):
                table[key]["file"] = locate_file(table[key]["file"], path)
    return table


def table_task_space(table: dict[str, Any], path: str | Path, task_path: str | None = None,
                     space_path: str | None = None) -> tuple[Task, Space]:
    """The task (``task_path``, else the table's) and space (``space_path``, else the table's) of the table
    loaded with ``locate`` from ``path``: checked to match each other, and the space to hold every layout of
    the table (errors about the table name ``path``)."""
    from archsearch.formats.space import load_space
    from archsearch.formats.table import check_table_space
    from archsearch.formats.task import load_task

    task = load_task(task_path or table["task"]["file"])
    space = load_space(space_path or table["space"]["file"])
    if task.input_shape != space.input_shape:
        raise InputError(f"the task's input_shape {list(task.input_shape)} is not the space's "
                         f"{list(space.input_shape)}", task_path or table["task"]["file"], "input_shape")
    check_table_space(table, space, path)
    return task, space


def locate_file(stored: str, table_path: str | Path) -> str:
    """A file a table names, as stored when it was built (relative to the folder it was built from, e.g.
    ``tasks/x.yaml``): as is if absolute or found from the working directory, else from the table's folder
    or the nearest folder above it that has it (a checkout's root, for the shipped tables), else as stored
    (the reader then says "no such file")."""
    if Path(stored).is_absolute() or Path(stored).exists():
        return stored
    for folder in Path(table_path).resolve().parents:
        if (folder / stored).exists():
            return str(folder / stored)
    return stored


# -- workers ---------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """A worker whose build was killed (kill -9 of the parent) stops too, instead of training on."""
    import time

    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(1.0)


def _init_worker(task_path: str, settings: dict[str, Any], classes: int, in_channels: int, cache: str,
                 device: str, parent: int, threads: int | None) -> None:
    import torch

    from archsearch.formats.task import load_task
    from archsearch.train.data import load_task_data

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if device == "cpu" and threads is not None:
        torch.set_num_threads(threads)  # W single-threaded processes hold up when the machine is shared
    task = load_task(task_path)
    _WORKER.update(device=device, settings=settings, data=load_task_data(
        task, classes, in_channels, settings["train"], settings["test"], cache, val=settings["val"]))


def _train_one(job: tuple[int, int, dict[str, Any]]) -> dict[str, Any]:
    layout_id, seed, layout = job
    return train_run(layout_id, seed, layout, _WORKER["settings"], _WORKER["data"], _WORKER["device"])


def train_run(layout_id: int, seed: int, layout: dict[str, Any], s: dict[str, Any], data: Any,
              device: str) -> dict[str, Any]:
    """One run of a table: the layout (as a dict) trained with the table's settings ``s``; its row."""
    import time

    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.train.loop import TrainConfig, TrainingFailed, train
    from archsearch.train.models import build_model

    cfg = TrainConfig(epochs=s["epochs"], seed=seed, device=device)
    t0 = time.perf_counter()
    row: dict[str, Any] = {"layout": layout_id, "seed": seed}
    try:
        out = train(build_model(layout_from_dict(layout), s["model"], seed=seed), data, cfg)
    except TrainingFailed as exc:
        return {**row, "failed": str(exc), "seconds": time.perf_counter() - t0, "device": device}
    h = out["history"]
    return {**row, "val_accuracy": out["val_accuracy"], "test_accuracy": out["test_accuracy"],
            "val_curve": [round(r["val_accuracy"], 5) for r in h],
            "test_curve": [round(r["test_accuracy"], 5) for r in h],
            "loss_curve": [round(r["loss"], 5) for r in h],
            "seconds": round(time.perf_counter() - t0, 2), "device": out["device"]}


def open_table(task: Task, space: Space, settings: BenchSettings, out: Path,
               chosen: list[tuple[str, Layout]] | None, device: str) -> dict[str, Any]:
    """The table at ``out`` (refused when made with other settings or files, except more ``seeds``: a table
    grows to more seeds per layout, keeping its runs), or a new, empty one."""
    if out.exists():
        table = load_table(out)
        stored = {"seed_layouts": 0, **table["settings"]}  # tables made before the setting existed
        if stored == asdict(settings):
            table["settings"] = stored
        elif isinstance(stored.get("seeds"), int) and settings.seeds > stored["seeds"]:
            # more seeds (for every layout, or a seeded subset): the runs already there are kept (seed s of
            # layout i is the same run under either plan), the missing seeds are planned
            grown = {**stored, "seeds": settings.seeds, "seed_layouts": settings.seed_layouts}
            if grown == asdict(settings):
                table["settings"] = grown
        if table["settings"] != asdict(settings) or table["task"]["name"] != task.name or \
                table["space"]["name"] != space.name:
            raise InputError(f"this table was built with other settings or files ({table['task']['name']}, "
                             f"{table['space']['name']}, {table['settings']}); give the same, or another --out",
                             out, "settings")
        return table
    return new_table(task, space, settings, device, chosen)


def todo_runs(table: dict[str, Any], settings: BenchSettings) -> list[tuple[int, int]]:
    """The planned runs the table lacks, in a seeded random order (a table stopped part way is a fair
    sample of its grid, not its first rows)."""
    done = {(r["layout"], r["seed"]) for r in table["runs"]}
    todo = [(i, s) for i, s in planned_runs(len(table["layouts"]), settings) if (i, s) not in done]
    return [todo[k] for k in np.random.default_rng(settings.sample_seed + 2).permutation(len(todo))]


def build_table(task: Task, space: Space, settings: BenchSettings, out: str | Path, *, workers: int = 1,
                device: str = "cpu", cache_dir: str | Path = "runs/.cache",
                on_run: Callable[[dict[str, Any], int, int], None] | None = None,
                chosen: list[tuple[str, Layout]] | None = None, threads: int | None = 1) -> dict[str, Any]:
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
    total = len(table["runs"]) + len(todo)
    save_table(out, table)
    if not todo:
        return table
    layouts = {e["id"]: space.layout(e["schedule"], e["M"], e["channels"]).to_dict() for e in table["layouts"]}
    jobs = [(i, s, layouts[i]) for i, s in todo]
    ctx = mp.get_context("spawn")  # no fork of a process that has started torch's thread pools
    init = (task.source, asdict(settings), space.classes, space.in_channels, str(cache_dir), device, os.getpid(),
            threads)
    with ctx.Pool(workers, initializer=_init_worker, initargs=init) as pool:
        for run in pool.imap_unordered(_train_one, jobs):
            table["runs"].append(run)
            save_table(out, table)
            if on_run is not None:
                on_run(run, len(table["runs"]), total)
    return table


def table_summary(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Per layout: its entry with the mean validation and test accuracy over its runs, and the runs'
    seeds (layouts without a finished run are left out)."""
    by_layout: dict[int, list[dict[str, Any]]] = {}
    for r in table["runs"]:
        if "val_accuracy" in r:
            by_layout.setdefault(r["layout"], []).append(r)
    rows = []
    for e in table["layouts"]:
        runs = by_layout.get(e["id"])
        if runs:
            rows.append({**e, "val_accuracy": float(np.mean([r["val_accuracy"] for r in runs])),
                         "test_accuracy": float(np.mean([r["test_accuracy"] for r in runs])),
                         "seeds": sorted(r["seed"] for r in runs)})
    return rows


# -- a table built through an Optuna study: many workers, on many machines ------------------------------
def table_study(table: dict[str, Any], settings: BenchSettings, study: Any) -> None:
    """Make ``study`` hold the table: runs the table already has become COMPLETE trials, every missing one
    is enqueued (once: a run the study holds in any state but FAIL is not enqueued again)."""
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import TrialState

    n = len(table["layouts"])
    dists = {"layout": IntDistribution(0, max(n - 1, 0)), "seed": IntDistribution(0, 10_000)}
    held: set[tuple[int, int]] = set()
    for t in study.get_trials(deepcopy=False):
        p = t.params if t.params else t.system_attrs.get("fixed_params", {})
        if "layout" in p and t.state != TrialState.FAIL:
            held.add((int(p["layout"]), int(p["seed"])))
    for r in table["runs"]:
        if (r["layout"], r["seed"]) not in held:
            study.add_trial(optuna.trial.create_trial(
                params={"layout": r["layout"], "seed": r["seed"]}, distributions=dists,
                value=float(r.get("val_accuracy", 0.0)), user_attrs={"run": r}))
            held.add((r["layout"], r["seed"]))
    for i, seed in todo_runs(table, settings):
        if (i, seed) not in held:
            study.enqueue_trial({"layout": i, "seed": seed})


def sync_table(study: Any, table: dict[str, Any], out: str | Path, extra: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """Rewrite the table at ``out`` with every run the study has completed, and the rows ``extra`` (a run
    finished a moment ago, before its trial is stored COMPLETE); atomically."""
    from optuna.trial import TrialState

    runs = {(r["layout"], r["seed"]): r for r in table["runs"]}
    done = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    for row in [t.user_attrs.get("run") for t in done if not t.user_attrs.get("surplus")] + list(extra):
        if isinstance(row, dict):
            runs.setdefault((row["layout"], row["seed"]), row)
    table["runs"] = list(runs.values())
    save_table(out, table)
    return table


def bench_objective(recipe: Any, task: Task, space: Space, device: str, cache_dir: str | Path):
    """The objective of a table's study: a trial is one enqueued run (``layout``, ``seed``), trained with
    the table's settings; its row is the user attribute ``run`` and its value the validation accuracy
    (0 for a run whose training failed: the row says why, as in a table built without a study)."""
    import optuna

    from archsearch.train.data import load_task_data

    s, layouts = recipe.bench["settings"], recipe.bench["layouts"]
    data = load_task_data(task, space.classes, space.in_channels, s["train"], s["test"], cache_dir, val=s["val"])
    by_id = {e["id"]: space.layout(e["schedule"], e["M"], e["channels"]).to_dict() for e in layouts}

    def objective(trial: optuna.Trial) -> float:
        fixed = trial.storage.get_trial(trial._trial_id).system_attrs.get("fixed_params", {})
        if not {"layout", "seed"} <= fixed.keys():  # not a planned run (whole): never train what nobody planned
            trial.set_user_attr("skipped", "no planned run left to take")
            raise optuna.TrialPruned("no planned run left")
        i = trial.suggest_int("layout", 0, max(len(layouts) - 1, 0))
        seed = trial.suggest_int("seed", 0, 10_000)
        row = train_run(i, seed, by_id[i], s, data, device)
        trial.set_user_attr("run", row)
        return float(row.get("val_accuracy", 0.0))

    return objective
