"""The ConvAC a block layout stands for (:mod:`archsearch.core.blockcut`), evaluated: its grid tensor on
random templates and the numerical rank of that tensor across a partition, a lower bound on the
separation rank the min cut bounds from above. Only for tiny networks: the grid tensor has T^N entries.

The ConvAC runs a layout's program step by step with i.i.d. Gaussian weights, a separate set at every
position (as :mod:`archsearch.core.rank`): ``linear`` sums a weighted window, ``product`` multiplies a
tile's 1 x 1-mapped children channel by channel, ``add`` adds the saved stream; the output is a random
linear functional of the last (1 x 1) state. Input j takes T template vectors in R^M, so the grid tensor
G[t_1, ..., t_N] = h(v_1^(t_1), ..., v_N^(t_N)) is a submatrix of every matricization of h, and its rank
never exceeds h's separation rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product as cartesian

import numpy as np

from archsearch.core.blockcut import Step

__all__ = ["MAX_GRID_ENTRIES", "grid_rank", "grid_tensor"]

#: most entries of a grid tensor evaluated (T^N): 3^10
MAX_GRID_ENTRIES = 3 ** 10


def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape) / np.sqrt(shape[-2] if len(shape) > 1 else 1)


def _run(step: Step, u: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
    B, H, W, C = u.shape
    (kh, kw), (ph, pw) = step.kernel, step.pad
    if step.op == "linear":  # stride 1: H + 2 pad - k + 1 positions
        ho, wo = H + 2 * ph - kh + 1, W + 2 * pw - kw + 1
        out = np.zeros((B, ho, wo, width))
        for i, j in cartesian(range(ho), range(wo)):
            for dy, dx in cartesian(range(kh), range(kw)):
                y, x = i + dy - ph, j + dx - pw
                if 0 <= y < H and 0 <= x < W:
                    out[:, i, j] += u[:, y, x] @ _weights(rng, C, width)
        return out
    ho, wo = -(-H // kh), -(-W // kw)  # product pooling over tiles, the last ones cut short
    out = np.ones((B, ho, wo, width))
    for i, j in cartesian(range(H), range(W)):
        out[:, i // kh, j // kw] *= u[:, i, j] @ _weights(rng, C, width)
    return out


def _unit(u: np.ndarray) -> np.ndarray:
    """Rescaled to unit RMS (a scalar: the same ConvAC with rescaled weights, so no rank changes)."""
    scale = np.sqrt(np.mean(u * u))
    return u / scale if scale > 0 else u


def grid_tensor(steps: Sequence[Step], input_shape: tuple[int, int], M: int, widths: Sequence[int],
                templates: int = 3, seed: int = 0, max_entries: int = MAX_GRID_ENTRIES) -> np.ndarray:
    """The grid tensor of the program's ConvAC, one axis of ``templates`` per input (row-major order)."""
    H, W = input_shape
    n = H * W
    if templates ** n > max_entries:
        raise ValueError(f"a grid tensor of {templates}^{n} entries is over the limit of {max_entries}")
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, templates, M))  # input j's templates
    picks = np.array(list(cartesian(range(templates), repeat=n)), dtype=np.int64)  # (T^n, n)
    u = vectors[np.arange(n), picks].reshape(len(picks), H, W, M)
    saved = None
    for step in steps:
        if step.op == "save":
            saved = u
        elif step.op == "drop":
            saved = None
        elif step.op == "add":
            # random weights per channel (the last convs' scale): unit streams of opposite sign would cancel
            a, b = rng.standard_normal((2, u.shape[-1]))
            u, saved = a * _unit(u) + b * _unit(saved), None
        elif step.saved:
            saved = _unit(_run(step, saved, widths[step.slot], rng))
        else:
            u = _unit(_run(step, u, widths[step.slot], rng))
    if u.shape[1:3] != (1, 1):
        raise ValueError(f"the program ends on a {u.shape[1]} x {u.shape[2]} grid, not on one position")
    h = u[:, 0, 0] @ rng.standard_normal(u.shape[-1])
    return h.reshape((templates,) * n)


def grid_rank(steps: Sequence[Step], input_shape: tuple[int, int], M: int, widths: Sequence[int],
              masks: np.ndarray, templates: int = 3, seed: int = 0, rtol: float = 1e-9,
              max_entries: int = MAX_GRID_ENTRIES) -> np.ndarray:
    """Numerical rank of the grid tensor across each partition in ``masks`` ((P, H, W), True = side A):
    singular values below ``rtol`` times the largest count as zero."""
    g = grid_tensor(steps, input_shape, M, widths, templates, seed, max_entries)
    ranks = []
    for mask in np.asarray(masks, dtype=bool).reshape(len(masks), -1):
        a, b = np.flatnonzero(mask), np.flatnonzero(~mask)
        mat = np.transpose(g, [*a, *b]).reshape(templates ** len(a), templates ** len(b))
        sv = np.linalg.svd(mat, compute_uv=False)
        ranks.append(int((sv > rtol * sv[0]).sum()) if sv[0] > 0 else 0)
    return np.array(ranks, dtype=np.int64)
