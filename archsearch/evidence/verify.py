"""The layouts ``verify`` trains (spread across the prior's range, and the paper's pair), verdicts that
call ties ties, chance level, and training a few layouts over seeds (``paper`` uses it). ``verify``
builds and evaluates them as a small benchmark table (:mod:`archsearch.evidence.bench`,
:mod:`archsearch.evidence.evaluate`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archsearch.core.layout import Layout, paper_pair
from archsearch.formats.space import Space
from archsearch.prior.score import Prior

__all__ = [
    "LayoutResult", "chance_level", "paper_layouts_for", "spread_layouts", "verdict",
    "verify_layouts", "verify_report",
]


@dataclass
class LayoutResult:
    """A layout's trained runs: validation accuracy (what ranks it) and test accuracy (what is reported),
    one per seed."""

    layout: Layout
    label: str
    prior_score: float
    val_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean validation accuracy over seeds."""
        return float(np.mean(self.val_accuracy)) if self.val_accuracy else float("nan")

    @property
    def test_mean(self) -> float:
        return float(np.mean(self.test_accuracy)) if self.test_accuracy else float("nan")


def spread_layouts(space: Space, prior: Prior, n: int, seed: int = 0, pool: int = 2000) -> list[tuple[Layout, float]]:
    """``n`` distinct layouts within the budget whose prior scores are spread evenly over the range seen
    in ``pool`` random layouts of the space (lowest, highest and quantiles between)."""
    cands = {lay.channels + (lay.M,) + lay.pools: lay for lay in space.random_layouts(pool, seed)}
    scored = sorted(((prior(lay).score, lay) for lay in cands.values()), key=lambda t: t[0])
    if not scored:
        return []
    picks, used = [], set()
    for q in np.linspace(0, len(scored) - 1, n):
        i = int(round(q))
        while i in used and i + 1 < len(scored):
            i += 1
        if i not in used:
            used.add(i)
            picks.append((scored[i][1], scored[i][0]))
    return picks


def paper_layouts_for(space: Space) -> list[tuple[str, Layout]]:
    """The paper's wide-base / wide-tip pair at the largest r that fits the budget, when the space has a
    single schedule (the pair is defined per schedule) and M = 10 (it keeps their sizes equal)."""
    if len(space.schedules) != 1 or 10 not in space.M:
        return []
    pools = list(space.schedules[0])
    best = None
    for r in range(1, 1025):
        wb, wt = paper_pair(space.input_shape, 10, r, pools, kernel=space.kernel,
                            in_channels=space.in_channels, classes=space.classes)
        if wb.param_count() > space.max_params:
            break
        best = (r, wb, wt)
    if best is None:
        return []
    r, wb, wt = best
    return [(f"wide-base r={r}", wb), (f"wide-tip r={r}", wt)]


def chance_level(labels) -> float:
    """Accuracy of always answering the most frequent class of ``labels``."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    return float(counts.max() / counts.sum()) if counts.sum() else float("nan")


def verdict(a: float, b: float, resolution: float) -> int:
    """+1 when ``a`` beats ``b``, -1 when it loses, 0 for a tie: closer than ``resolution`` (half an
    image of the test set), so equal accuracies are never read as an ordering."""
    if not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) < resolution:
        return 0
    return 1 if a > b else -1


def verify_layouts(space: Space, prior: Prior, n: int, seed: int = 0) -> list[tuple[str, Layout]]:
    """What ``verify`` trains: ``n`` layouts spread over the prior's range of scores (seeded), and the
    paper's pair where the space holds it."""
    chosen = [(f"spread {i}", lay) for i, (lay, _) in enumerate(spread_layouts(space, prior, n, seed=seed))]
    return chosen + [(label, lay) for label, lay in paper_layouts_for(space)
                     if all(lay != other for _, other in chosen)]


def verify_report(table: Any, task: Any, space: Space, data: Any, device: str, seed: int = 0) -> dict[str, Any]:
    """``verify``'s answer on its trained table (:class:`~archsearch.evidence.table.Table`): per layout its
    prior score, the runs' validation and test accuracies, whether it stayed at chance, and the peers'
    scores; every predictor's statistics against the mean validation accuracy (the same as ``bench eval``)."""
    from archsearch.evidence.evaluate import evaluate
    from archsearch.evidence.predictors import predictor_scores

    rows = table.rows()
    scores = predictor_scores(table.layouts_of(rows, space), task, space, data, space.model, seed)
    acc = np.array([r.val_accuracy for r in rows])
    stats = evaluate(acc, scores, seed=seed)
    chance = chance_level(data.val.y)
    runs: dict[int, list] = {}
    for r in table.runs:
        runs.setdefault(r.layout, []).append(r)
    nan = float("nan")
    layouts = []
    for k, r in enumerate(rows):
        mine = sorted(runs[r.id], key=lambda x: x.seed)
        val = [nan if x.val_accuracy is None else x.val_accuracy for x in mine]
        layouts.append({"label": r.label, "channels": r.channels, "params": r.params,
                        "prior_score": float(scores["prior"][k]), "val_accuracy": val,
                        "test_accuracy": [nan if x.test_accuracy is None else x.test_accuracy for x in mine],
                        "accuracy": val,  # the key tools read before validation and test were split
                        "at_chance": bool(r.val_accuracy <= chance + 0.01),
                        **{n: float(scores[n][k]) for n in ("naswot", "synflow", "meco")}})
    s = table.settings
    return {"task": task.name, "space": space.name, "epochs": s.epochs, "seeds": list(range(s.seeds)),
            "device": device, "chance": chance, "table": str(table.path),
            "kendall_tau": stats["prior"].kendall_tau, "kendall_tau_ci95": list(stats["prior"].tau_ci),
            "predictors": {name: st.to_dict() for name, st in stats.items()}, "layouts": layouts}
