"""The entanglement prior: one number that ranks channel layouts for a task under a parameter budget.

For each partition p the layout's log2 min cut is divided by that of a *reference*: the uniform layout
(every hidden layer the same width) with the same pooling schedule and M, as wide as the budget allows.
The score is the weighted mean of these ratios:

    score = sum_p w_p * log2W_p(layout) / max(log2W_p(reference), 1)  /  sum_p w_p

1.0 means "as good as spending the budget uniformly"; 1.2 means 20% more correlation capacity, averaged
over the task's partitions. Dividing per partition keeps a partition whose cut grows with N (a
checkerboard crosses N/4 windows) from drowning one whose cut stays O(1) (left-right crosses one bond).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from archsearch.core.layout import Layout
from archsearch.core.mincut import log2_mincut, log2_mincut_tree, tree_masks

if TYPE_CHECKING:
    from archsearch.formats.space import Space

__all__ = ["Prior", "PriorResult", "uniform_at_budget"]


def uniform_at_budget(template: Layout, max_params: int) -> Layout:
    """The widest uniform-channel layout on ``template``'s schedule within ``max_params`` (>= 1 channel).

    Examples
    --------
    >>> lay = Layout.uniform((64, 64), M=10, channels=1, pools=[2] * 6)
    >>> wb = lay.with_channels([32, 32, 16, 16, 8, 8])
    >>> uniform_at_budget(lay, wb.param_count()).channels
    (19, 19, 19, 19, 19, 19)
    """
    lo, hi = 1, 2
    while template.with_channels([hi] * template.depth).param_count() <= max_params:
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # param_count is increasing in the uniform width
        mid = (lo + hi) // 2
        if template.with_channels([mid] * template.depth).param_count() <= max_params:
            lo = mid
        else:
            hi = mid
    return template.with_channels([lo] * template.depth)


@dataclass(frozen=True)
class PriorResult:
    """A layout's score with what it is made of."""

    score: float
    log2_mincut: np.ndarray
    ratios: np.ndarray
    params: int


class Prior:
    """Scores layouts for one task against one reference layout.

    Build it once per search (the reference's cuts are computed once), then call it per layout.
    """

    def __init__(self, masks: np.ndarray, weights: np.ndarray, reference: Layout) -> None:
        self.masks = np.asarray(masks, dtype=bool)
        self.weights = np.asarray(weights, dtype=float)
        if self.weights.shape != (len(self.masks),) or (self.weights < 0).any() or self.weights.sum() <= 0:
            raise ValueError(f"need one non-negative weight per partition, summing above 0; got {weights}")
        self.reference = reference
        self.reference_log2 = log2_mincut(reference, self.masks)
        self._denominator = np.maximum(self.reference_log2, 1.0)
        self._flat: dict[tuple, np.ndarray] = {}  # masks in tree order, per pooling schedule

    @classmethod
    def for_budget(cls, masks: np.ndarray, weights: np.ndarray, template: Layout, max_params: int) -> Prior:
        """Reference: the widest uniform layout on ``template``'s schedule and M within ``max_params``."""
        return cls(masks, weights, uniform_at_budget(template, max_params))

    @classmethod
    def for_space(cls, masks: np.ndarray, weights: np.ndarray, space: Space) -> Prior:
        """The one reference rule: the widest uniform layout on the space's first schedule, with its first
        M, within its ``max_params``. A search scores with it, and so does ``score --space``; ``score``
        without a space treats the layout as a space of its own (its schedule, its M, its size)."""
        template = space.layout(0, space.M[0], [1] * len(space.schedules[0]))
        return cls.for_budget(masks, weights, template, space.max_params)

    def __call__(self, layout: Layout) -> PriorResult:
        flat = self._flat.get(layout.pools)
        if flat is None:
            flat = self._flat[layout.pools] = tree_masks(layout, self.masks)
        cuts = log2_mincut_tree(layout, flat)
        ratios = cuts / self._denominator
        score = float(ratios @ self.weights / self.weights.sum())
        return PriorResult(score, cuts, ratios, layout.param_count())
