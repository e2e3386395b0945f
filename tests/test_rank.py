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
    """The paper's tightness result: equality when all channel numbers are powers of one integer."""
    lay, masks = case
    np.testing.assert_array_equal(separation_rank(lay, masks, seed=seed), _bound(lay, masks))


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
