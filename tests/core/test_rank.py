"""The measured separation rank never exceeds the min cut and, for generic weights, equals it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.layout import Layer, Layout
from archsearch.core.mincut import log2_mincut
from archsearch.core.partitions import family_mask
from archsearch.core.rank import RankTooLarge, coefficient_tensor, separation_rank
from tests.conftest import layouts_and_masks


def _bound(lay, masks):
    return np.rint(2.0 ** log2_mincut(lay, masks)).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(layouts_and_masks(max_inputs=12, max_window=4, max_channels=6, m_set=[2, 3, 4], max_tensor=2**14),
       st.integers(0, 2**31))
def test_rank_never_exceeds_the_min_cut(case, seed):
    lay, masks = case
    assert (separation_rank(lay, masks, seed=seed) <= _bound(lay, masks)).all()


@settings(max_examples=60, deadline=None)
@given(layouts_and_masks(max_inputs=12, max_window=4, channel_set=[1, 2, 4, 8], m_set=[2, 4], max_tensor=2**14),
       st.integers(0, 2**31))
def test_rank_equals_the_min_cut_for_powers_of_two(case, seed):
    """The paper's tightness result: equality when all channel numbers are powers of one integer, for
    generic weights. One Gaussian draw can be generic and still numerically degenerate: its smallest
    singular values fall below float64's resolution (seen: 64 inputs' worth of rank measured as 62, the
    last two at 2e-14 and 6e-16 of the largest; another seed gives 64). So each partition must reach the
    bound under one of three independent draws; no draw may exceed it (the test above)."""
    lay, masks = case
    ranks = np.stack([separation_rank(lay, masks, seed=seed + k) for k in range(3)])
    np.testing.assert_array_equal(ranks.max(axis=0), _bound(lay, masks))
    assert (ranks <= _bound(lay, masks)).all()


def test_the_degenerate_draw_hypothesis_found_reaches_the_bound_with_the_next():
    """The case hypothesis found (input 12, M = 2, widths 4, pools 2, 2, 3): seed 1 measured 62 here
    (numerically degenerate; a different BLAS may round otherwise), seeds 2 and 3 reach the bound, 64."""
    lay = Layout((12,), 2, (Layer(4, (2,)), Layer(4, (2,)), Layer(4, (3,))))
    mask = np.array([[1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0]], bool)
    assert _bound(lay, mask).tolist() == [64]
    assert separation_rank(lay, mask, seed=1)[0] <= 64
    assert [separation_rank(lay, mask, seed=k)[0] for k in (2, 3)] == [64, 64]


def test_rank_equals_the_min_cut_on_the_paper_families():
    """N = 16, M = 2, binary tree: left-right, interleaved and blocks, channel counts not powers of 2."""
    lay = Layout((16,), 2, tuple(Layer(r, (2,)) for r in (3, 5, 3, 6)))
    masks = np.stack([family_mask(k, (16,)) for k in ("left-right", "odd-even", "centre-surround")]
                     + [family_mask("blocks", (16,), size=s) for s in (2, 4)])
    np.testing.assert_array_equal(separation_rank(lay, masks, seed=3), _bound(lay, masks))


def test_coefficient_tensor_matches_a_dense_contraction():
    """The tree contraction equals an explicit sum over all channel indices (N = 4, one hidden layer of
    window 2 then a global window)."""
    lay = Layout((4,), 2, (Layer(3, (2,)), Layer(2, (2,))))
    rng = np.random.default_rng(7)
    a = coefficient_tensor(lay, np.random.default_rng(7))
    # replay the same draws as coefficient_tensor: layer-0 convs, layer-1 convs, then g
    a0 = rng.standard_normal((4, 3, 2))
    a1 = rng.standard_normal((2, 2, 3))
    g = rng.standard_normal(2)
    pooled = [np.einsum("gi,gj->gij", a0[2 * q], a0[2 * q + 1]) for q in range(2)]
    t1 = [np.einsum("og,gij->oij", a1[q], pooled[q] / np.linalg.norm(np.stack(pooled))) for q in range(2)]
    top = np.einsum("oij,okl->oijkl", t1[0], t1[1])
    dense = np.einsum("o,oijkl->ijkl", g, top / np.linalg.norm(top))
    np.testing.assert_allclose(a, dense, rtol=1e-10, atol=1e-12)


def test_too_large_is_refused_before_any_work():
    lay = Layout.uniform((64, 64), M=10, channels=8, pools=[2] * 6)
    with pytest.raises(RankTooLarge, match="over the limit"):
        separation_rank(lay, family_mask("left-right", (64, 64))[None])
