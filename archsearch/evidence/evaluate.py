"""Every predictor against one benchmark table, with the statistics that can decide.

For each predictor (a score per layout, higher = predicted better): Kendall's tau-b and Spearman's rho
against mean **validation** accuracy, each with a 95% bootstrap interval (layouts resampled); the regret
of its top-1 and top-5 picks (the table's best validation accuracy minus the best among the picks; ties
in the score broken by a seeded random order, so a predictor that ties everything is no better than
chance); and, once per table, the seed-to-seed noise ceiling: how well one seed's accuracies rank the
other's on the layouts trained twice. A seeded random predictor is the floor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PEERS", "PREDICTORS", "PredictorStats", "evaluate", "noise_ceiling", "predictor_scores", "rank_order",
    "rank_stats", "seed_accuracies", "top_k_regret",
]

#: the predictors every evaluation compares, in the order reported
PREDICTORS = ("prior", "prior-no-output", "prior-ratio", "params", "naswot", "synflow", "meco", "random")


@dataclass(frozen=True)
class PredictorStats:
    kendall_tau: float
    tau_ci: tuple[float, float]
    spearman: float
    spearman_ci: tuple[float, float]
    top1_regret: float
    top5_regret: float

    def to_dict(self) -> dict[str, Any]:
        return {"kendall_tau": self.kendall_tau, "tau_ci": list(self.tau_ci), "spearman": self.spearman,
                "spearman_ci": list(self.spearman_ci), "top1_regret": self.top1_regret,
                "top5_regret": self.top5_regret}


def rank_stats(score: np.ndarray, acc: np.ndarray, resamples: int = 2000, seed: int = 0
               ) -> tuple[float, tuple[float, float], float, tuple[float, float]]:
    """Kendall's tau-b and Spearman's rho of ``score`` against ``acc``, each with a 95% bootstrap interval
    (non-finite pairs dropped; NaN when fewer than 3 remain or one side is constant)."""
    from scipy import stats

    score, acc = np.asarray(score, float), np.asarray(acc, float)
    ok = np.isfinite(score) & np.isfinite(acc)
    score, acc = score[ok], acc[ok]
    nan = float("nan")
    if len(score) < 3 or np.ptp(score) == 0 or np.ptp(acc) == 0:
        return nan, (nan, nan), nan, (nan, nan)
    tau = float(stats.kendalltau(score, acc).statistic)
    rho = float(stats.spearmanr(score, acc).statistic)
    rng = np.random.default_rng(seed)
    taus, rhos = [], []
    for _ in range(resamples):
        i = rng.integers(0, len(score), len(score))
        if np.ptp(score[i]) > 0 and np.ptp(acc[i]) > 0:
            taus.append(stats.kendalltau(score[i], acc[i]).statistic)
            rhos.append(stats.spearmanr(score[i], acc[i]).statistic)
    ci = lambda v: tuple(float(q) for q in np.percentile(v, [2.5, 97.5])) if v else (nan, nan)  # noqa: E731
    return tau, ci(taus), rho, ci(rhos)


def rank_order(score: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices of ``score`` from the highest down (NaN last), ties broken by a seeded random order."""
    score = np.asarray(score, float)
    tiebreak = np.random.default_rng(seed).random(len(score))
    return np.lexsort((tiebreak, -np.nan_to_num(score, nan=-np.inf)))


def top_k_regret(score: np.ndarray, acc: np.ndarray, k: int, seed: int = 0) -> float:
    """The best accuracy in the table minus the best among the ``k`` layouts ``score`` ranks highest
    (ties in ``score`` broken by a seeded random order)."""
    acc = np.asarray(acc, float)
    return float(acc.max() - acc[rank_order(score, seed)[:k]].max())


def seed_accuracies(table: dict[str, Any]) -> dict[int, dict[int, float]]:
    """Per layout id, the validation accuracy of each seed that finished."""
    by: dict[int, dict[int, float]] = {}
    for r in table["runs"]:
        if "val_accuracy" in r:
            by.setdefault(r["layout"], {})[r["seed"]] = r["val_accuracy"]
    return by


def noise_ceiling(table: dict[str, Any], resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Kendall's tau between two seeds' validation accuracies, over the layouts trained with both: the
    best ordering any predictor of one run's outcome could hope for."""
    pairs = [(v[0], v[1]) for v in seed_accuracies(table).values() if 0 in v and 1 in v]
    if len(pairs) < 3:
        return {"layouts": len(pairs), "kendall_tau": float("nan"), "tau_ci": [float("nan")] * 2}
    a, b = np.array(pairs).T
    tau, ci, _, _ = rank_stats(a, b, resamples, seed)
    return {"layouts": len(pairs), "kendall_tau": tau, "tau_ci": list(ci)}


def layer_preferences(channels: list[list[int]] | np.ndarray, values: dict[str, np.ndarray]
                      ) -> dict[str, list[float]] | None:
    """What each of ``values`` (name -> one value per layout: trained accuracy, a predictor's score) asks of
    each layer: Spearman's rho between the layer's width and the value, over the layouts. Where a predictor
    and training disagree layer by layer is where it misjudges. None when the layouts differ in depth; NaN
    for a layer whose width never varies."""
    from scipy import stats

    if not len(channels) or len({len(c) for c in channels}) != 1:
        return None
    widths = np.asarray(channels, dtype=float)
    out = {}
    for name, value in values.items():
        value = np.asarray(value, dtype=float)
        ok = np.isfinite(value)
        row = []
        for layer in widths.T:
            if np.ptp(layer[ok]) == 0 or np.ptp(value[ok]) == 0:
                row.append(float("nan"))
            else:
                row.append(float(stats.spearmanr(layer[ok], value[ok]).statistic))
        out[name] = row
    return out


def evaluate(acc: np.ndarray, scores: dict[str, np.ndarray], resamples: int = 2000, seed: int = 0
             ) -> dict[str, PredictorStats]:
    """Every predictor in ``scores`` (name -> one score per layout) against ``acc`` (mean validation
    accuracy per layout)."""
    out = {}
    for name, score in scores.items():
        tau, tau_ci, rho, rho_ci = rank_stats(score, acc, resamples, seed)
        out[name] = PredictorStats(tau, tau_ci, rho, rho_ci, top_k_regret(score, acc, 1, seed),
                                   top_k_regret(score, acc, 5, seed))
    return out


#: the predictors that build torch models and read training images
PEERS = ("naswot", "synflow", "meco")


def predictor_scores(rows: list[dict], task: Any, space: Any, data: Any, model: str = "convnet",
                     seed: int = 0, names: Sequence[str] = PREDICTORS) -> dict[str, np.ndarray]:
    """One score per layout of ``rows`` for each predictor in ``names`` (default all): the prior (``needs``;
    the same without the output term, the design before 0.5, as ``prior-no-output``; ``ratio`` as
    ``prior-ratio``), parameter count, NASWOT, SynFlow, MeCo (the three at initialisation, seed 0, on
    training images: ``data`` is read only for them), and a seeded random floor."""
    from archsearch.prior.score import Prior

    layouts = [space.layout(r["schedule"], r["M"], r["channels"]) for r in rows]
    makers: dict[str, Callable[[], np.ndarray]] = {
        "prior": lambda: _prior_scores(Prior.for_task(task, space, "needs"), layouts),
        "prior-no-output": lambda: _prior_scores(Prior.for_space(
            task.masks, task.weights, space, output=False, **Prior.task_options(task)), layouts),
        "prior-ratio": lambda: _prior_scores(Prior.for_task(task, space, "ratio"), layouts),
        "params": lambda: np.array([float(lay.param_count()) for lay in layouts]),
        "random": lambda: np.random.default_rng(seed).random(len(layouts)),
    }
    if any(n in PEERS for n in names):
        from archsearch.train.models import build_model
        from archsearch.train.peers import meco, naswot, synflow

        batch = data.train.x[:128]
        makers["naswot"] = lambda: np.array([naswot(build_model(lay, model, seed=0), batch) for lay in layouts])
        makers["synflow"] = lambda: np.array([synflow(build_model(lay, model, seed=0), lay.input_shape,
                                                      lay.in_channels) for lay in layouts])
        makers["meco"] = lambda: np.array([meco(build_model(lay, model, seed=0), batch) for lay in layouts])
    return {name: makers[name]() for name in PREDICTORS if name in names}


def _prior_scores(prior: Any, layouts: list) -> np.ndarray:
    return np.array([prior(lay).score for lay in layouts])
