"""The two min-cut implementations agree; both match the closed forms of DESIGN.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.layout import Layer, Layout
from archsearch.core.mincut import cut_bonds_flow, explain_mincut, log2_mincut, log2_mincut_flow, log2_output_cut
from archsearch.core.network import INPUT, tensor_network
from archsearch.core.partitions import family_mask
from tests.conftest import layouts, layouts_and_masks


@settings(max_examples=120, deadline=None)
@given(layouts_and_masks(max_window=8))
def test_tree_dp_equals_max_flow(case):
    lay, masks = case
    dp = log2_mincut(lay, masks)
    g = tensor_network(lay)
    flow = np.array([log2_mincut_flow(g, m) for m in masks])
    np.testing.assert_allclose(dp, flow, rtol=0, atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(layouts(max_window=8))
def test_output_cut_is_the_max_flow_between_the_input_and_the_output(lay):
    """The whole input against the output: tie the output G to one extra input by a bond too wide to cut;
    max flow between it and every real input is the closed form (the narrowest level of bonds)."""
    g = tensor_network(lay)
    n = lay.n_inputs
    g.add_node(("x", n), kind=INPUT, index=n, pos=())
    g.add_node(("answer",), kind="bond", dim=2**60, capacity=60.0, layer=lay.depth)
    g.add_edge(("answer",), ("x", n))
    g.add_edge(("answer",), "G")
    mask = np.ones(n + 1, bool)
    mask[n] = False
    assert log2_output_cut(lay) == pytest.approx(log2_mincut_flow(g, mask), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(layouts_and_masks(max_window=8))
def test_flow_cut_bonds_weigh_the_cut(case):
    """The bonds max flow reports cut sum to the cut value, and removing them separates A from B."""
    lay, masks = case
    g = tensor_network(lay)
    for m in masks:
        cut = cut_bonds_flow(g, m)
        assert sum(g.nodes[b]["capacity"] for b in cut) == pytest.approx(log2_mincut_flow(g, m), abs=1e-9)
        h = g.copy()
        h.remove_nodes_from(cut)
        flat = m.ravel()
        import networkx as nx

        for comp in nx.connected_components(h):
            sides = {bool(flat[v[1]]) for v in comp if v[0] == "x"}
            assert len(sides) <= 1


@settings(max_examples=120, deadline=None)
@given(layouts_and_masks(max_window=6))
def test_explanation_adds_up(case):
    """Counted bonds weigh exactly the min cut, and the per-window map agrees with the counts."""
    lay, masks = case
    ex = explain_mincut(lay, masks)
    np.testing.assert_allclose(ex.counts @ np.log2(ex.dims), ex.log2_mincut, atol=1e-9)
    np.testing.assert_allclose(ex.log2_mincut, log2_mincut(lay, masks), atol=0)
    for k, win in enumerate(ex.cut_windows):
        assert (win.reshape(len(masks), -1).sum(axis=1) == ex.counts[:, k]).all()


@settings(max_examples=80, deadline=None)
@given(layouts_and_masks(max_window=6))
def test_swapping_sides_changes_nothing(case):
    lay, masks = case
    np.testing.assert_allclose(log2_mincut(lay, masks), log2_mincut(lay, ~masks), atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(layouts_and_masks(max_window=6), st.data())
def test_widening_a_layer_never_lowers_a_cut(case, data):
    lay, masks = case
    l = data.draw(st.integers(0, lay.depth - 1))
    wider = lay.with_channels([c + (i == l) * data.draw(st.integers(1, 5)) for i, c in enumerate(lay.channels)])
    assert (log2_mincut(wider, masks) >= log2_mincut(lay, masks) - 1e-9).all()


# -- closed forms -----------------------------------------------------------------------------------
def _binary_1d(L: int, rng: np.random.Generator) -> Layout:
    return Layout((2**L,), int(rng.integers(1, 12)), tuple(Layer(int(rng.integers(1, 40)), (2,)) for _ in range(L)))


@pytest.mark.parametrize("L", [2, 3, 4, 5, 6, 8, 12])
def test_left_right_closed_form(L):
    rng = np.random.default_rng(L)
    for _ in range(20):
        lay = _binary_1d(L, rng)
        N, r, M = lay.n_inputs, lay.channels, lay.M
        terms = [math.log2(r[L - 1])] + [2 ** (L - 2 - l) * math.log2(r[l]) for l in range(L - 1)]
        terms.append(N / 2 * math.log2(M))
        mask = family_mask("left-right", (N,))
        assert log2_mincut(lay, mask[None])[0] == pytest.approx(min(terms), abs=1e-9)


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 12])
def test_interleaved_closed_form(L):
    rng = np.random.default_rng(100 + L)
    for _ in range(20):
        lay = _binary_1d(L, rng)
        N = lay.n_inputs
        expect = N / 2 * math.log2(min(lay.M, lay.channels[0]))
        assert log2_mincut(lay, family_mask("odd-even", (N,))[None])[0] == pytest.approx(expect, abs=1e-9)


@pytest.mark.parametrize("kind", ["rows", "columns", "checkerboard"])
@pytest.mark.parametrize("side", [2, 4, 8, 16, 64])
def test_two_and_two_closed_form(kind, side):
    rng = np.random.default_rng(side)
    depth = int(math.log2(side))
    for _ in range(10):
        M = int(rng.integers(1, 12))
        lay = Layout((side, side), M, tuple(Layer(int(rng.integers(1, 200)), (2, 2)) for _ in range(depth)))
        N = side * side
        expect = N / 4 * math.log2(min(M**2, lay.channels[0]))
        assert log2_mincut(lay, family_mask(kind, (side, side))[None])[0] == pytest.approx(expect, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 40), st.integers(1, 12), st.integers(1, 3000), st.data())
def test_shallow_network_closed_form(n, M, r0, data):
    """One global pooling: a single delta of N+1 legs costs r_0 once."""
    lay = Layout((n,), M, (Layer(r0, (n,)),))
    bits = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    bits[0], bits[-1] = True, False
    a = sum(bits)
    expect = min(math.log2(r0), a * math.log2(M), (n - a) * math.log2(M))
    assert log2_mincut(lay, np.array(bits)[None])[0] == pytest.approx(expect, abs=1e-9)


def test_large_network_stays_finite():
    """N = 4096 with M = 10: M^{N/2} overflows floats; log2 does not."""
    lay = Layout.uniform((4096,), M=10, channels=1000, pools=[2] * 12)
    v = log2_mincut(lay, family_mask("odd-even", (4096,))[None])[0]
    assert v == pytest.approx(2048 * math.log2(10))


def test_explanation_text_names_the_layer():
    lay = Layout.uniform((64, 64), M=10, channels=1, pools=[2] * 6).with_channels([32, 32, 16, 16, 8, 8])
    ex = explain_mincut(lay, family_mask("left-right", (64, 64))[None])
    assert ex.describe(0) == "1 x layer 6 (r=8)"
    assert ex.counts[0].tolist() == [0, 0, 0, 0, 0, 0, 1]


def test_masks_of_the_wrong_shape_are_refused():
    lay = Layout.uniform((8,), M=2, channels=2, pools=[2, 2, 2])
    with pytest.raises(ValueError, match=r"masks must have shape \(P, 8\)"):
        log2_mincut(lay, np.ones((2, 9), bool))


@settings(max_examples=30, deadline=None)
@given(layouts(max_window=4))
def test_network_is_a_hypertree_with_the_right_bonds(lay):
    g = tensor_network(lay)
    bonds = [d for _, d in g.nodes(data=True) if d["kind"] == "bond"]
    n_windows = sum(int(np.prod(g_)) for g_ in lay.grids()[1:])
    assert len(bonds) == lay.n_inputs + n_windows
    import networkx as nx

    assert nx.is_tree(g)  # bipartite incidence graph of a hypertree
