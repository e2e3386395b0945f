"""The min cut of block layouts: today's layouts through the block engine give today's cuts exactly; on tiny
ConvACs of every block kind the bound never falls below the rank measured by evaluating the network; the
batched path (one pass per space, states shared across width choices) equals one layout at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.blockcut import (
    Step,
    block_cuts,
    block_output_cut,
    block_program,
    layer_program,
    log2_cuts_many,
    run_program,
)
from archsearch.core.blocks import Block, BlockLayout
from archsearch.core.convac import grid_rank
from archsearch.core.mincut import log2_mincut, log2_output_cut
from archsearch.formats.blocks_file import load_block_space
from tests.conftest import ROOT, layouts_and_masks


def _layer_cuts(lay, masks, output=False):
    grid = masks.reshape(len(masks), 1, -1) if masks.ndim == 2 else masks
    if output:
        grid = np.ones((1, *grid.shape[1:]), dtype=bool)
    cost = run_program(layer_program(lay), grid, float(np.log2(lay.M)), np.log2(np.array(lay.channels, float)))
    return cost[0, 0, 1] if output else cost[0].min(axis=1)


@settings(max_examples=120, deadline=None)
@given(layouts_and_masks(max_window=6))
def test_todays_layouts_through_the_block_engine_keep_todays_cuts(case):
    lay, masks = case
    assert np.allclose(_layer_cuts(lay, masks), log2_mincut(lay, masks))
    assert np.isclose(_layer_cuts(lay, masks, output=True), log2_output_cut(lay))


@st.composite
def tiny_block_layouts(draw):
    """Networks of 1-3 blocks of every kind on grids of at most 9 inputs, widths 1-3, kernels 1 or 3."""
    shape = draw(st.sampled_from([(1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "basic", "inverted-residual"]))
        width, kernel, stride = draw(st.integers(1, 3)), draw(st.sampled_from([1, 3])), draw(st.sampled_from([1, 2]))
        inner = None if kind == "conv" else draw(st.integers(1, 3))
        blocks.append(Block(kind, width, kernel, stride, inner))
    return BlockLayout(shape, tuple(blocks), in_channels=draw(st.integers(1, 3)))


@settings(max_examples=60, deadline=None)
@given(tiny_block_layouts(), st.integers(0, 2**16), st.data())
def test_the_bound_is_never_below_the_rank_of_a_tiny_convac(lay, seed, data):
    n = lay.input_shape[0] * lay.input_shape[1]
    masks = np.array([data.draw(st.lists(st.booleans(), min_size=n, max_size=n)) for _ in range(3)])
    masks = masks.reshape(3, *lay.input_shape)
    ranks = grid_rank(block_program(lay), lay.input_shape, lay.in_channels, lay.widths, masks, seed=seed)
    bound = block_cuts(lay, masks)
    assert (np.log2(np.maximum(ranks, 1)) <= bound + 1e-9).all(), (lay, masks, ranks, 2 ** bound)


def test_the_sum_rule_is_tight_where_two_one_sided_terms_meet():
    # x on the left, y on the right, M = 2: a 1x1 conv to one channel, then a sum over both positions (global
    # average pooling) gives f(x) + g(y): rank 2 exactly (a rule taking the larger rank, not the sum, says 1)
    mask = np.array([[[True, False]]])
    steps = (Step("linear", 0, (1, 1)), Step("linear", 0, (1, 2)))
    ranks = grid_rank(steps, (1, 2), 2, [1], mask)
    cost = run_program(steps, mask, 1.0, np.zeros((1, 1)))[0].min(axis=1)
    assert ranks.tolist() == [2] and np.allclose(cost, [1.0])


def test_overlapping_products_need_the_duplicated_count():
    # a 3-wide conv reads both inputs at both positions, to one channel; product pooling of the two positions
    # multiplies two forms in (x, y): rank 4 > M = 2, the cut of a graph that kept one node per activation
    # (x's input bond, 2 values). The block rule counts each copy: its bound is at least the measured 4.
    steps = (Step("linear", 0, (1, 3), (0, 1)), Step("product", 0, (1, 2)))
    mask = np.array([[[True, False]]])
    ranks = grid_rank(steps, (1, 2), 2, [1], mask, templates=5)
    bound = run_program(steps, mask, 1.0, np.zeros((1, 1)))[0].min(axis=1)
    assert ranks.tolist() == [4] and 2 ** bound[0] >= 4 > 2


def test_a_projection_block_reads_as_its_steps():
    lay = BlockLayout((4, 4), (Block("conv", 4, 3), Block("basic", 8, 3, 2, 6)), in_channels=1)
    ops = [(s.op, s.slot, s.kernel, s.saved) for s in block_program(lay)]
    assert ops == [
        ("linear", 0, (3, 3), False),
        ("save", -1, (1, 1), False), ("linear", 1, (3, 3), False), ("product", 1, (2, 2), False),
        ("linear", 2, (3, 3), False), ("linear", 2, (1, 1), True), ("product", 2, (2, 2), True),
        ("add", 2, (1, 1), False),
        ("linear", 2, (2, 2), False),  # global average pooling: a sum over the last grid
    ]


def test_the_output_cut_is_the_last_width_when_every_position_is_one_sided():
    lay = BlockLayout((4, 4), (Block("conv", 8, 3, 2), Block("conv", 5, 1)), in_channels=3)
    # all inputs on A: each of the 2x2 last positions costs log2 5 with its index on B, their sum up to
    # log2(4 * 5); but the sum's own index (5 channels) moved across costs log2 5, so the cut is the last width
    assert np.isclose(block_output_cut(lay), np.log2(5))
    # one position after the stem: its 2 channels are a narrower level than the last width
    narrow = BlockLayout((2, 2), (Block("conv", 2, 3, 2), Block("conv", 5, 1)), in_channels=3)
    assert np.isclose(block_output_cut(narrow), 1.0)


@pytest.mark.parametrize("space", ["cbm-mobilenet", "cbm-resnet"])
def test_one_pass_over_a_space_equals_one_layout_at_a_time(space):
    sp = load_block_space(ROOT / "search_spaces" / f"{space}.yaml")
    rng = np.random.default_rng(0)
    choices = list(sp.all_widths())
    lays = [sp.layout(choices[i]) for i in rng.choice(len(choices), 24, replace=False)]
    h, w = sp.input_shape
    masks = np.zeros((2, h, w), dtype=bool)
    masks[0, :, : w // 2] = True
    masks[1, ::2, ::2] = masks[1, 1::2, 1::2] = True
    batch = log2_cuts_many(lays, masks, output=True, chunk=7)
    single = np.array([[*block_cuts(lay, masks), block_output_cut(lay)] for lay in lays])
    assert np.allclose(batch, single)
    assert np.ptp(batch[:, 0]) > 0  # the widths move the cut


def test_masks_of_the_wrong_shape_are_refused():
    lay = BlockLayout((4, 4), (Block("conv", 4, 3),), in_channels=1)
    with pytest.raises(ValueError, match=r"shape \(P, 4, 4\)"):
        block_cuts(lay, np.ones((2, 4, 5), bool))
