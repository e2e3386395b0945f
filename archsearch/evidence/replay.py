"""Whole searches replayed against a complete-grid benchmark table: nothing is trained.

A strategy's sampler proposes layouts of the table's space; a proposal the table holds is "trained" by
reading its recorded accuracy (mean validation accuracy over its seeds: what the search sees; test is
reported beside it). As in a real trained search, proposals that need no training do not count: one over
the budget or outside the table's size band (the search's space is the band), one below the prior's floor
(the ``warm-floor`` strategy), one proposed again (answered from the study). Each repeat is a fresh
in-memory study with its own seed; a search stops after ``budget`` counted trials (or 20 x ``budget``
proposals). ``balanced``, ``bottleneck`` and ``leximin`` have no sampler: they train the table's layouts
in the balanced rule's order (:func:`~archsearch.evidence.baselines.balanced_order`), the bottleneck
rule's (:func:`~archsearch.evidence.baselines.bottleneck_order`) or the leximin rule's
(:func:`~archsearch.evidence.baselines.leximin_order`), the task-blind baselines every prior-led strategy
should beat.

Per strategy, over the repeats: the number of counted trials until the best validation accuracy found is
within ``within`` (1 point) of the table's best (a search that never gets there counts ``budget + 1``),
as median and interquartile range; the validation regret (table's best minus best found) after 5, 10
and 20 trials; and the test accuracy of the layout the search would select (best validation so far).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.errors import InputError

if TYPE_CHECKING:
    from archsearch.evidence.table import Table
    from archsearch.formats.space import Space
    from archsearch.formats.task import Task
    from archsearch.prior.score import Prior

__all__ = ["FIXED", "ORDERS", "STRATEGIES", "ReplayResult", "check_replayable", "replay", "replay_table", "summarise"]

#: the strategies ``bench replay`` knows, in the order reported: the search strategies
#: (:data:`~archsearch.search.strategies.STRATEGIES`) and the task-blind orders (:data:`ORDERS`)
STRATEGIES = ("random", "tpe", "warm-floor", "guided", "prior-top", "balanced", "bottleneck", "leximin")
#: the task-blind strategies: a fixed order of the table's layouts, no sampler
ORDERS = ("balanced", "bottleneck", "leximin")
#: strategies whose order is fixed: one search stands for every repeat
FIXED = ("prior-top", *ORDERS)
CHECKPOINTS = (5, 10, 20)


@dataclass(frozen=True)
class ReplayResult:
    """One strategy's repeats: per repeat the validation and test accuracy of each counted trial."""

    name: str
    val: list[list[float]]
    test: list[list[float]]


def _lookup(table: Table) -> dict[tuple, tuple[float, float]]:
    return {r.key: (r.val_accuracy, r.test_accuracy) for r in table.rows()}


def _one_search(space: Space, prior: Prior, lookup: dict[tuple, tuple[float, float]], sampler, budget: int,
                floor: float) -> tuple[list[float], list[float]]:
    import optuna

    from archsearch.search.objectives import suggest_layout

    val: list[float] = []
    test: list[float] = []
    seen: dict[tuple, tuple[float, int]] = {}  # layout: its value and the trial that "trained" it

    def objective(trial: optuna.Trial) -> float:
        lay = suggest_layout(trial, space)
        key = (space.schedules.index(lay.pools), lay.M, lay.channels)
        if key in seen:  # proposed again: answered from the study, not trained (marked as a search marks it)
            trial.set_user_attr("duplicate_of", seen[key][1])
            return seen[key][0]
        got = lookup.get(key)
        if got is None:  # over the budget or outside the table's band: never trained
            raise optuna.TrialPruned()
        if floor > -np.inf and prior(lay).score < floor:
            raise optuna.TrialPruned()
        seen[key] = (got[0], trial.number)
        val.append(got[0])
        test.append(got[1])
        return got[0]

    def stop(study: optuna.Study, trial: Any) -> None:
        if len(val) >= budget:  # (n_trials caps the proposals at 20 x budget)
            study.stop()

    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=20 * budget, callbacks=[stop])
    return val[:budget], test[:budget]


_STATE: dict[str, Any] = {}  # a worker process's table, task, space, prior and floor


def _setup(table: Table, task: Task, space: Space, prior: Prior, guided: dict[str, Any]) -> None:
    """A worker's state. An error here is kept and raised by its first job: a pool whose initializer
    raises replaces the dead worker for ever, and the replay would hang instead of saying why."""
    import optuna

    from archsearch.search.warm_floor import prior_floor

    _STATE.clear()
    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        _STATE.update(lookup=_lookup(table), task=task, space=space, prior=prior, guided=guided,
                      floor=prior_floor(space, prior, seed=0))
    except Exception as exc:  # noqa: BLE001 - raised again by the first job, in the parent
        _STATE["init_error"] = exc


def order_search(space: Space, lookup: dict[tuple, tuple[float, float]], budget: int, rule: str = "balanced"
                 ) -> tuple[list[float], list[float]]:
    """A task-blind rule's search: the table's layouts trained in the rule's order (``balanced``: narrowest
    layer widest, then the least spread of log2 widths, then the most parameters; ``bottleneck``: the
    fewest layers that narrow before the spread; ``leximin``: the sorted widths from the narrowest up; no
    task, no sampler)."""
    from archsearch.evidence.baselines import balanced_order, bottleneck_order, leximin_order

    keys = sorted(lookup)
    rank = {"balanced": balanced_order, "bottleneck": bottleneck_order, "leximin": leximin_order}[rule]
    order = rank([space.layout(s, m, list(ch)) for s, m, ch in keys])[:budget]
    return [lookup[keys[i]][0] for i in order], [lookup[keys[i]][1] for i in order]


def _job(job: tuple[str, int, int]) -> tuple[str, int, list[float], list[float]]:
    from archsearch.search.strategies import make_sampler

    name, r, budget = job
    s = _STATE
    if "init_error" in s:
        raise s["init_error"]
    if name in ORDERS:
        return name, r, *order_search(s["space"], s["lookup"], budget, name)
    # warm-floor's picks are the same in every repeat (seed 0), as in a real search's workers
    sampler = make_sampler(name, s["space"], s["prior"], r, budget, task=s["task"],
                           guide_seed=0 if name == "warm-floor" else r,
                           options=s["guided"] if name == "guided" else None)
    v, t = _one_search(s["space"], s["prior"], s["lookup"], sampler, budget,
                       s["floor"] if name == "warm-floor" else -np.inf)
    return name, r, v, t


def replay(table: Table, task: Task, space: Space, prior: Prior, strategies: Sequence[str] = STRATEGIES,
           repeats: int = 200, budget: int = 50, seed: int = 0, guided: dict[str, Any] | None = None,
           on_repeat: Callable[[str, int], None] | None = None, workers: int = 1) -> list[ReplayResult]:
    """Replay ``repeats`` searches of ``budget`` counted trials per strategy against ``table`` (repeat r of
    every strategy uses seed ``seed + r``; ``prior-top`` and ``balanced`` are deterministic and run once). ``workers``:
    processes sharing the repeats (each single-threaded); the results do not depend on it."""
    jobs = [(name, seed + r, budget) for name in strategies for r in range(repeats if name not in FIXED else 1)]
    done: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
    workers = min(workers, len(jobs))  # never more processes than jobs
    if workers <= 1:
        _setup(table, task, space, prior, guided or {})
        results = map(_job, jobs)
        pool = None
    else:
        import multiprocessing as mp

        pool = mp.get_context("spawn").Pool(workers, initializer=_setup,
                                            initargs=(table, task, space, prior, guided or {}))
        results = pool.imap_unordered(_job, jobs, chunksize=4)
    try:
        for name, r, v, t in results:
            done[(name, r)] = (v, t)
            if on_repeat is not None:
                on_repeat(name, r - seed)
    finally:
        if pool is not None:
            pool.terminate()
    out = []
    for name in strategies:
        runs = [done[(n, r)] for n, r, _ in jobs if n == name]
        out.append(ReplayResult(name, [v for v, _ in runs], [t for _, t in runs]))
    return out


def _curves(result: ReplayResult, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Per repeat, the best validation accuracy so far after each counted trial, and the test accuracy of
    the layout selected then (NaN-padded where a search ran out of proposals)."""
    best = np.full((len(result.val), budget), np.nan)
    chosen = np.full_like(best, np.nan)
    for i, (v, t) in enumerate(zip(result.val, result.test, strict=True)):
        if not v:
            continue
        v, t = np.asarray(v), np.asarray(t)
        running = np.maximum.accumulate(v)
        idx = np.array([int(np.argmax(v[: k + 1])) for k in range(len(v))])
        best[i, : len(v)], chosen[i, : len(v)] = running, t[idx]
        best[i, len(v):], chosen[i, len(v):] = running[-1], t[idx[-1]]
    return best, chosen


def summarise(results: Sequence[ReplayResult], table: Table, budget: int, within: float = 0.01
              ) -> dict[str, Any]:
    """The figures ``bench replay --json`` prints (see the module docstring)."""
    lookup = _lookup(table)
    top = max(v for v, _ in lookup.values())
    out: dict[str, Any] = {}
    for res in results:
        best, chosen = _curves(res, budget)
        reached = np.where(best >= top - within - 1e-12, np.arange(1, budget + 1), budget + 1).min(axis=1)
        q25, median, q75 = np.percentile(reached, [25, 50, 75])
        regret = top - best
        out[res.name] = {
            "trials_to_within_1pt": {"median": float(median), "q25": float(q25), "q75": float(q75)},
            "regret_at": {str(k): float(np.nanmedian(regret[:, k - 1])) for k in CHECKPOINTS if k <= budget},
            "mean_regret_at": {str(k): float(np.nanmean(regret[:, k - 1])) for k in CHECKPOINTS if k <= budget},
            "test_at": {str(k): float(np.nanmean(chosen[:, k - 1])) for k in CHECKPOINTS if k <= budget},
            "never_within": float(np.mean(reached > budget)),
            "repeats": len(res.val),
            "regret_curve": [float(x) for x in np.nanmedian(regret, axis=0)],
            "regret_q25": [float(x) for x in np.nanpercentile(regret, 25, axis=0)],
            "regret_q75": [float(x) for x in np.nanpercentile(regret, 75, axis=0)],
        }
    return out


def check_replayable(table: Table, budget: int) -> None:
    """Refuse, in one line, a table a replay cannot answer: not a complete grid, a layout of its grid without
    a run (it would read as one outside the band, never counted: a search over the trained ones only), fewer
    than 2 trained layouts, or fewer than ``budget``."""
    where = table.path or table.name
    if not table.space.complete_grid:
        raise InputError("replay needs a complete-grid table (a sample cannot answer every proposal)", where,
                         "space.complete_grid")
    tried = {r.layout for r in table.runs}
    if len(tried) < len(table.layouts):
        raise InputError(f"replay needs every layout of the grid trained: {len(tried)} of {len(table.layouts)} "
                         "have runs (the same `bench build` trains the rest)", where, "runs")
    trained = len({r.layout for r in table.finished()})
    if trained < 2:
        raise InputError(f"{trained} trained layout(s): a replay needs at least 2", where, "runs")
    if budget > trained:  # a search could never count that many distinct trainings
        raise InputError(f"{budget} trials per search, but the table holds {trained} trained layouts; "
                         f"give at most {trained}", field="--budget-trials")


def replay_table(table: Table, task: Task, space: Space, strategies: Sequence[str] = STRATEGIES, repeats: int = 200,
                 budget: int = 50, seed: int = 0, *, prior_kind: str = "needs", invert_prior: bool = False,
                 workers: int = 1, on_repeat: Callable[[str, int], None] | None = None,
                 guided: dict[str, Any] | None = None) -> dict[str, Any]:
    """``bench replay``'s answer: ``repeats`` searches of ``budget`` counted trials per strategy against a
    complete-grid ``table``, with the prior of ``task`` (variant ``prior_kind``; upside down with
    ``invert_prior``; ``guided``: the guided sampler's settings, such as ``spread``), summarised
    (:func:`summarise`)."""
    from archsearch.prior.score import InvertedPrior, Prior

    check_replayable(table, budget)
    where = table.path or table.name
    prior = Prior.for_task(task, space, prior_kind)
    if invert_prior:
        prior = InvertedPrior(prior)
    strategies = list(dict.fromkeys(strategies))
    results = replay(table, task, space, prior, strategies, repeats, budget, seed, guided=guided,
                     on_repeat=on_repeat, workers=workers)
    out = {"table": str(where), "table_runs": len(table.finished()), "repeats": repeats, "budget_trials": budget,
           "task": task.name, "prior": prior_kind, "prior_inverted": invert_prior}
    if guided:
        out["guided"] = dict(guided)
    return {**out, "strategies": summarise(results, table, budget)}
