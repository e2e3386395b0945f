"""Min cuts of many layouts at once: every layout on one pooling schedule shares the DP's structure.

The leaves-up DP of :mod:`archsearch.core.mincut` computes, per node of the pooling tree, the cheapest cut
below it with the node on side A or B. Those two numbers depend only on the pattern of the node's
subtree (which inputs lie on side A) and on the layout's widths. So the tree is compressed once per
schedule and set of partitions: equal subtrees, within a partition and across partitions, become one
*node type* (a checkerboard has one type per level, whatever the grid). The DP then runs on the types
only, for a whole batch of layouts at once: per level an array (layouts, types) and a gather of the
children's costs. Exact: the same recursion, the same minima (tests hold it equal to the per-layout DP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archsearch.core.layout import Layout
from archsearch.core.mincut import tree_masks

__all__ = ["SharedTree", "log2_widths", "mincut_many", "shared_tree"]


@dataclass(frozen=True)
class SharedTree:
    """The compressed pooling tree of some partitions on one schedule. ``kids[l]``: (types at level l+1,
    window size) indices of each type's children among level l's types (level 0: the input's side,
    type 0 = A, type 1 = B); ``roots``: each partition's type at the top."""

    kids: tuple[np.ndarray, ...]
    roots: np.ndarray

    @property
    def types(self) -> int:
        return sum(len(k) for k in self.kids)


def shared_tree(template: Layout, masks: np.ndarray) -> SharedTree:
    """Compress ``template``'s pooling tree for the partitions in ``masks`` ((P, *input_shape) booleans).
    Depends on the schedule only, never on the template's widths or M."""
    flat = tree_masks(template, masks)
    nodes = np.where(flat, 0, 1)  # (P, N) type of every input
    kids = []
    for layer in template.layers:
        w = int(np.prod(layer.pool))
        groups = nodes.reshape(len(nodes), -1, w)  # (P, windows, w) children's types
        unique, inverse = np.unique(groups.reshape(-1, w), axis=0, return_inverse=True)
        kids.append(unique.astype(np.int64))
        nodes = inverse.reshape(len(nodes), -1)
    return SharedTree(tuple(kids), nodes[:, 0].astype(np.int64))


def log2_widths(M: Sequence[int] | np.ndarray | int, channels: np.ndarray) -> np.ndarray:
    """(L, D+1) log-widths (log2 M, log2 r_0, ..., log2 r_(D-1)) of L layouts: ``M`` one per layout (or
    one for all), ``channels`` (L, D)."""
    channels = np.asarray(channels, dtype=np.float64)
    m = np.broadcast_to(np.asarray(M, dtype=np.float64), (len(channels),))
    return np.concatenate([np.log2(m)[:, None], np.log2(channels)], axis=1)


def mincut_many(tree: SharedTree, widths: np.ndarray) -> np.ndarray:
    """(L, P) log2 min cuts of L layouts (their :func:`log2_widths`) for each partition of ``tree``."""
    widths = np.asarray(widths, dtype=np.float64)
    log_m = widths[:, :1]
    # an input on side A costs nothing with its node on A and one input bond (log2 M) with it on B
    cost_a = np.concatenate([np.zeros_like(log_m), log_m], axis=1)
    cost_b = np.concatenate([log_m, np.zeros_like(log_m)], axis=1)
    for l, kids in enumerate(tree.kids):
        a, b = cost_a[:, kids], cost_b[:, kids]  # (L, types, w)
        cut = np.minimum(a, b).sum(axis=2) + widths[:, l + 1:l + 2]
        cost_a, cost_b = np.minimum(cut, a.sum(axis=2)), np.minimum(cut, b.sum(axis=2))
    return np.minimum(cost_a, cost_b)[:, tree.roots]
