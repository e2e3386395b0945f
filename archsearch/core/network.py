"""The tensor network of a layout as a networkx hypergraph (DESIGN.md, "The tensor network").

The graph is bipartite: *tensor* nodes (inputs ``("x", j)``, convs ``("A", l, p)`` and the output
``"G"``) and *bond* nodes, one per hyperedge, with ``dim`` (the bond dimension) and ``capacity``
(``log2 dim``). A bond node's neighbours are the hyperedge's members. Input bonds ``("in", j)`` join
``x_j`` to ``A(0, j)`` with dim M; pooling bonds ``("pool", l, q)`` join the convs of one layer-l window
to their parent with dim r_l. One delta tensor is one hyperedge, so splitting it costs r_l once.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from archsearch.core.layout import Layout

__all__ = ["BOND", "INPUT", "TENSOR", "bonds", "tensor_network", "window_parents"]

INPUT, TENSOR, BOND = "input", "tensor", "bond"


def window_parents(grid: tuple[int, ...], pool: tuple[int, ...]) -> np.ndarray:
    """For every cell of ``grid``, the flat index of its pooling window in the pooled grid."""
    idx = np.indices(grid)
    pooled = tuple(g // w for g, w in zip(grid, pool, strict=True))
    coords = tuple(i // w for i, w in zip(idx, pool, strict=True))
    return np.ravel_multi_index(coords, pooled).ravel()


def tensor_network(layout: Layout) -> nx.Graph:
    """Hypergraph of ``layout``'s ConvAC.

    Examples
    --------
    >>> from archsearch.core.layout import Layout
    >>> g = tensor_network(Layout.uniform((4,), M=2, channels=3, pools=[2, 2]))
    >>> sorted(d["dim"] for _, d in bonds(g))
    [2, 2, 2, 2, 3, 3, 3]
    """
    g = nx.Graph(layout=layout)
    grids = layout.grids()
    n = layout.n_inputs
    shape0 = grids[0]
    for j in range(n):
        pos = np.unravel_index(j, shape0)
        g.add_node(("x", j), kind=INPUT, index=j, pos=tuple(int(p) for p in pos))
        g.add_node(("A", 0, j), kind=TENSOR, layer=0)
        _add_bond(g, ("in", j), layout.M, -1, [("x", j), ("A", 0, j)])
    for l, (grid, layer) in enumerate(zip(grids[:-1], layout.layers, strict=True)):
        parents = window_parents(grid, layer.pool)
        last = l == layout.depth - 1
        members: dict[int, list] = {}
        for p, q in enumerate(parents.tolist()):
            members.setdefault(q, []).append(("A", l, p))
        for q, convs in members.items():
            parent = "G" if last else ("A", l + 1, q)
            g.add_node(parent, kind=TENSOR, layer=l + 1)
            _add_bond(g, ("pool", l, q), layer.channels, l, [*convs, parent])
    return g


def _add_bond(g: nx.Graph, name: tuple, dim: int, layer: int, members: list) -> None:
    g.add_node(name, kind=BOND, dim=int(dim), capacity=math.log2(dim), layer=layer)
    for m in members:
        g.add_edge(name, m)


def bonds(g: nx.Graph):
    """Iterate ``(bond_node, data)`` over the hyperedges of ``g``."""
    return ((v, d) for v, d in g.nodes(data=True) if d.get("kind") == BOND)
