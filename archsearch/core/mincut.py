"""Exact minimal multiplicative cut weights, in log2, two ways.

* :func:`log2_mincut_flow` is the definition: any tensor-network hypergraph, each hyperedge turned into
  Lawler's gadget, and a networkx s-t minimum cut.
* :func:`log2_mincut` / :func:`explain_mincut` is the fast path for layouts: the network is a hypertree,
  so the min cut is a dynamic programme from the leaves up, vectorised over the grid and batched over
  partitions. ``cost[s]`` is the cheapest cut below a node placed on side ``s``; through a window of
  weight ``w`` with children ``c``: ``min(sum c[s], log2 w + sum min(c[A], c[B]))``.
Tests hold the two equal everywhere both run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from archsearch.core.layout import Layout

if TYPE_CHECKING:  # networkx is imported only where the general min cut runs
    import networkx as nx

__all__ = ["CutExplanation", "cut_bonds_flow", "explain_mincut", "log2_mincut", "log2_mincut_flow", "log2_output_cut",
           "output_positions"]

_TIE = 1e-9


def _as_masks(layout: Layout, masks: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks, dtype=bool)
    shape = layout.input_shape
    if masks.shape == shape:
        masks = masks[None]
    if masks.shape[1:] != shape:
        raise ValueError(
            f"masks must have shape (P, {', '.join(map(str, shape))}) for this layout, "
            f"got {masks.shape}"
        )
    return masks


@lru_cache(maxsize=64)
def _tree_order(shape: tuple[int, ...], pools: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """Permutation of the flat inputs that makes every pooling window, at every layer, contiguous."""
    ids = np.arange(int(np.prod(shape))).reshape(*shape, 1)
    nd = len(shape)
    for pool in pools:
        split = []
        for g, w in zip(ids.shape[:nd], pool, strict=True):
            split += [g // w, w]
        v = ids.reshape(*split, ids.shape[-1])
        outer = [2 * i for i in range(nd)]
        inner = [2 * i + 1 for i in range(nd)]
        ids = v.transpose(*outer, *inner, 2 * nd).reshape(*(split[0::2]), -1)
    return ids.ravel()


def tree_masks(layout: Layout, masks: np.ndarray) -> np.ndarray:
    """Masks flattened into tree order, (P, N): computed once, reusable for every layout on the same
    pooling schedule (the prior does this)."""
    masks = _as_masks(layout, masks)
    return masks.reshape(len(masks), -1)[:, _tree_order(layout.input_shape, layout.pools)]


def _run_dp(layout: Layout, flat: np.ndarray, keep: bool):
    """Leaves-up DP on tree-ordered inputs; returns (cost of G on side A/B, per-layer trace)."""
    P = len(flat)
    log_m = np.log2(layout.M)
    trace = []
    layers = layout.layers
    if keep:
        # cost of A(0, j) on side A / B: free on its input's side, log2 M across the input bond
        cost_a = np.where(flat, 0.0, log_m)
        cost_b = log_m - cost_a
    else:
        # first layer from counts alone: a child costs log2 M off its side, and min(c[A], c[B]) = 0
        w = int(np.prod(layers[0].pool))
        n_a = flat.reshape(P, -1, w).sum(axis=2)
        keep_a, keep_b = (w - n_a) * log_m, n_a * log_m
        cut = np.log2(layers[0].channels)
        cost_a, cost_b = np.minimum(keep_a, cut), np.minimum(keep_b, cut)
        layers = layers[1:]
    for layer in layers:
        w = int(np.prod(layer.pool))
        a, b = cost_a.reshape(P, -1, w), cost_b.reshape(P, -1, w)
        keep_a, keep_b = a.sum(axis=2), b.sum(axis=2)  # every child on the parent's side
        log_r = np.log2(layer.channels)
        cut = np.minimum(a, b).sum(axis=2)
        cut += log_r
        if keep:
            slack = _TIE if log_r > 0 else -_TIE  # ties: report a real bond, never a free one
            cut_a, cut_b = cut < keep_a + slack, cut < keep_b + slack
            trace.append((cut_a, cut_b, cost_b < cost_a))
            cost_a = np.where(cut_a, cut, keep_a)
            cost_b = np.where(cut_b, cut, keep_b)
        else:
            cost_a = np.minimum(cut, keep_a)
            cost_b = np.minimum(cut, keep_b)
    return np.stack([cost_a[:, 0], cost_b[:, 0]], axis=1), trace


def log2_mincut_tree(layout: Layout, flat: np.ndarray) -> np.ndarray:
    """:func:`log2_mincut` on masks already in tree order (see :func:`tree_masks`)."""
    return _run_dp(layout, flat, keep=False)[0].min(axis=1)


def log2_mincut(layout: Layout, masks: np.ndarray) -> np.ndarray:
    """log2 of the minimal cut weight of ``layout`` for each partition in ``masks``.

    ``masks`` is boolean, shape ``(P, *input_shape)`` (True = side A); returns ``P`` floats.

    Examples
    --------
    >>> from archsearch.core.layout import Layout
    >>> lay = Layout.uniform((8,), M=2, channels=4, pools=[2, 2, 2])
    >>> masks = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0, 1, 0]], bool)
    >>> log2_mincut(lay, masks).tolist()     # left-right: r_2 = 4; interleaved: min(M, r_0)^4
    [2.0, 4.0]
    """
    return log2_mincut_tree(layout, tree_masks(layout, masks))


def output_positions(layout: Layout) -> np.ndarray:
    """Bonds per level of the tree, (D+1,): the input bonds (one per input), then each layer's pooling
    bonds (one per window it pools)."""
    grids = layout.grids()
    return np.array([layout.n_inputs] + [int(np.prod(g)) for g in grids[1:]], dtype=float)


def log2_output_cut(layout: Layout) -> float:
    """log2 of the cheapest cut between every input and the output: the whole input against the
    classifier's answer. A tree's cheapest such cut takes one whole level of bonds, so it is the min over
    levels of (bonds at the level) x log2 (their width): n log2 M, then per layer windows x log2 r.

    Examples
    --------
    >>> from archsearch.core.layout import Layout
    >>> lay = Layout.uniform((8,), M=2, channels=4, pools=[2, 2, 2])
    >>> log2_output_cut(lay.with_channels([16, 16, 2]))  # the last bond, 1 bit
    1.0
    >>> log2_output_cut(lay.with_channels([16, 2, 8]))  # both bonds of layer 1, 1 bit each
    2.0
    """
    widths = np.log2([layout.M] + [ly.channels for ly in layout.layers])
    return float((output_positions(layout) * widths).min())


@dataclass(frozen=True)
class CutExplanation:
    """Where a min cut runs: ``counts[p, k]`` bonds cut at level k (0 = input bonds, l+1 = layer l)."""

    log2_mincut: np.ndarray
    counts: np.ndarray
    dims: tuple[int, ...]
    #: per level k, a boolean array (P, *grid) marking the cut bonds: level 0 over the input grid (input
    #: bonds), level l+1 over the grid after layer l's pooling (one bond per window)
    cut_windows: tuple[np.ndarray, ...] = ()

    def levels(self) -> list[str]:
        """Names of the levels of bonds: the input's, then each hidden layer's, numbered from 1 as everywhere
        the tool shows a layer (``score``, ``bench eval``, the pictures)."""
        return ["input (M)"] + [f"layer {l + 1}" for l in range(len(self.dims) - 1)]

    def describe(self, p: int) -> str:
        """``"1 x layer 6 (r=8)"``-style text for partition ``p`` (layers numbered from 1)."""
        parts = []
        for k in np.nonzero(self.counts[p])[0][::-1]:
            name = f"input bonds (M={self.dims[0]})" if k == 0 else f"layer {k} (r={self.dims[k]})"
            parts.append(f"{int(self.counts[p, k])} x {name}")
        return ", ".join(parts) if parts else "nothing (no bond crossed)"


def explain_mincut(layout: Layout, masks: np.ndarray) -> CutExplanation:
    """Min cut values plus, per partition, how many bonds of each layer one minimal cut crosses."""
    masks = _as_masks(layout, masks)
    flat = tree_masks(layout, masks)
    cost, trace = _run_dp(layout, flat, keep=True)
    P = len(masks)
    counts = np.zeros((P, layout.depth + 1), dtype=np.int64)
    grids, pools = layout.grids(), layout.pools
    windows: list[np.ndarray] = [np.empty(0)] * (layout.depth + 1)
    side = (cost[:, 1] < cost[:, 0])[:, None]  # output G's side, True = B
    for l in range(layout.depth - 1, -1, -1):
        cut_a, cut_b, child_pref = trace[l]
        is_cut = np.where(side, cut_b, cut_a)
        counts[:, l + 1] = is_cut.sum(axis=1)
        windows[l + 1] = _untree(is_cut, grids[l + 1], pools[l + 1 :])
        w = int(np.prod(layout.layers[l].pool))
        side = np.where(np.repeat(is_cut, w, axis=1), child_pref, np.repeat(side, w, axis=1))
    counts[:, 0] = (side == flat).sum(axis=1)  # A(0, j) on B (True) while x_j on A (True)
    windows[0] = _untree(side == flat, grids[0], pools)
    dims = (layout.M, *layout.channels)
    return CutExplanation(cost.min(axis=1), counts, dims, tuple(windows))


def _untree(values: np.ndarray, grid: tuple[int, ...], pools: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """(P, n) values in tree order -> (P, *grid) in grid order."""
    out = np.empty_like(values)
    out[:, _tree_order(grid, tuple(pools))] = values
    return out.reshape(len(values), *grid)


# -- the general definition: max flow through Lawler's gadget ---------------------------------------
def _gadget(g: nx.Graph) -> nx.DiGraph:
    import networkx as nx

    from archsearch.core.network import BOND

    d = nx.DiGraph()
    for b, data in g.nodes(data=True):
        if data.get("kind") != BOND:
            continue
        b_in, b_out = (b, "in"), (b, "out")
        d.add_edge(b_in, b_out, capacity=float(data["capacity"]))
        for m in g[b]:
            d.add_edge(m, b_in)  # no capacity attribute: infinite
            d.add_edge(b_out, m)
    return d


def _flow_cut(g: nx.Graph, mask: np.ndarray, flow_func: Callable | None):
    import networkx as nx

    from archsearch.core.network import INPUT

    inputs = {d["index"]: v for v, d in g.nodes(data=True) if d.get("kind") == INPUT}
    flat = np.asarray(mask, dtype=bool).ravel()
    if len(flat) != len(inputs):
        raise ValueError(f"mask has {len(flat)} inputs, the network {len(inputs)}")
    d = g.graph.get("_gadget")
    if d is None:
        d = g.graph["_gadget"] = _gadget(g)
    s, t = ("source",), ("sink",)
    for j, v in inputs.items():
        if flat[j]:
            d.add_edge(s, v)
        else:
            d.add_edge(v, t)
    try:
        value, (reach, _) = nx.minimum_cut(d, s, t, flow_func=flow_func)
    finally:
        d.remove_node(s)
        d.remove_node(t)
    return value, reach


def log2_mincut_flow(
    network: nx.Graph | Layout, mask: np.ndarray, flow_func: Callable | None = None
) -> float:
    """log2 min cut weight of one partition by max flow (the general definition).

    ``network`` is a tensor-network hypergraph (any shape, see :mod:`archsearch.core.network`) or a layout;
    ``flow_func`` is any networkx flow function (default: networkx's, preflow-push).

    Examples
    --------
    >>> from archsearch.core.layout import Layout
    >>> lay = Layout.uniform((8,), M=2, channels=4, pools=[2, 2, 2])
    >>> log2_mincut_flow(lay, np.array([1, 1, 1, 1, 0, 0, 0, 0], bool))
    2.0
    """
    from archsearch.core.network import tensor_network

    g = tensor_network(network) if isinstance(network, Layout) else network
    value, _ = _flow_cut(g, mask, flow_func)
    return float(value)


def cut_bonds_flow(network: nx.Graph, mask: np.ndarray, flow_func: Callable | None = None) -> list:
    """The bond nodes a minimum cut (by max flow) crosses."""
    from archsearch.core.network import BOND

    _, reach = _flow_cut(network, mask, flow_func)
    return [
        b for b, d in network.nodes(data=True)
        if d.get("kind") == BOND and (b, "in") in reach and (b, "out") not in reach
    ]
