"""The entanglement prior: one number that ranks channel layouts for a task under a parameter budget.

Two variants, both built from a layout's capacity across each partition p, c_p = log2 of its min cut.

``needs`` (the default) asks whether the layout meets the task's needs, everywhere and at every scale::

    coverage = 2 ** ( sum_p w_p log2( min(c_p, n_p) / n_p ) / sum_p w_p )

over the task's partitions, the canonical partitions of the layout's own pooling tree (each window of
the k-th pooling against the rest, k = 1 .. depth-1, weight 1 each: every classifier must carry what a
window holds up to the output), unless the task lists canonical partitions itself, and the family's top
level, the whole input against the output (weight 1; its capacity is :func:`log2_output_cut`, the
narrowest level of bonds: here usually the last layer). The need n_p is the task's ``need:`` (bits) where
it states one, else the capacity of the *reference* across p: the uniform layout (every hidden layer
equally wide) on the same schedule and M, as wide as the budget allows. A window's need, and the output's,
is at least log2(classes) bits: it must pass its evidence about the class upwards. So
(a) capacity beyond the need buys nothing, (b) a deficit anywhere costs, multiplicatively (halving the
capacity of one partition costs as much wherever it happens: 2 bits, a bond of 4 channels, under a need
of 4 bits costs a factor 2 ** (-w_p / W), W the total weight, however much the other partitions have),
and (c) one budget gives one set of needs, so scores compare across layouts. 1.0: every need is met.

``maximin`` weighs a deficit above everything else: the layout's **weakest** met fraction over the same
partitions (the scale where it falls furthest short of its need: a network carries across a partition no
more than its narrowest cut allows, and the weakest scale bounds what reaches the output), with the
``needs`` coverage as the tie-break between layouts of one weakest scale::

    maximin = ( min_p min(c_p, n_p) / n_p  +  EPS * coverage ) / (1 + EPS),   EPS = 2 ** -12

(lexicographic while weakest fractions differ by more than EPS; on the shipped grids they differ by 0.23 or
more). On these grids the weakest fraction alone orders layouts as their narrowest layer does.

``narrowest`` is ``maximin`` that also counts the bottlenecks: among layouts of one weakest fraction, the
fewer hidden layers are as narrow as the narrowest, the better (each such layer is a bond that falls short
at its scale, and a network loses across each what it cannot carry), the coverage breaking what remains::

    narrowest = ( worst + EPS * (2 (D - k) + coverage) / (2 D + 1) ) / (1 + EPS)

with D the hidden layers and k those as narrow as the narrowest (lexicographic: worst, then k, then the
coverage). The count reads widths, not the task: it is the task-blind bottleneck rule's second key
(:mod:`archsearch.evidence.baselines`), and the task enters through the weakest fraction and the coverage.

``soft-leximin`` keeps the weakest scale first and then trades how evenly the budget is spread against
the task's needs: the layout's other hidden widths, sorted from the narrowest up, each counting half as
much as the one before (a soft leximin: the second-narrowest layer matters most, since after the weakest
scale it is the next bond to fall short), plus ``SOFT_BETA`` = 2 times log2 of the coverage (halving the
coverage costs as much as halving the second-narrowest layer twice)::

    t = sum_{i=1}^{D-1} 2 ** -(i - 1) * s_i  +  2 * log2(coverage),   s = sorted log2 widths (s_0 the narrowest)
    soft-leximin = ( worst + EPS / (1 + 2 ** (-t / 8)) ) / (1 + EPS)

The widths' part is task-blind (the leximin rule of :mod:`archsearch.evidence.baselines`, softened); for
layouts of one multiset of widths (wide-base and wide-tip, say) it cancels and the task's coverage
decides where the width goes.

``ratio`` (the first design, kept for comparison) rewards capacity without limit, on the task's
partitions only::

    score = sum_p w_p * c_p / max(c_ref_p, 1)  /  sum_p w_p

1.0 means "as good as spending the budget uniformly"; 1.2 means 20% more capacity on average.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.core.batched import SharedTree, log2_widths, mincut_many, shared_tree
from archsearch.core.layout import Layout
from archsearch.core.mincut import log2_mincut, log2_mincut_tree, log2_output_cut, output_positions, tree_masks
from archsearch.core.partitions import tree_windows

if TYPE_CHECKING:
    from archsearch.formats.space import Space

__all__ = ["PRIORS", "VARIANTS", "Prior", "PriorResult", "PriorVariant", "checked_partitions", "narrowest_count",
           "partition_needs", "soft_leximin_widths", "uniform_at_budget"]

#: ``maximin``: the weight of the coverage that breaks ties between layouts of one weakest scale
MAXIMIN_EPS = 2.0 ** -12
#: ``soft-leximin``: bits of the second-narrowest layer that one halving of the coverage costs
SOFT_BETA = 2.0


@dataclass(frozen=True)
class PriorVariant:
    """One way of turning a layout's capacities into a score: ``met_needs`` (capacities against needs at
    every scale, combined by ``combine(worst, coverage, channels)`` from the weakest met fraction, the
    weighted geometric mean of all of them, and the hidden widths: one row per layout, or one layout's)
    or not (``ratio``: each capacity against the reference's, no limit)."""

    name: str
    help: str
    met_needs: bool
    combine: Callable[..., Any]


def _coverage(worst: Any, coverage: Any, channels: Any = None) -> Any:
    return coverage


def _maximin(worst, coverage, channels=None):
    """The weakest met fraction first, the coverage as the tie-break (``maximin``); in [0, 1]."""
    return (worst + MAXIMIN_EPS * coverage) / (1 + MAXIMIN_EPS)


def _narrowest(worst, coverage, channels):
    """The weakest met fraction first, then the fewest layers as narrow as the narrowest, then the coverage
    (``narrowest``); in [0, 1]."""
    channels = np.asarray(channels)
    depth, narrow = channels.shape[-1], narrowest_count(channels)
    return (worst + MAXIMIN_EPS * (2 * (depth - narrow) + coverage) / (2 * depth + 1)) / (1 + MAXIMIN_EPS)


def soft_leximin_widths(channels: np.ndarray) -> np.ndarray:
    """Per row of ``channels``, the widths' part of ``soft-leximin``: the log2 widths sorted from the
    narrowest up, the narrowest left out, each weighted half the one before.

    >>> soft_leximin_widths(np.array([[4, 16, 8], [8, 4, 16]])).tolist()  # one multiset: one value
    [5.0, 5.0]
    """
    s = np.sort(np.log2(np.asarray(channels, dtype=float)), axis=-1)[..., 1:]
    return s @ (0.5 ** np.arange(s.shape[-1]))


def _soft_leximin(worst, coverage, channels):
    """The weakest met fraction first, then the soft leximin of the other widths plus ``SOFT_BETA`` times
    log2 of the coverage (``soft-leximin``); in [0, 1]."""
    t = soft_leximin_widths(channels) + SOFT_BETA * np.log2(coverage)
    return (worst + MAXIMIN_EPS / (1 + 2.0 ** (-t / 8))) / (1 + MAXIMIN_EPS)


def narrowest_count(channels: np.ndarray) -> np.ndarray:
    """Per row of ``channels`` (hidden widths, one row per layout), how many are as narrow as its narrowest.

    >>> narrowest_count(np.array([[4, 8, 4], [8, 8, 8], [16, 4, 32]])).tolist()
    [2, 3, 1]
    """
    channels = np.asarray(channels)
    return (channels == channels.min(axis=-1, keepdims=True)).sum(axis=-1)


#: the prior's variants by name, the default first (``--prior``, ``bench eval``'s ``prior-*``)
VARIANTS: dict[str, PriorVariant] = {v.name: v for v in (
    PriorVariant("needs", "met needs at every scale, their weighted geometric mean (the default)", True, _coverage),
    PriorVariant("ratio", "the first design: capacity against the uniform layout's, without limit", False,
                 _coverage),
    PriorVariant("maximin", "the weakest scale first, the needs' coverage breaking its ties", True, _maximin),
    PriorVariant("narrowest", "the weakest scale first, then the fewest layers that narrow, then the coverage",
                 True, _narrowest),
    PriorVariant("soft-leximin", "the weakest scale first, then the other widths' soft leximin traded against "
                 "the coverage", True, _soft_leximin),
)}
#: the variants' names, the default first
PRIORS = tuple(VARIANTS)
#: the smallest met fraction a partition counts with (a need entirely unmet: c_p = 0)
_FLOOR = 2.0 ** -20


def checked_partitions(masks: np.ndarray, weights: np.ndarray, kind: str
                       ) -> tuple[np.ndarray, np.ndarray, PriorVariant]:
    """The masks and weights as arrays and the variant named ``kind``; ValueError for weights that are not
    one per partition, non-negative, summing above 0, or an unknown variant (every prior checks these)."""
    masks, w = np.asarray(masks, dtype=bool), np.asarray(weights, dtype=float)
    if w.shape != (len(masks),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"need one non-negative weight per partition, summing above 0; got {weights}")
    if kind not in VARIANTS:
        raise ValueError(f"unknown prior '{kind}' (choose from {', '.join(PRIORS)})")
    return masks, w, VARIANTS[kind]


def partition_needs(needs: np.ndarray | None, reference_log2: np.ndarray, windows: np.ndarray | None,
                    answer: float) -> np.ndarray:
    """Each partition's need in bits: the declared one, else (NaN or none) the reference's capacity; a
    canonical window's (``windows``) at least ``answer`` = log2(classes), since it must carry its evidence
    about the class to the output."""
    declared = np.full(len(reference_log2), np.nan) if needs is None else np.asarray(needs, dtype=float)
    if declared.shape != (len(reference_log2),) or (declared < 0).any():
        raise ValueError(f"need one need (bits >= 0, or NaN) per partition; got {needs}")
    out = np.where(np.isnan(declared), reference_log2, declared)
    if windows is not None:
        out = np.where(np.asarray(windows, dtype=bool), np.maximum(out, answer), out)
    return out


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
    """A layout's score with what it is made of: per task partition its capacity (``log2_mincut``), its
    need (bits; ``ratio``: the reference's capacity) and ``ratios`` (``needs``: the met fraction
    min(c, n) / n; ``ratio``: c / max(c_ref, 1)); per canonical level of the layout's tree the same
    (empty when the task lists its own or the variant is ``ratio``); the whole input against the output
    (``output_log2``, ``output_need``; NaN when the variant is ``ratio`` or the prior leaves it out)."""

    score: float
    log2_mincut: np.ndarray
    ratios: np.ndarray
    params: int
    needs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    canonical_log2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    canonical_needs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    output_log2: float = float("nan")
    output_need: float = float("nan")


class Prior:
    """Scores layouts for one task under one budget, with the reference layout that budget buys.

    Build it once per search (the reference's cuts are computed once), then call it per layout.
    ``needs``: bits per partition, NaN where the task states none (the reference's capacity is used);
    ``kind``: ``needs`` or ``ratio`` (see the module); ``canonical``: add the canonical partitions of each
    layout's pooling tree (weight 1 per level; off when the task lists its own); ``max_params``: the
    budget the canonical references are drawn under (default: the reference's size); ``windows``: which
    of the task's partitions are canonical windows (their needs are raised to log2(classes)); ``output``:
    add the whole input against the output (``needs`` only; off: the design before 0.5, kept to compare).
    """

    def __init__(self, masks: np.ndarray, weights: np.ndarray, reference: Layout, *,
                 needs: np.ndarray | None = None, kind: str = "needs", canonical: bool = True,
                 max_params: int | None = None, windows: np.ndarray | None = None, output: bool = True) -> None:
        self.masks, self.weights, self.variant = checked_partitions(masks, weights, kind)
        self.kind = kind
        self.reference = reference
        self.reference_log2 = log2_mincut(reference, self.masks)
        self.answer = float(np.log2(reference.classes))
        self.needs = partition_needs(needs, self.reference_log2, windows, self.answer)
        self.canonical = canonical and self.variant.met_needs
        self.output = output and self.variant.met_needs
        self.max_params = reference.param_count() if max_params is None else int(max_params)
        self._denominator = np.maximum(self.reference_log2, 1.0)
        self._flat: dict[tuple, np.ndarray] = {}  # masks in tree order, per pooling schedule
        self._tree: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # canonical masks and needs, per schedule
        self._shared: dict[tuple, SharedTree] = {}  # compressed trees for score_many, per schedule

    @classmethod
    def for_budget(cls, masks: np.ndarray, weights: np.ndarray, template: Layout, max_params: int,
                   **kw) -> Prior:
        """Reference: the widest uniform layout on ``template``'s schedule and M within ``max_params``."""
        return cls(masks, weights, uniform_at_budget(template, max_params), max_params=max_params, **kw)

    @classmethod
    def for_space(cls, masks: np.ndarray, weights: np.ndarray, space: Space, **kw) -> Prior:
        """The one reference rule: the widest uniform layout on the space's first schedule, with its first
        M, within its ``max_params``. A search scores with it, and so does ``score --space``; ``score``
        without a space treats the layout as a space of its own (its schedule, its M, its size)."""
        template = space.layout(0, space.M[0], [1] * len(space.schedules[0]))
        return cls.for_budget(masks, weights, template, space.max_params, **kw)

    @staticmethod
    def task_options(task) -> dict:
        """What a task adds to its masks and weights: declared needs, whether the prior adds the canonical
        floor (not when the task lists canonical partitions), and which partitions are windows."""
        return {"needs": task.needs, "canonical": not task.states_canonical,
                "windows": np.array([p.kind == "canonical" for p in task.partitions])}

    @classmethod
    def for_task(cls, task, space: Space, kind: str = "needs") -> Prior:
        """The prior of ``task`` over ``space``: its partitions, weights and declared needs."""
        return cls.for_space(task.masks, task.weights, space, kind=kind, **cls.task_options(task))

    def _canonical(self, layout: Layout) -> tuple[np.ndarray, np.ndarray, float]:
        """The layout's canonical masks (tree order), their needs and the output's need: the capacity,
        across each, of the widest uniform layout on the layout's own schedule and M within the budget
        (at least log2(classes))."""
        key = (layout.pools, layout.M)
        got = self._tree.get(key)
        if got is None:
            masks = tree_windows(layout.input_shape, layout.pools)
            ref = uniform_at_budget(layout, self.max_params)
            flat = tree_masks(layout, masks) if len(masks) else np.zeros((0, layout.n_inputs), bool)
            needs = np.maximum(log2_mincut_tree(ref, flat), self.answer) if len(masks) else np.zeros(0)
            got = self._tree[key] = (flat, needs, max(log2_output_cut(ref), self.answer))
        return got

    def __call__(self, layout: Layout) -> PriorResult:
        flat = self._flat.get(layout.pools)
        if flat is None:
            flat = self._flat[layout.pools] = tree_masks(layout, self.masks)
        cuts = log2_mincut_tree(layout, flat)
        if not self.variant.met_needs:
            ratios = cuts / self._denominator
            score = float(ratios @ self.weights / self.weights.sum())
            return PriorResult(score, cuts, ratios, layout.param_count(), self.reference_log2)
        met = _met(cuts, self.needs)
        total, weight = float(np.log2(met) @ self.weights), float(self.weights.sum())
        worst = float(met[self.weights > 0].min()) if (self.weights > 0).any() else 1.0
        c_cuts = c_needs = np.zeros(0)
        out_cut = out_need = float("nan")
        if self.canonical or self.output:
            c_flat, c_needs, o_need = self._canonical(layout)
            if self.canonical and len(c_flat):
                c_cuts = log2_mincut_tree(layout, c_flat)
                c_met = _met(c_cuts, c_needs)
                total += float(np.log2(c_met).sum())
                weight += len(c_cuts)
                worst = min(worst, float(c_met.min()))
            else:
                c_needs = np.zeros(0)
            if self.output:
                out_cut, out_need = log2_output_cut(layout), o_need
                o_met = float(_met(np.array(out_cut), np.array(out_need)))
                total += float(np.log2(o_met))
                weight += 1
                worst = min(worst, o_met)
        score = float(self.variant.combine(worst, 2.0 ** (total / weight), np.asarray(layout.channels)))
        return PriorResult(score, cuts, met, layout.param_count(), self.needs, c_cuts, c_needs, out_cut, out_need)

    def score_many(self, template: Layout, channels: np.ndarray, M: np.ndarray | int | None = None,
                   chunk: int = 1 << 16) -> np.ndarray:
        """Scores of many layouts on ``template``'s schedule at once: ``channels`` (L, depth), ``M`` one per
        layout or one for all (default: the template's; only its schedule and shape are read). Equal to
        calling the prior on each layout (tests hold it so), hundreds of times faster: the DP runs once
        per batch on the schedule's shared structure (:mod:`archsearch.core.batched`)."""
        channels = np.asarray(channels, dtype=np.int64).reshape(-1, template.depth)
        m = np.broadcast_to(np.asarray(template.M if M is None else M, dtype=np.int64), (len(channels),))
        # the canonical levels' and the output's needs depend on M (the reference is drawn per M): per layout
        ms = np.unique(m)
        per_m = [self._canonical(replace(template, M=int(u)))[1:] for u in ms] if self.variant.met_needs else []
        c_needs = np.stack([c for c, _ in per_m]) if per_m else np.zeros((1, 0))
        o_needs = np.array([o for _, o in per_m])
        key = (template.pools, template.input_shape)
        tree = self._shared.get(key)
        if tree is None:
            masks = self.masks
            if self.canonical and c_needs.shape[1]:
                masks = np.concatenate([masks, tree_windows(template.input_shape, template.pools)])
            tree = self._shared[key] = shared_tree(template, masks)
        positions = output_positions(template)
        out = np.empty(len(channels))
        P = len(self.masks)
        for s in range(0, len(channels), chunk):
            widths = log2_widths(m[s:s + chunk], channels[s:s + chunk])
            which = np.searchsorted(ms, m[s:s + chunk])
            cuts = mincut_many(tree, widths)
            if not self.variant.met_needs:
                out[s:s + chunk] = (cuts[:, :P] / self._denominator) @ self.weights / self.weights.sum()
                continue
            met = _met(cuts[:, :P], self.needs)
            total = np.log2(met) @ self.weights
            weight = self.weights.sum()
            worst = met[:, self.weights > 0].min(axis=1) if (self.weights > 0).any() else np.ones(len(met))
            if cuts.shape[1] > P:
                c_met = _met(cuts[:, P:], c_needs[which])
                total = total + np.log2(c_met).sum(axis=1)
                weight += cuts.shape[1] - P
                worst = np.minimum(worst, c_met.min(axis=1))
            if self.output:
                o_met = _met((widths * positions).min(axis=1), o_needs[which])
                total = total + np.log2(o_met)
                weight += 1
                worst = np.minimum(worst, o_met)
            out[s:s + chunk] = self.variant.combine(worst, 2.0 ** (total / weight), channels[s:s + chunk])
        return out


def _met(cuts: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """The met fraction min(c, n) / n per partition (1 where the need is 0), floored above 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        met = np.where(needs > 0, np.minimum(cuts, needs) / np.where(needs > 0, needs, 1.0), 1.0)
    return np.maximum(met, _FLOOR)


class InvertedPrior:
    """A prior upside down: every score negated, so its worst layouts rank first. A deliberately wrong
    prior, to test that a prior-led search survives one (``bench replay --invert-prior``); everything
    else (cuts, needs, the reference) is the wrapped prior's."""

    def __init__(self, prior: Prior) -> None:
        self.base = prior

    def __getattr__(self, name: str) -> Any:
        if name == "base":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.base, name)

    def __call__(self, layout: Layout) -> PriorResult:
        res = self.base(layout)
        return replace(res, score=-res.score)

    def score_many(self, template: Layout, channels: np.ndarray, M: np.ndarray | int | None = None,
                   chunk: int = 1 << 16) -> np.ndarray:
        return -self.base.score_many(template, channels, M, chunk)
