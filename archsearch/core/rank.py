"""The separation rank measured directly: contract a ConvAC with Gaussian weights and take the numerical
rank of the matricization [[A^y]]_{A,B}. Only for small networks: the coefficient tensor has M^N entries.
"""

from __future__ import annotations

import math

import numpy as np

from archsearch.core.layout import Layout
from archsearch.core.mincut import _as_masks, _tree_order

__all__ = ["DEFAULT_MAX_ENTRIES", "RankTooLarge", "coefficient_tensor", "separation_rank"]

#: largest tensor (entries, float64) contracted or decomposed: 2^24 entries = 128 MiB
DEFAULT_MAX_ENTRIES = 2**24


class RankTooLarge(ValueError):
    """The network is too large for its coefficient tensor to be contracted and decomposed."""


def contraction_size(layout: Layout) -> float:
    """Entries of the largest array the contraction holds (the pooled tensors of the top layer), as a
    float (it overflows to inf rather than building an integer of thousands of digits)."""
    n, field, biggest = layout.n_inputs, 1, 0.0
    log_m = math.log2(layout.M)
    for layer in layout.layers:
        w = int(np.prod(layer.pool))
        field *= w
        n //= w
        log_size = math.log2(n * layer.channels) + field * log_m
        biggest = max(biggest, 2.0 ** min(log_size, 1023.0))
    return biggest


def _check_size(layout: Layout, max_entries: int) -> None:
    # in log10: M^N for N = 4096 inputs has thousands of digits, too many to even print
    log10_size = max(math.log10(max(contraction_size(layout), 1)), layout.n_inputs * math.log10(layout.M))
    if log10_size > math.log10(max_entries):
        raise RankTooLarge(
            f"the separation rank of this network needs a tensor of about 10^{int(log10_size)} entries "
            f"(M^N = {layout.M}^{layout.n_inputs}), over the limit of {max_entries}; "
            "measure it on a smaller network"
        )


def coefficient_tensor(layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """A^y for one output (a random row g of G) with i.i.d. Gaussian conv weights, float64.

    Returned with one axis of size M per input, in flat row-major input order. Every conv position has
    its own weights (the tensor network of DESIGN.md is not weight-shared). Each layer is rescaled to
    unit norm, which changes no rank.
    """
    order = _tree_order(layout.input_shape, layout.pools)
    n, m = layout.n_inputs, layout.M
    # t[p, gamma, f]: position p's output channel gamma as a tensor over the inputs below it
    t = rng.standard_normal((n, layout.channels[0], m))
    for l, layer in enumerate(layout.layers):
        w = int(np.prod(layer.pool))
        t = t.reshape(-1, w, *t.shape[1:])
        acc = t[:, 0]
        for i in range(1, w):  # product pooling: same channel, outer product over the fields
            acc = (acc[:, :, :, None] * t[:, i, :, None, :]).reshape(acc.shape[0], acc.shape[1], -1)
        acc /= np.linalg.norm(acc)
        if l + 1 < layout.depth:
            conv = rng.standard_normal((acc.shape[0], layout.channels[l + 1], layer.channels))
            t = np.einsum("qor,qrf->qof", conv, acc)
        else:
            g = rng.standard_normal(layer.channels)
            t = np.einsum("r,rf->f", g, acc[0])
    # axes are in tree order; put them back in row-major input order
    tree = t.reshape((m,) * n)
    return np.transpose(tree, np.argsort(order))


def separation_rank(
    layout: Layout,
    masks: np.ndarray,
    seed: int = 0,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    rtol: float | None = None,
) -> np.ndarray:
    """Numerical rank of [[A^y]]_{A,B} for each partition in ``masks`` (shape ``(P, *input_shape)``).

    Singular values below ``rtol`` times the largest count as zero. The default, ``10 * max(m, n) * eps``,
    is ten times numpy's: the contraction's round-off sits just above numpy's threshold, while the true
    singular values of product-pooled networks span many decades and must not be cut off.
    Raises :class:`RankTooLarge` before any work when the
    tensor would exceed ``max_entries``.

    Examples
    --------
    >>> from archsearch.core.layout import Layout
    >>> lay = Layout.uniform((8,), M=2, channels=4, pools=[2, 2, 2])
    >>> separation_rank(lay, np.array([[1, 1, 1, 1, 0, 0, 0, 0]], bool)).tolist()
    [4]
    """
    masks = _as_masks(layout, masks)
    _check_size(layout, max_entries)
    a = coefficient_tensor(layout, np.random.default_rng(seed))
    m, _n = layout.M, layout.n_inputs
    ranks = []
    for mask in masks.reshape(len(masks), -1):
        side_a, side_b = np.flatnonzero(mask), np.flatnonzero(~mask)
        mat = np.transpose(a, [*side_a, *side_b]).reshape(m ** len(side_a), m ** len(side_b))
        sv = np.linalg.svd(mat, compute_uv=False)
        tol = (10 * max(mat.shape) * np.finfo(np.float64).eps if rtol is None else rtol) * sv[0]
        ranks.append(int((sv > tol).sum()) if sv[0] > 0 else 0)
    return np.array(ranks, dtype=np.int64)
