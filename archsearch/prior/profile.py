"""How much a task's data correlates across each partition: the profile that states a task's needs.

Two estimators, after Alexander, De La Vega, Razin and Cohen (NeurIPS 2023, "What makes data suitable
for a locally connected neural network?"):

* **Entanglement entropy of the empirical data tensor.** Each input value x in [0, 1] is embedded as
  (cos(pi theta x), sin(pi theta x)); a sample of n inputs gives the data tensor
  D = sum_i s_i phi(x_i1) (x) ... (x) phi(x_iN), whose matricisation across a partition (A, B) has the same
  singular values as the cross factor V_A diag(s) V_B^T, where G_A = V_A^T V_A is the n x n Gram matrix of
  the sample restricted to side A: G_A[i, i'] = prod_{j in A} cos(pi theta (x_ij - x_i'j)). The entropy of
  the normalised squared singular values (in nats) is the estimate; in bits it is the log2 separation rank
  a network needs across the partition.
  Labels: ten classes do not fit the paper's +-1 signs, so each class is taken one-vs-rest, *balanced*
  (s_i = +1/n_c in the class, -1/n_rest outside: the difference of the class's mean embedding and the
  others'), and the entropies are averaged over classes. Unbalanced signs let the common mean dominate and
  report nearly zero everywhere.
* **The surrogate:** the sum of absolute Pearson correlations between the inputs on the two sides.

Besides each window against the rest, the profile measures where correlations *meet* in the pooling tree:
at level k, each window of the k-th pooling split into its children (the windows of level k - 1, by the
parity of their index, so two children in 1D and a checkerboard of them in 2D), with the data restricted to
the window: the correlation the level-k pooling must combine. Its surrogate is the mean |Pearson
correlation| over the pairs of inputs that first share a window at level k (each pair of inputs meets at
exactly one level, so these pairs partition all pairs). A window against the rest mixes what its inputs
share with their neighbours at every scale; the meets separate the scales.

**Needs from where correlations meet** (:func:`meet_needs`, what ``profile --out`` writes): level k's need
is proportional to C_k, the summed |correlation| of the pairs meeting there, scaled so that the budget's
reference layout meets the needs on average over the levels: n_k = C_k / mean_j (C_j / c_ref_j).

Gram matrices are products over inputs, so their logs are sums over inputs: computed once per input
block with matrix products (log cos expanded to its tenth-order Taylor polynomial; the remainder is
below 1e-8 per input for theta <= 0.1) and reused: side B's is the whole minus side A's.
Pure numpy: no torch, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from archsearch.core.partitions import canonical

__all__ = [
    "DEFAULT_THETA", "LevelProfile", "PartitionProfile", "canonical_windows", "entanglement_entropies",
    "log_gram", "measure_profile", "meet_entropies", "meet_levels", "meet_needs", "meet_sides", "meet_split",
    "meet_surrogate",
    "surrogate_correlations",
]

#: the embedding angle (as a fraction of pi) of Alexander et al.'s measurements
DEFAULT_THETA = 0.085
# log cos(a) = sum_k c_k a^(2k): -1/2, -1/12, -1/45, -17/2520, -31/14175
_LOGCOS = (-1 / 2, -1 / 12, -1 / 45, -17 / 2520, -31 / 14175)


def log_gram(x: np.ndarray, theta: float = DEFAULT_THETA) -> np.ndarray:
    """``L[i, i'] = sum_j log cos(pi theta (x_ij - x_i'j))`` for a sample ``x`` of shape (n, f) in [0, 1].

    Expands each (x - x')^(2k) binomially, so the sum over inputs becomes one matrix product of the
    inputs' powers: O(n^2 f) in BLAS rather than an (n, n, f) array.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if x.shape[1] == 0:
        return np.zeros((n, n))
    a = math.pi * theta
    order = 2 * len(_LOGCOS)
    powers = [np.ones_like(x)]
    for _ in range(order):
        powers.append(powers[-1] * x)
    total = np.zeros((n, n))
    # sum_k c_k a^2k sum_p C(2k, p) (-1)^p x^(2k-p) x'^p, grouped by (2k - p, p)
    coef = np.zeros((order + 1, order + 1))
    for k, c in enumerate(_LOGCOS, start=1):
        for p in range(2 * k + 1):
            coef[2 * k - p, p] += c * a ** (2 * k) * math.comb(2 * k, p) * (-1) ** p
    sums = [P.sum(axis=1) for P in powers]  # terms with one side to the power 0
    for i in range(order + 1):
        for j in range(order + 1):
            if coef[i, j] == 0.0:
                continue
            if i == 0:
                total += coef[i, j] * sums[j][None, :]
            elif j == 0:
                total += coef[i, j] * sums[i][:, None]
            else:
                total += coef[i, j] * (powers[i] @ powers[j].T)
    return total


def _factor(log_g: np.ndarray) -> np.ndarray:
    """V with G = V^T V for G = exp(log_g), dropping directions of negligible weight."""
    g = np.exp(log_g)
    w, u = np.linalg.eigh((g + g.T) / 2)
    keep = w > max(w.max(), 0.0) * 1e-12
    return (u[:, keep] * np.sqrt(w[keep])).T


def _label_signs(y: np.ndarray) -> list[np.ndarray]:
    """Balanced one-vs-rest signs, one vector per class present with both sides non-empty."""
    out = []
    for c in np.unique(y):
        inside = y == c
        if inside.all():
            continue
        out.append(np.where(inside, 1.0 / inside.sum(), -1.0 / (~inside).sum()))
    return out or [np.ones(len(y)) / len(y)]


def _entropy(va: np.ndarray, vb: np.ndarray, signs: list[np.ndarray]) -> float:
    values = []
    for s in signs:
        sv = np.linalg.svd((va * s) @ vb.T, compute_uv=False)
        p = sv ** 2
        total = p.sum()
        if total <= 0:
            values.append(0.0)
            continue
        p = p[p > total * 1e-15] / total
        values.append(float(-(p * np.log(p)).sum()))
    return float(np.mean(values))


def entanglement_entropies(x: np.ndarray, y: np.ndarray, masks: np.ndarray,
                           theta: float = DEFAULT_THETA) -> np.ndarray:
    """Entanglement entropy (nats) of the empirical data tensor across each mask.

    ``x``: (n, f) inputs scaled to [0, 1]; ``y``: (n,) integer labels; ``masks``: (P, f) booleans, True =
    side A. Side A's Gram matrix is built from its inputs, side B's as the whole's divided by side A's.
    """
    x = np.asarray(x, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool).reshape(len(masks), -1)
    if masks.shape[1] != x.shape[1]:
        raise ValueError(f"masks cover {masks.shape[1]} inputs, the sample has {x.shape[1]}")
    whole = log_gram(x, theta)
    signs = _label_signs(np.asarray(y))
    out = np.empty(len(masks))
    for p, m in enumerate(masks):
        side_a = log_gram(x[:, m], theta)
        out[p] = _entropy(_factor(side_a), _factor(whole - side_a), signs)
    return out


def _abs_correlation(x: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between every two inputs (columns) of ``x``; a constant input correlates 0."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0)
    sd = np.sqrt((xc ** 2).sum(axis=0))
    live = sd > 0
    z = np.zeros_like(xc)
    z[:, live] = xc[:, live] / sd[live]
    return np.abs(z.T @ z)


def surrogate_correlations(x: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Sum of |Pearson correlation| between every input on side A and every input on side B (constant
    inputs count as uncorrelated)."""
    return _across(_abs_correlation(x), masks)


def _across(corr: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per mask, the sum of ``corr`` over the pairs (i on side A, j on side B)."""
    masks = np.asarray(masks, dtype=bool).reshape(len(masks), -1)
    return np.array([corr[np.ix_(m, ~m)].sum() for m in masks])


def canonical_windows(shape: Sequence[int], level: int, pool: int | Sequence[int] = 2) -> np.ndarray:
    """Every window of the ``level``-th pooling (pool^level per axis, tiling from the origin) as a mask
    against the rest: (W, *shape) booleans, in row-major order of the windows."""
    shape = tuple(int(s) for s in shape)
    canonical(shape, level, pool)  # validates the level and the pool
    side = tuple(int(w) ** level for w in ((pool,) * len(shape) if isinstance(pool, int) else pool))
    counts = [g // s for g, s in zip(shape, side, strict=True)]
    masks = []
    for index in np.ndindex(*counts):
        m = np.zeros(shape, dtype=bool)
        m[tuple(slice(i * s, (i + 1) * s) for i, s in zip(index, side, strict=True))] = True
        masks.append(m)
    return np.stack(masks)


def meet_sides(shape: Sequence[int], pool: int | Sequence[int] = 2,
               schedule: Sequence[Sequence[int]] | None = None) -> list[tuple[int, ...]]:
    """Per meet level k = 1, 2, ..., the side of its windows per axis: pool^k while the windows tile the
    grid, the whole grid included; with ``schedule`` (one pooling window per level, per axis: a layout's
    schedule, which may pool by 2 and then by 3) the running product of its windows instead, every level
    of it that pools (a layer with a window of 1 joins no inputs; refused when a window does not tile the
    grid)."""
    shape = tuple(int(s) for s in shape)
    if schedule is not None:
        sides, side = [], (1,) * len(shape)
        for level in schedule:
            win = tuple(int(p) for p in level)
            if len(win) != len(shape) or any(w < 1 for w in win):
                raise ValueError(f"a schedule level must be {len(shape)} sizes >= 1, got {list(level)!r}")
            if all(w == 1 for w in win):  # a layer that does not pool: no inputs meet there
                continue
            side = tuple(s * w for s, w in zip(side, win, strict=True))
            if any(g % s for g, s in zip(shape, side, strict=True)):
                raise ValueError(f"windows of {list(side)} do not tile {list(shape)}")
            sides.append(side)
        return sides
    win = (int(pool),) * len(shape) if isinstance(pool, int) else tuple(int(p) for p in pool)
    if len(win) != len(shape) or any(w < 2 for w in win):
        raise ValueError(f"pool must be {len(shape)} sizes >= 2, got {pool!r}")
    sides, k = [], 1
    while all(g % (w ** k) == 0 for g, w in zip(shape, win, strict=True)):
        sides.append(tuple(w ** k for w in win))
        k += 1
    return sides


def meet_levels(shape: Sequence[int], pool: int | Sequence[int] = 2,
                schedule: Sequence[Sequence[int]] | None = None) -> list[int]:
    """Levels k >= 1 whose windows (pool^k per axis, or ``schedule``'s running product) tile the grid, the
    whole grid included: the levels where inputs meet in a pooling tree by ``pool`` (or ``schedule``)."""
    return list(range(1, len(meet_sides(shape, pool, schedule)) + 1))


def meet_split(shape: Sequence[int], level: int, pool: int | Sequence[int] = 2,
               schedule: Sequence[Sequence[int]] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per input (flat, row-major): its window at ``level`` (:func:`meet_sides`), its child window (level
    - 1) and its side when each window is split into its children by the parity of their index sum (True:
    even). Children of one window never share a side with all their siblings: every window is split."""
    shape = tuple(int(s) for s in shape)
    sides = meet_sides(shape, pool, schedule)
    if not 1 <= level <= len(sides):
        raise ValueError(f"level {level} does not tile {list(shape)}: its meet levels are 1 to {len(sides)}")
    side, child_side = sides[level - 1], sides[level - 2] if level > 1 else (1,) * len(shape)
    grids = np.indices(shape)
    window = np.ravel_multi_index(tuple(g // w for g, w in zip(grids, side, strict=True)),
                                  tuple(s // w for s, w in zip(shape, side, strict=True))).ravel()
    child_index = tuple(g // w for g, w in zip(grids, child_side, strict=True))
    child = np.ravel_multi_index(child_index, tuple(s // w for s, w in zip(shape, child_side, strict=True)))
    parity = (sum(child_index) % 2 == 0).ravel()
    return window, child.ravel(), parity


def meet_surrogate(x: np.ndarray, shape: Sequence[int], level: int, pool: int | Sequence[int] = 2,
                   schedule: Sequence[Sequence[int]] | None = None) -> float:
    """Mean |Pearson correlation| over the pairs of inputs that first share a window at ``level`` (same
    window, different children); constant inputs count as uncorrelated."""
    corr = _abs_correlation(np.asarray(x, dtype=np.float64).reshape(len(x), -1))
    return float(corr[_meeting(shape, level, pool, schedule)].mean())


def _meeting(shape: Sequence[int], level: int, pool: int | Sequence[int],
             schedule: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """(n, n) booleans: inputs i and j first share a window at ``level`` (same window, different children)."""
    window, child, _ = meet_split(shape, level, pool, schedule)
    return (window[:, None] == window[None, :]) & (child[:, None] != child[None, :])


def meet_needs(totals: Sequence[float], reference: Sequence[float]) -> np.ndarray:
    """Needs (bits) per meet level from ``totals`` (C_k, summed |correlation| of the pairs meeting at
    level k) and the reference layout's capacity across each level's split (c_ref_k, bits):
    n_k = C_k / mean_j(C_j / c_ref_j). Proportional to where the data's correlation meets; on average over
    the levels the reference has exactly what it needs (mean n_k / c_ref_k = 1)."""
    c = np.asarray(totals, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if c.shape != ref.shape or not len(c) or (c < 0).any() or (ref <= 0).any():
        raise ValueError(f"need one total >= 0 and one reference capacity > 0 per level; got {c}, {ref}")
    scale = float(np.mean(c / ref))
    return c / scale if scale > 0 else np.zeros_like(c)


def meet_weights(totals: Sequence[float]) -> np.ndarray:
    """Weights per meet level from ``totals`` (C_k, summed |correlation| of the pairs meeting at level k):
    each level's share of the data's correlation, scaled to mean 1 (the weight every level has under
    ``meet_needs``). Where more of the correlation meets, a deficit there costs more; with no need stated,
    what is enough is the reference layout's capacity. All zero when the data has no correlation."""
    c = np.asarray(totals, dtype=float)
    if not len(c) or (c < 0).any() or not np.isfinite(c).all():
        raise ValueError(f"need one finite total >= 0 per level; got {c}")
    return c / c.mean() if c.sum() > 0 else np.zeros_like(c)


def meet_entropies(x: np.ndarray, y: np.ndarray, shape: Sequence[int], level: int,
                   pool: int | Sequence[int] = 2, windows: Sequence[int] | None = None,
                   theta: float = DEFAULT_THETA, schedule: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """Entanglement entropy (nats) of the data restricted to each level-``level`` window, across its
    children split by parity (:func:`meet_split`); ``windows``: which windows (default: all)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    window, _, side = meet_split(shape, level, pool, schedule)
    signs = _label_signs(np.asarray(y))
    chosen = np.unique(window) if windows is None else np.asarray(windows)
    out = np.empty(len(chosen))
    for i, w in enumerate(chosen):
        a, b = (window == w) & side, (window == w) & ~side
        out[i] = _entropy(_factor(log_gram(x[:, a], theta)), _factor(log_gram(x[:, b], theta)), signs)
    return out


@dataclass(frozen=True)
class PartitionProfile:
    """What the data carries across one partition: entropy (nats, and bits = the need), surrogate."""

    name: str
    entropy: float
    surrogate: float
    level: int | None = None  #: canonical (or meet) level, None for a task's own partition
    windows: int = 1  #: windows averaged over (canonical and meet levels)
    pairs: int = 0  #: meet levels: the pairs of inputs meeting there (``surrogate`` is their mean |corr|)
    child: tuple[int, ...] = ()  #: meet levels: the side of the children each window is split into, per axis

    @property
    def surrogate_total(self) -> float:
        """Meet levels: the summed |correlation| of the pairs meeting there."""
        return self.surrogate * self.pairs

    @property
    def need_bits(self) -> float:
        return self.entropy / math.log(2)


@dataclass(frozen=True)
class LevelProfile:
    """All canonical levels and the task's own partitions, as measured on one sample."""

    samples: int
    theta: float
    pool: tuple[int, ...]
    rows: tuple[PartitionProfile, ...] = field(default_factory=tuple)
    #: per meet level (fine to coarse): entropy across each window's children, and as ``surrogate`` the
    #: mean |correlation| per pair of inputs meeting there (not a sum across a cut, as in ``rows``)
    meets: tuple[PartitionProfile, ...] = field(default_factory=tuple)


def measure_profile(x: np.ndarray, y: np.ndarray, shape: Sequence[int], masks: np.ndarray, names: Sequence[str],
                    pool: int | Sequence[int] = 2, samples: int = 256, windows: int = 16,
                    theta: float = DEFAULT_THETA, seed: int = 0,
                    schedule: Sequence[Sequence[int]] | None = None) -> LevelProfile:
    """The profile of a data sample: every canonical level of pooling by ``pool`` (entropy and surrogate
    averaged over up to ``windows`` of its windows, a seeded choice), each of the task's partitions, and
    every meet level of pooling by ``pool``, or along ``schedule`` when given (entropy averaged over up to
    ``windows`` windows; surrogate over all pairs).

    ``x``: (n, *shape) inputs (scaled here to [0, 1] by the sample's range), ``y``: (n,) labels; the first
    ``samples`` of a seeded shuffle are used.
    """
    from archsearch.core.partitions import canonical_levels

    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(seed)
    take = rng.permutation(len(x))[:samples]
    xs = np.asarray(x, dtype=np.float64)[take].reshape(len(take), -1)
    span = xs.max() - xs.min()
    xs = (xs - xs.min()) / (span if span > 0 else 1.0)
    ys = np.asarray(y)[take]
    corr = _abs_correlation(xs)  # once: every level, partition and meet reads its own pairs of it
    rows: list[PartitionProfile] = []
    win = (int(pool),) * len(shape) if isinstance(pool, int) else tuple(int(p) for p in pool)
    for k in canonical_levels(shape, win):
        all_windows = canonical_windows(shape, k, win)
        chosen = all_windows[np.sort(rng.permutation(len(all_windows))[:windows])].reshape(-1, xs.shape[1])
        ent = entanglement_entropies(xs, ys, chosen, theta)
        sur = _across(corr, chosen)
        rows.append(PartitionProfile(f"level-{k}", float(ent.mean()), float(sur.mean()), k, len(chosen)))
    masks = np.asarray(masks, dtype=bool).reshape(len(masks), -1)
    if len(masks):
        ent = entanglement_entropies(xs, ys, masks, theta)
        sur = _across(corr, masks)
        rows += [PartitionProfile(str(n), float(e), float(s)) for n, e, s in zip(names, ent, sur, strict=True)]
    meets = []
    sides = meet_sides(shape, win, schedule)
    for k, side in enumerate(sides, start=1):
        count = int(np.prod([g // w for g, w in zip(shape, side, strict=True)]))
        chosen = np.sort(rng.permutation(count)[:windows])
        ent = meet_entropies(xs, ys, shape, k, win, chosen, theta, schedule)
        meeting = _meeting(shape, k, win, schedule)
        child = sides[k - 2] if k > 1 else (1,) * len(shape)
        meets.append(PartitionProfile(f"meet-{k}", float(ent.mean()), float(corr[meeting].mean()), k,
                                      len(chosen), int(meeting.sum() // 2), tuple(child)))
    return LevelProfile(len(take), theta, win, tuple(rows), tuple(meets))
