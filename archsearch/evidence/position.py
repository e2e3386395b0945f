"""Where the widths sit against which widths: how much of a table's order a task could explain at all.

A rule blind to the task sees a layout's widths but not what each layer does for the task; the most it can
use is the **multiset** of widths (the leximin rule orders multisets). Layouts that are arrangements of one
multiset (8-16-32 against 32-16-8) differ only in *where* the widths sit, which is what a task's partitions
speak to. So a table's ordering splits in two:

* **which widths**: the multisets' own mean accuracies, ranking every layout by its multiset's mean
  (``multiset_tau``; fitted on the table itself, so a little optimistic): about the best any rule blind to
  position could reach;
* **where they sit**: each layout's accuracy less its multiset's mean. Its share of the variance
  (``within_share``) says how large it is; its seed-to-seed correlation (``residual``: each seed's residuals
  against another seed's, Spearman's rho, corrected by Spearman-Brown to the mean of k seeds) says how much
  of it is reproducible rather than noise. Where that reliability is near 0 no predictor, task-aware or
  not, can order a multiset's arrangements, and a prior cannot beat the best position-blind rule by much.

``within_multiset_tau`` says how well each predictor orders the arrangements of one multiset (Kendall tau
within multisets, weighted by pairs): a score of the multiset alone scores 0 there by construction (the
leximin rule's tie-break by parameter count is not blind to position: it can score a little).

:func:`held_out_seed` puts training itself among the predictors: over the layouts trained with k >= 3 seeds,
the mean of k - 1 seeds predicts the seed left out, and so do the multisets' means of those seeds and each
predictor; where a rule predicts the held-out seed as well as k - 1 trainings of every layout do, no
predictor can beat it by much on that table. Pure numpy and scipy: no torch, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

#: the fewest layouts a reproducibility figure is read on (fewer give a tau or rho that says nothing)
MIN_LAYOUTS = 20

__all__ = ["MIN_LAYOUTS", "describe", "full_seeds", "held_out_seed", "leave_one_seed_out", "multiset_groups",
           "position_signal", "residual_reliability"]


def multiset_groups(keys: Sequence[tuple]) -> np.ndarray:
    """One group id per layout: layouts share an id when their widths are one multiset. ``keys``: per
    layout, whatever else must match (schedule, M) followed by the widths, as ``(extra, widths)``.

    >>> multiset_groups([((0,), (8, 16, 32)), ((0,), (32, 16, 8)), ((0,), (8, 8, 32))]).tolist()
    [0, 0, 1]
    """
    ids: dict[tuple, int] = {}
    return np.array([ids.setdefault((tuple(extra), tuple(sorted(widths))), len(ids)) for extra, widths in keys])


def _residuals(acc: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each layout's accuracy less its group's mean, and which layouts share their group with another."""
    res = np.array(acc, float)
    shared = np.zeros(len(res), bool)
    for g in np.unique(groups):
        i = groups == g
        res[i] -= res[i].mean()
        shared[i] = i.sum() >= 2
    return res, shared


def residual_reliability(seed_acc: Sequence[Mapping[int, float]], groups: np.ndarray,
                         min_layouts: int = MIN_LAYOUTS) -> dict[str, Any]:
    """How reproducible the part of accuracy that lies within multisets is. ``seed_acc``: per layout, its
    accuracy per seed; ``groups``: per layout, its multiset (:func:`multiset_groups`). For every two seeds,
    over the layouts trained with both whose multiset holds another such layout: Spearman's rho between the
    two seeds' residuals (accuracy less the multiset's mean of that seed). ``rho`` is their mean (one run's
    reliability), ``reliability`` its Spearman-Brown correction to the mean of the table's most seeds k
    (NaN where that is undefined, rho <= -1 / (k - 1)). NaN figures when no two seeds share ``min_layouts``
    such layouts."""
    from scipy import stats

    from archsearch.evidence.evaluate import spearman_brown

    groups = np.asarray(groups)
    k = max((len(v) for v in seed_acc), default=0)
    seeds = sorted({s for v in seed_acc for s in v})
    rhos, used = [], set()
    for a, b in combinations(seeds, 2):
        idx = np.array([i for i, v in enumerate(seed_acc) if a in v and b in v], int)
        if len(idx) < min_layouts:
            continue
        res_a, shared = _residuals(np.array([seed_acc[i][a] for i in idx]), groups[idx])
        res_b, _ = _residuals(np.array([seed_acc[i][b] for i in idx]), groups[idx])
        if shared.sum() < min_layouts or np.ptp(res_a[shared]) == 0 or np.ptp(res_b[shared]) == 0:
            continue
        rhos.append(float(stats.spearmanr(res_a[shared], res_b[shared]).statistic))
        used.update(idx[shared].tolist())
    rho = float(np.mean(rhos)) if rhos else float("nan")
    defined = bool(rhos) and k >= 2 and 1 + (k - 1) * rho > 0  # the correction breaks down at rho = -1 / (k - 1)
    return {"seeds": k, "seed_pairs": len(rhos), "layouts": len(used), "rho": rho,
            "reliability": spearman_brown(rho, k) if defined else float("nan")}


def position_signal(keys: Sequence[tuple], acc: np.ndarray, seed_acc: Sequence[Mapping[int, float]],
                    scores: Mapping[str, np.ndarray], min_layouts: int = MIN_LAYOUTS) -> dict[str, Any]:
    """The split of a table's order into which widths and where they sit (the module's docstring): ``keys``
    as :func:`multiset_groups` takes them, ``acc`` the mean validation accuracy per layout, ``seed_acc`` its
    accuracy per seed, ``scores`` the predictors' scores (name -> one per layout); with
    :func:`held_out_seed`'s figures (None below 3 seeds); reproducibility read on at least ``min_layouts``."""
    from archsearch.evidence.evaluate import tau_ties_broken, within_group_tau

    acc = np.asarray(acc, float)
    groups = multiset_groups(keys)
    res, shared = _residuals(acc, groups)
    means = acc - res
    var = float(np.var(acc))
    return {"multisets": int(len(np.unique(groups))), "layouts": int(len(acc)), "layouts_shared": int(shared.sum()),
            "multiset_tau": tau_ties_broken(means, acc) if np.ptp(means) > 0 else float("nan"),
            "within_share": float(np.var(res)) / var if var > 0 else float("nan"),
            "residual": residual_reliability(seed_acc, groups, min_layouts),
            "within_multiset_tau": {name: within_group_tau(np.asarray(s, float), acc, groups)
                                    for name, s in scores.items()},
            "held_out_seed": held_out_seed(seed_acc, groups, scores, min_layouts)}


def full_seeds(*seed_accs: Sequence[Mapping[int, float]]) -> tuple[int, list[int], list[int]]:
    """The layouts trained with the most seeds on every table in ``seed_accs`` (per layout, its accuracy per
    seed; aligned), and the seeds they all share: (how many, the layouts' indices, the seeds)."""
    k = min(max((len(v) for v in acc), default=0) for acc in seed_accs)
    idx = [i for i in range(len(seed_accs[0])) if all(len(acc[i]) >= k for acc in seed_accs)]
    seeds = sorted(set.intersection(*(set(acc[i]) for acc in seed_accs for i in idx))) if idx else []
    return len(seeds), idx, seeds


def leave_one_seed_out(k: int, truth: Any, fitted: Mapping[str, Any],
                       scores: Mapping[str, np.ndarray]) -> dict[str, float]:
    """For each of ``k`` seeds j left out: Kendall tau (ties broken) against ``truth(j)`` of each
    ``fitted[name](rest)`` (a value per layout from the other seeds' columns) and of each fixed score in
    ``scores`` (NaN for a score that is constant: it orders nothing); every figure the mean over the k
    choices of j. The one loop behind :func:`held_out_seed` and ``bench contrast``'s held-out seed."""
    from archsearch.evidence.evaluate import tau_ties_broken

    out: dict[str, list[float]] = {name: [] for name in (*fitted, *scores)}
    for j in range(k):
        target, rest = truth(j), [s for s in range(k) if s != j]
        for name, fit in fitted.items():
            out[name].append(tau_ties_broken(fit(rest), target))
        for name, s in scores.items():
            out[name].append(tau_ties_broken(s, target) if np.ptp(s) > 0 else float("nan"))
    return {name: float(np.mean(v)) for name, v in out.items()}


def held_out_seed(seed_acc: Sequence[Mapping[int, float]], groups: np.ndarray,
                  scores: Mapping[str, np.ndarray], min_layouts: int = MIN_LAYOUTS) -> dict[str, Any] | None:
    """Training against the predictors, judged on a seed none of them saw. Over the layouts trained with
    the table's most seeds k (at least 3, on at least ``min_layouts`` layouts), for each seed s left out:
    Kendall tau (ties broken) against seed s's accuracies of the mean of the other k - 1 seeds
    (``training``), of those means averaged over each multiset (``multisets``: which widths only, fitted on
    the other seeds), and of each predictor's score; every figure the mean over the k choices of s. None
    when there are too few such layouts."""
    k, idx, seeds = full_seeds(seed_acc)
    if k < 3 or len(idx) < min_layouts:
        return None
    acc = np.array([[seed_acc[i][s] for s in seeds] for i in idx])
    g = np.asarray(groups)[idx]

    def multisets(rest: list[int]) -> np.ndarray:
        fit = acc[:, rest].mean(1)
        return fit - _residuals(fit, g)[0]

    mean = leave_one_seed_out(k, lambda j: acc[:, j], {"training": lambda rest: acc[:, rest].mean(1),
                                                       "multisets": multisets},
                              {name: np.asarray(s, float)[idx] for name, s in scores.items()})
    return {"seeds": k, "layouts": len(idx), "training": mean.pop("training"), "multisets": mean.pop("multisets"),
            "predictors": mean}


def describe(p: Mapping[str, Any]) -> list[str]:
    """:func:`position_signal`'s figures as sentences (``bench eval`` prints them, the table report shows
    them): which widths, where they sit, each predictor within multisets, and a held-out seed."""
    def ranked(taus: Mapping[str, float]) -> str:
        return ", ".join(f"{n} {t:+.3f}" for n, t in sorted(taus.items(), key=lambda kv: -np.nan_to_num(kv[1]))
                         if np.isfinite(t))

    r = p["residual"]
    reproducible = (f"seed-to-seed rho {r['rho']:+.3f} over {r['layouts']} layouts, reliability of a {r['seeds']}-seed "
                    f"mean {r['reliability']:+.3f}" if r["seed_pairs"] else "its reproducibility needs two seeds")
    out = [f"which widths: {p['layouts']} layouts in {p['multisets']} multisets of widths; each layout ranked by its "
           f"multiset's mean accuracy (fitted) gives Kendall tau {p['multiset_tau']:+.3f} (ties broken), about the "
           "best a rule blind to where each width sits can do",
           f"where they sit: {p['within_share']:.0%} of the accuracy's variance lies within multisets; {reproducible}",
           "tau within multisets (each predictor's order of one multiset's arrangements): "
           + ranked(p["within_multiset_tau"])]
    h = p["held_out_seed"]
    if h is not None:
        out.append(f"a held-out seed ({h['layouts']} layouts with {h['seeds']} seeds; each seed judged in turn): the "
                   f"other {h['seeds'] - 1} seeds' means predict it at tau {h['training']:+.3f}, their multisets' "
                   f"means at {h['multisets']:+.3f}; " + ranked(h["predictors"]))
    return out
