"""The prior over block layouts (ResNets, MobileNets): the same variants and the same needs as for today's
layouts (:mod:`archsearch.prior.score`), on the block rule's cuts (:mod:`archsearch.core.blockcut`).

What differs: the reference is the widest layout of the space that keeps every slot at the same rank of its
choices within the budget (a block space's budget is its largest layout, so on a complete space it is the
largest one); there is no canonical floor of the layout's own pooling tree (a block network has no tree:
a task that wants window partitions lists them); the output term is the block rule's cut between every
input and the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from archsearch.core.blockcut import log2_cuts_many
from archsearch.core.blocks import BlockLayout
from archsearch.prior.score import PriorResult, _met, checked_partitions, partition_needs

if TYPE_CHECKING:
    from archsearch.formats.blocks_file import BlockSpace

__all__ = ["BlockPrior", "uniform_block_reference"]


def uniform_block_reference(space: BlockSpace, max_params: int | None = None) -> BlockLayout:
    """The widest layout with every slot at the same rank k of its sorted choices (a slot with fewer
    choices at its last) within ``max_params`` (default: the space's), or the narrowest if none fits."""
    budget = space.max_params if max_params is None else max_params
    ranked = [sorted(c) for c in space.slots.values()]
    best = space.layout([c[0] for c in ranked])
    for k in range(max(len(c) for c in ranked)):
        lay = space.layout([c[min(k, len(c) - 1)] for c in ranked])
        if lay.param_count() <= budget:
            best = lay
    return best


class BlockPrior:
    """Scores block layouts for one task over one block space (``kind``: a variant of
    :data:`~archsearch.prior.score.VARIANTS`). ``score_many`` runs a whole batch in one pass."""

    def __init__(self, masks: np.ndarray, weights: np.ndarray, reference: BlockLayout, *,
                 needs: np.ndarray | None = None, kind: str = "needs", windows: np.ndarray | None = None,
                 output: bool = True) -> None:
        self.masks, self.weights, self.variant = checked_partitions(masks, weights, kind)
        self.kind, self.reference = kind, reference
        ref = log2_cuts_many([reference], self.masks, output=True)[0]
        self.reference_log2, ref_output = ref[:-1], float(ref[-1])
        self.answer = float(np.log2(reference.classes))
        self.needs = partition_needs(needs, self.reference_log2, windows, self.answer)
        self.output = output and self.variant.met_needs
        self.output_need = max(ref_output, self.answer)

    @classmethod
    def for_task(cls, task, space: BlockSpace, kind: str = "needs", **options) -> BlockPrior:
        """The prior of ``task`` over ``space``: its partitions, weights, declared needs and windows."""
        windows = np.array([p.kind == "canonical" for p in task.partitions])
        return cls(task.masks, task.weights, uniform_block_reference(space), needs=task.needs, kind=kind,
                   windows=windows, **options)

    def score_many(self, layouts: Sequence[BlockLayout]) -> tuple[np.ndarray, np.ndarray]:
        """Scores of ``layouts`` and their cuts ((L, P + 1): the task's partitions, then the output)."""
        cuts = log2_cuts_many(list(layouts), self.masks, output=True)
        part = cuts[:, :-1]
        if not self.variant.met_needs:
            denominator = np.maximum(self.reference_log2, 1.0)
            return (part / denominator) @ self.weights / self.weights.sum(), cuts
        met = _met(part, self.needs)
        total, weight = np.log2(met) @ self.weights, self.weights.sum()
        worst = met[:, self.weights > 0].min(axis=1)
        if self.output:
            o_met = _met(cuts[:, -1], np.full(len(cuts), self.output_need))
            total, weight = total + np.log2(o_met), weight + 1
            worst = np.minimum(worst, o_met)
        coverage = 2.0 ** (total / weight)
        widths = [np.asarray(lay.channels) for lay in layouts]
        if len({len(w) for w in widths}) == 1:  # one depth: the whole batch at once
            return np.asarray(self.variant.combine(worst, coverage, np.stack(widths)), dtype=float), cuts
        each = zip(worst, coverage, widths, strict=True)
        return np.array([float(self.variant.combine(w, c, ch)) for w, c, ch in each]), cuts

    def __call__(self, layout: BlockLayout) -> PriorResult:
        scores, cuts = self.score_many([layout])
        part = cuts[0, :-1]
        ratios = part / np.maximum(self.reference_log2, 1.0) if not self.variant.met_needs else _met(part, self.needs)
        out = float(cuts[0, -1]) if self.output else float("nan")
        return PriorResult(float(scores[0]), part, ratios, layout.param_count(), self.needs,
                           output_log2=out, output_need=self.output_need if self.output else float("nan"))
