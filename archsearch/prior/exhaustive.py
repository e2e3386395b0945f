"""Exact prior-only optimisation: every layout of a finite space scored, the best returned.

A space's layouts on one schedule and M differ only in their widths, so they are enumerated in chunks of
a channel array, filtered by the budget with a vectorised parameter count, and scored with
:meth:`archsearch.prior.score.Prior.score_many`. Ties (under the ``needs`` prior every layout that meets
all needs scores 1.0) are broken by the larger parameter count, then by the channels in order, so the
ranking is deterministic.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from archsearch.formats.space import Space
    from archsearch.prior.score import Prior

__all__ = [
    "MAX_EXHAUSTIVE", "Ranked", "exhaustive_size_ok", "exhaustive_top", "grid_size", "param_counts",
    "ranked_candidates",
]

#: most layouts (before the budget) an exhaustive ranking enumerates
MAX_EXHAUSTIVE = 2_000_000
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Ranked:
    """One layout of a ranking: its score, size, schedule index, M and channels."""

    score: float
    params: int
    schedule: int
    M: int
    channels: tuple[int, ...]


def _values(space: Space) -> np.ndarray:
    if space.channel_choices is not None:
        return np.array(sorted(set(space.channel_choices)), dtype=np.int64)
    low, high, _ = space.channel_range
    return np.arange(low, high + 1, dtype=np.int64)


def grid_size(space: Space) -> int:
    """How many channel layouts the space holds, before its budget (schedules x M x widths)."""
    n = len(_values(space))
    return sum(n ** len(s) for s in space.schedules) * len(space.M)


def param_counts(space: Space, M: int, channels: np.ndarray) -> np.ndarray:
    """:func:`archsearch.core.layout.param_count` of many layouts of ``space`` with the given ``M``:
    ``channels`` (L, depth) -> (L,) ints."""
    k2 = space.kernel ** len(space.input_shape)
    channels = np.asarray(channels, dtype=np.int64)
    total = np.full(len(channels), k2 * space.in_channels * M + M, dtype=np.int64)
    prev = np.full(len(channels), M, dtype=np.int64)
    for l in range(channels.shape[1]):
        total += prev * channels[:, l] + 2 * channels[:, l]
        prev = channels[:, l]
    return total + prev * space.classes + space.classes


def exhaustive_top(space: Space, prior: Prior, k: int) -> list[Ranked]:
    """The ``k`` best layouts of ``space`` within its budget, by ``prior``, best first (ties: more
    parameters first, then channels in order). Refuses a space of more than :data:`MAX_EXHAUSTIVE`."""
    size = grid_size(space)
    if size > MAX_EXHAUSTIVE:
        raise ValueError(f"the space holds {size} layouts, over the {MAX_EXHAUSTIVE} an exhaustive ranking "
                         "enumerates; use --sampler tpe")
    values = _values(space)
    best: list[tuple] = []  # a min-heap of (score, params, reversed order) keeping the k best
    for s, pools in enumerate(space.schedules):
        depth = len(pools)
        total = len(values) ** depth
        for m in space.M:
            template = space.layout(s, m, [int(values[0])] * depth)
            for start in range(0, total, _CHUNK):
                index = np.arange(start, min(start + _CHUNK, total), dtype=np.int64)
                digits = (index[:, None] // (len(values) ** np.arange(depth - 1, -1, -1))) % len(values)
                channels = values[digits]
                params = param_counts(space, m, channels)
                ok = (params >= space.min_params) & (params <= space.max_params)
                if not ok.any():
                    continue
                channels, params = channels[ok], params[ok]
                scores = prior.score_many(template, channels)
                take = np.argsort(-scores, kind="stable")[: max(k * 4, k + 64)]
                for i in take:
                    ch = tuple(int(c) for c in channels[i])
                    item = (float(scores[i]), int(params[i]), tuple(-c for c in ch), -s, -m, s, m, ch)
                    if len(best) < k:
                        heapq.heappush(best, item)
                    elif item > best[0]:
                        heapq.heapreplace(best, item)
    ranked = sorted(best, reverse=True)
    return [Ranked(sc, p, s, m, ch) for sc, p, _, _, _, s, m, ch in ranked]


def exhaustive_size_ok(space: Space) -> bool:
    """Whether :func:`exhaustive_top` ranks this space (its grid is finite and small enough)."""
    return grid_size(space) <= MAX_EXHAUSTIVE


def ranked_candidates(space: Space, prior: Prior, k: int, seed: int = 0, pool: int = 50_000) -> list[Ranked]:
    """The prior's ``k`` best layouts: exactly when the space can be enumerated, else the best of ``pool``
    layouts drawn at random within the space (seeded, so every process gets the same), scored in batches.
    Drawn layouts outside the budget are dropped; duplicates count once."""
    if exhaustive_size_ok(space):
        return exhaustive_top(space, prior, k)
    rng = np.random.default_rng(seed)
    found: dict[tuple, Ranked] = {}
    for s, pools in enumerate(space.schedules):
        for m in space.M:
            n = pool // (len(space.schedules) * len(space.M)) + 1
            depth = len(pools)
            if space.channel_choices is not None:
                channels = rng.choice(np.array(space.channel_choices, dtype=np.int64), size=(n, depth))
            else:
                low, high, log = space.channel_range
                if log:
                    channels = np.exp(rng.uniform(np.log(low), np.log(high + 1), size=(n, depth))).astype(np.int64)
                else:
                    channels = rng.integers(low, high + 1, size=(n, depth))
                channels = channels.clip(low, high)
            params = param_counts(space, m, channels)
            ok = (params >= space.min_params) & (params <= space.max_params)
            channels, params = channels[ok], params[ok]
            if not len(channels):
                continue
            scores = prior.score_many(space.layout(s, m, [int(c) for c in channels[0]]), channels)
            for i in np.argsort(-scores, kind="stable")[: 4 * k]:
                ch = tuple(int(c) for c in channels[i])
                found.setdefault((s, m, ch), Ranked(float(scores[i]), int(params[i]), s, m, ch))
    return sorted(found.values(), key=lambda r: (-r.score, -r.params, r.channels, r.schedule, r.M))[:k]
