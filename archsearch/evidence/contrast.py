"""Two tables of the same layouts on two tasks (a task and its control): does a predictor change its
ordering the way training does?

A prior that reads a task's profile should prefer other layouts when the data's correlations move
(MNIST-1D against its scrambled twin, local against global digits). One table cannot show that; two can.
On the layouts both tables trained, each side's values become percentile ranks (0 worst, 1 best, ties
averaged), so accuracies of very different levels compare; a layout's *change* is its percentile on B
minus on A. Training's change is the measured one; a predictor's is that of its scores (on A with A's
task and data, on B with B's). Reported per predictor: Kendall's tau of its change against training's
(with a bootstrap interval; NaN when its scores do not change at all), how much it reorders (tau of its
scores on A against on B), how many of its top-k picks it keeps, its top pick on each side, and how its
*preferred layouts* move as a group: the per-layer mean log2 width of its top share of layouts on B minus
on A, and Pearson's r of that shift against training's across the layers (a top pick is one layout, and
training's is measured with one seed; a group is a steadier answer); the same for training itself; and the
change's noise ceiling: seed 0's change against seed 1's on the layouts trained twice on both tables; and,
where both tables have k >= 3 seeds, a held-out seed (:func:`held_out_change`): training's own change from
k - 1 seeds, and each predictor's, judged on the change of the seed left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.errors import InputError
from archsearch.evidence.evaluate import layer_preferences, rank_order, rank_stats
from archsearch.evidence.position import MIN_LAYOUTS

if TYPE_CHECKING:
    from archsearch.evidence.table import Row, Table
    from archsearch.formats.space import Space
    from archsearch.formats.task import Task

__all__ = ["Contrast", "change", "change_ceiling", "contrast", "contrast_tables", "held_out_change", "percentiles",
           "preferred_agreement",
           "preferred_count", "preferred_shift", "resampled_shifts", "shared_layouts"]


def shared_layouts(rows_a: list[Row], rows_b: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows of each table (:meth:`~archsearch.evidence.table.Table.rows`) for the layouts both have, in
    one order (A's)."""
    by_b = {r.key: r for r in rows_b}
    pairs = [(r, by_b[r.key]) for r in rows_a if r.key in by_b]
    return [a for a, _ in pairs], [b for _, b in pairs]


def percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's rank among ``values`` scaled to [0, 1] (0 the lowest; ties share their mean rank)."""
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return np.zeros(len(values))
    return (rankdata(values) - 1) / (len(values) - 1)


def change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per layout, its percentile among ``b`` minus its percentile among ``a``: how far it moved (ranks
    subtracted before scaling, so equal moves are equal exactly and ties stay ties)."""
    from scipy.stats import rankdata

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2:
        return np.zeros(len(a))
    return (rankdata(b) - rankdata(a)) / (len(a) - 1)


def preferred_count(n: int, share: float) -> int:
    """How many of ``n`` layouts make up the top ``share`` (at least one)."""
    return max(1, round(share * n))


def preferred_shift(a: np.ndarray, b: np.ndarray, log_widths: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """Per layer, the mean of ``log_widths`` (layouts x layers) over the top ``share`` of layouts by ``b``
    minus over the top ``share`` by ``a`` (:func:`preferred_count` of them; ties broken by a seeded order)."""
    k = preferred_count(len(a), share)
    return log_widths[rank_order(b, seed)[:k]].mean(axis=0) - log_widths[rank_order(a, seed)[:k]].mean(axis=0)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1]) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")


def resampled_shifts(a: np.ndarray, b: np.ndarray, log_widths: np.ndarray, share: float = 0.1, seed: int = 0,
                     resamples: int = 2000) -> np.ndarray:
    """(resamples, layers): :func:`preferred_shift` of ``a``, ``b`` on each bootstrap resample of the layouts;
    the resamples depend only on ``seed`` and the number of layouts, so two calls with one seed pair up."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, log_widths.shape[1]))
    for j in range(resamples):
        i = rng.integers(0, len(a), len(a))
        out[j] = preferred_shift(a[i], b[i], log_widths[i], share, seed)
    return out


def preferred_agreement(a: np.ndarray, b: np.ndarray, acc_a: np.ndarray, acc_b: np.ndarray, log_widths: np.ndarray,
                        share: float = 0.1, seed: int = 0, resamples: int = 2000, trained: np.ndarray | None = None
                        ) -> tuple[np.ndarray, float, tuple[float, float]]:
    """A predictor's preferred shift (:func:`preferred_shift` of its scores ``a``, ``b``), Pearson's r of it
    against training's (of ``acc_a``, ``acc_b``) across the layers, and a 95% bootstrap interval of r
    (layouts resampled, both top groups chosen again). r is NaN where either shift is the same at every
    layer (a predictor whose top group does not move). ``trained``: training's :func:`resampled_shifts` with
    the same seed, when already computed (one set serves every predictor)."""
    a, b, acc_a, acc_b = (np.asarray(v, float) for v in (a, b, acc_a, acc_b))
    shift = preferred_shift(a, b, log_widths, share, seed)
    r = _pearson(shift, preferred_shift(acc_a, acc_b, log_widths, share, seed))
    if trained is None:
        trained = resampled_shifts(acc_a, acc_b, log_widths, share, seed, resamples)
    mine = resampled_shifts(a, b, log_widths, share, seed, resamples)
    rs = np.array([_pearson(x, y) for x, y in zip(mine, trained[:resamples], strict=True)])
    rs = rs[np.isfinite(rs)]
    nan = float("nan")
    ci = (float(np.percentile(rs, 2.5)), float(np.percentile(rs, 97.5))) if np.isfinite(r) and len(rs) else (nan, nan)
    return shift, r, ci


def _across(a: np.ndarray, b: np.ndarray, trained: np.ndarray, k: int, seed: int, resamples: int) -> dict[str, Any]:
    """One predictor (or training, ``a``/``b`` its accuracies) across the two tables."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    moved = change(a, b)
    nan = float("nan")
    tau, ci = rank_stats(moved, trained, resamples, seed)[:2] if np.ptp(moved) > 0 else (nan, (nan, nan))
    order_a, order_b = rank_order(a, seed), rank_order(b, seed)
    return {"change_tau": tau, "change_ci": list(ci),
            "between_tau": float(stats.kendalltau(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else nan,
            "top_kept": len(set(order_a[:k].tolist()) & set(order_b[:k].tolist())),
            "top1_a": int(order_a[0]), "top1_b": int(order_b[0])}


def contrast(acc_a: np.ndarray, acc_b: np.ndarray, scores_a: dict[str, np.ndarray], scores_b: dict[str, np.ndarray],
             channels: list[list[int]] | np.ndarray, k: int = 10, seed: int = 0, resamples: int = 2000,
             prefer: float = 0.1) -> dict[str, Any]:
    """Training and every predictor across the two tables (one value per shared layout on each side;
    ``top1_a``/``top1_b`` are indices into that order). ``training``'s change tau is 1 by construction, and
    so is its ``preferred_r``; ``prefer`` is the share of layouts counted as preferred (the preferred-layout
    figures are left out, None, when the layouts differ in depth)."""
    trained = change(acc_a, acc_b)
    out: dict[str, Any] = {"training": _across(acc_a, acc_b, trained, k, seed, resamples)}
    out["predictors"] = {name: _across(scores_a[name], scores_b[name], trained, k, seed, resamples)
                         for name in scores_a}
    same_depth = len(channels) > 0 and len({len(c) for c in channels}) == 1
    log_widths = np.log2(np.asarray(channels, dtype=float)) if same_depth else None
    drawn = (resampled_shifts(acc_a, acc_b, log_widths, prefer, seed, resamples)
             if log_widths is not None and scores_a else None)
    for name, entry in (("training", out["training"]), *out["predictors"].items()):
        if log_widths is None:
            entry.update(preferred_shift=None, preferred_r=None, preferred_ci=[None, None])
            continue
        a, b = (acc_a, acc_b) if name == "training" else (scores_a[name], scores_b[name])
        shift, r, ci = preferred_agreement(a, b, acc_a, acc_b, log_widths, prefer, seed,
                                           0 if name == "training" else resamples, trained=drawn)
        entry.update(preferred_shift=shift.tolist(), preferred_r=r, preferred_ci=list(ci))
    layers_a = layer_preferences(channels, {"trained": acc_a, **scores_a})
    layers_b = layer_preferences(channels, {"trained": acc_b, **scores_b})
    out["layer_shift"] = (None if layers_a is None or layers_b is None else
                          {n: [y - x for x, y in zip(layers_a[n], layers_b[n], strict=True)] for n in layers_a})
    return out


def change_ceiling(table_a: Table, table_b: Table, resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Kendall's tau of seed 0's change against seed 1's, over the layouts trained with both seeds on both
    tables: how well training's change is itself measured (a noise-free predictor's change can agree with
    one run's more than another run's does: up to about the square root, in correlation terms)."""
    ids_b = {table_b.entry_key(e): e.id for e in table_b.layouts}
    seeds_a, seeds_b = table_a.seed_accuracies(), table_b.seed_accuracies()
    rows = []
    for e in table_a.layouts:
        sa, sb = seeds_a.get(e.id, {}), seeds_b.get(ids_b.get(table_a.entry_key(e), -1), {})
        if all(s in d for s in (0, 1) for d in (sa, sb)):
            rows.append((sa[0], sb[0], sa[1], sb[1]))
    if len(rows) < 3:
        return {"layouts": len(rows), "kendall_tau": float("nan"), "tau_ci": [float("nan")] * 2}
    a0, b0, a1, b1 = np.array(rows).T
    tau, ci, _, _ = rank_stats(change(a0, b0), change(a1, b1), resamples, seed)
    return {"layouts": len(rows), "kendall_tau": tau, "tau_ci": list(ci)}


def held_out_change(seeds_a: Sequence[dict[int, float]], seeds_b: Sequence[dict[int, float]],
                    scores_a: dict[str, np.ndarray], scores_b: dict[str, np.ndarray],
                    min_layouts: int = MIN_LAYOUTS) -> dict[str, Any] | None:
    """Training's change against the predictors', judged on a seed none of them saw. ``seeds_a``,
    ``seeds_b``: per shared layout, its accuracy per seed on each table. Over the layouts trained with the
    most seeds k on both (k >= 3, at least ``min_layouts``), for each seed s left out: Kendall tau (ties
    broken) against the change of seed s (B's percentile minus A's) of the change of the other k - 1 seeds'
    means (``training``) and of each predictor's change (NaN for one that does not change); each figure the
    mean over the k choices of s (:func:`~archsearch.evidence.position.leave_one_seed_out`). None when
    there are too few such layouts."""
    from archsearch.evidence.position import full_seeds, leave_one_seed_out

    k, idx, seeds = full_seeds(seeds_a, seeds_b)
    if k < 3 or len(idx) < min_layouts:
        return None
    acc_a = np.array([[seeds_a[i][s] for s in seeds] for i in idx])
    acc_b = np.array([[seeds_b[i][s] for s in seeds] for i in idx])
    moved = {name: change(np.asarray(scores_a[name], float)[idx], np.asarray(scores_b[name], float)[idx])
             for name in scores_a}
    mean = leave_one_seed_out(k, lambda j: change(acc_a[:, j], acc_b[:, j]),
                              {"training": lambda rest: change(acc_a[:, rest].mean(1), acc_b[:, rest].mean(1))},
                              moved)
    return {"seeds": k, "layouts": len(idx), "training": mean.pop("training"), "predictors": mean}


@dataclass(frozen=True)
class Contrast:
    """``bench contrast``'s answer (the JSON it prints is :meth:`to_dict`); ``acc_a``, ``acc_b`` and
    ``scores_a``, ``scores_b`` are kept for its picture."""

    report: dict[str, Any]
    channels: list[list[int]]
    acc_a: np.ndarray
    acc_b: np.ndarray
    scores_a: dict[str, np.ndarray]
    scores_b: dict[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        return self.report


def contrast_tables(table_a: Table, table_b: Table, task_a: Task | None = None, task_b: Task | None = None,
                    space: Space | None = None, predictors: Sequence[str] | None = None, top: int = 10,
                    prefer: float = 0.1, seed: int = 0, runs_dir: str | Path = "runs") -> Contrast:
    """Two tables of one space on two tasks, on the layouts both trained: how each predictor's ordering
    changes against how training's does (module docstring). Each side is scored with its own task
    (``task_a``, ``task_b``; default the tables') and its own images."""
    from archsearch.evidence.evaluate import table_scores
    from archsearch.evidence.predictors import PREDICTORS

    for key in ("name", "schedules", "max_params"):
        if getattr(table_a.space, key) != getattr(table_b.space, key):
            raise InputError(f"the tables are on different spaces ({key} {getattr(table_a.space, key)!r} against "
                             f"{getattr(table_b.space, key)!r}): a contrast compares the same layouts on two tasks",
                             table_b.path, f"space.{key}")
    if table_a.settings.model != table_b.settings.model:
        raise InputError("the tables trained different models", table_b.path, "settings.model")
    if task_a is None or space is None:
        own_a, own_space = table_a.task_space(space_path=space.source if space is not None else None)
        task_a, space = task_a or own_a, space or own_space
    if task_b is None:
        task_b, _ = table_b.task_space(space_path=space.source)
    table_a.check_space(space)
    table_b.check_space(space)
    rows_a, rows_b = shared_layouts(table_a.rows(), table_b.rows())
    if len(rows_a) < 3:
        raise InputError(f"only {len(rows_a)} layout(s) trained on both tables; a contrast needs at least 3",
                         table_b.path, "runs")
    predictors = list(PREDICTORS) if predictors is None else list(predictors)
    scores_a = table_scores(table_a, rows_a, task_a, space, predictors, seed, runs_dir)
    scores_b = table_scores(table_b, rows_b, task_b, space, predictors, seed, runs_dir)
    acc_a = np.array([r.val_accuracy for r in rows_a])
    acc_b = np.array([r.val_accuracy for r in rows_b])
    channels = [r.channels for r in rows_a]
    result = contrast(acc_a, acc_b, scores_a, scores_b, channels, top, seed, prefer=prefer)
    for entry in (result["training"], *result["predictors"].values()):
        entry["top1_a"], entry["top1_b"] = channels[entry["top1_a"]], channels[entry["top1_b"]]
    by_a, by_b = table_a.seed_accuracies(), table_b.seed_accuracies()
    report = {"table_a": str(table_a.path), "table_b": str(table_b.path), "task_a": task_a.name,
              "task_b": task_b.name, "layouts": len(rows_a), "top": top, "prefer": prefer,
              "change_ceiling": change_ceiling(table_a, table_b, seed=seed), **result,
              "held_out_seed": held_out_change([by_a[r.id] for r in rows_a], [by_b[r.id] for r in rows_b],
                                               scores_a, scores_b)}
    return Contrast(report, channels, acc_a, acc_b, scores_a, scores_b)
