"""Block layouts (ResNet and MobileNet blocks): shapes, shortcuts, and parameter and multiply-accumulate
counts in closed form on small cases; the Channel-Bench-Macro spaces reproduce its file's counts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.blocks import Block, BlockLayout
from archsearch.formats.blocks_file import load_block_space
from tests.conftest import ROOT


def test_a_conv_block_counts_in_closed_form():
    lay = BlockLayout((8, 8), (Block("conv", 4, 3, 2),), in_channels=3, classes=10)
    # conv 3*4*9 + BN 2*4, classifier 4*10 + 10; MACs: 4x4 outputs x 108 weights, classifier 40
    assert lay.param_count() == 108 + 8 + 50
    assert lay.mac_count() == 16 * 108 + 40 and lay.grids() == [(4, 4)]


def test_a_basic_block_adds_a_projection_only_when_its_shape_changes():
    same = BlockLayout((8, 8), (Block("conv", 4, 3), Block("basic", 4, 3, 1, 6)), in_channels=1, classes=2)
    assert same.shortcuts == ("none", "identity")
    body = 9 * 4 * 6 + 12 + 9 * 6 * 4 + 8
    assert same.param_count() == (9 * 4 + 8) + body + 4 * 2 + 2
    wider = BlockLayout((8, 8), (Block("conv", 4, 3), Block("basic", 8, 3, 2, 6)), in_channels=1, classes=2)
    assert wider.shortcuts == ("none", "projection")
    proj = 4 * 8 + 16  # a 1x1 conv with the stride, then BN
    assert wider.param_count() == (9 * 4 + 8) + (9 * 4 * 6 + 12 + 9 * 6 * 8 + 16) + proj + 8 * 2 + 2
    # MACs: the first conv at 8x8; the block's convs and the projection at 4x4
    assert wider.mac_count() == 64 * 36 + 16 * (9 * 4 * 6 + 9 * 6 * 8 + 4 * 8) + 16


def test_an_inverted_residual_expands_at_the_input_size_and_adds_only_an_identity():
    lay = BlockLayout((8, 8), (Block("conv", 4, 1), Block("inverted-residual", 4, 3, 2, 12)), 1, 10)
    assert lay.shortcuts == ("none", "none")  # the stride changes the shape: no shortcut (MobileNetV2)
    assert lay.mac_count() == 64 * 4 + (64 * 4 * 12 + 16 * 9 * 12 + 16 * 12 * 4) + 40
    keep = BlockLayout((8, 8), (Block("conv", 4, 1), Block("inverted-residual", 4, 3, 1, 12)), 1, 10)
    assert keep.shortcuts[1] == "identity"


def test_bad_blocks_are_refused():
    with pytest.raises(ValueError, match="odd kernel"):
        Block("conv", 4, 2)
    with pytest.raises(ValueError, match="'inner' goes with"):
        Block("basic", 4)
    with pytest.raises(ValueError, match="identity shortcut needs"):
        BlockLayout((8, 8), (Block("basic", 8, 3, 2, 4, "identity"),), 4)
    with pytest.raises(ValueError, match="identity or none"):
        BlockLayout((8, 8), (Block("inverted-residual", 8, 3, 1, 4, "projection"),), 4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["conv", "basic", "inverted-residual"]), st.integers(1, 12),
                          st.sampled_from([1, 3, 5]), st.sampled_from([1, 2]), st.integers(1, 12)),
                min_size=1, max_size=5))
def test_with_widths_round_trips_and_the_counts_grow_with_every_width(spec):
    blocks = tuple(Block(k, w, kern, s, None if k == "conv" else inner) for k, w, kern, s, inner in spec)
    lay = BlockLayout((16, 16), blocks, 3, 10)
    assert lay.with_widths(lay.widths) == lay
    wider = lay.with_widths([w + 1 for w in lay.widths])
    assert wider.param_count() > lay.param_count() and wider.mac_count() > lay.mac_count()


def _cbm_file(space: str) -> Path | None:
    """Channel-Bench-Macro's results file, if the folder ``$CHANNEL_BENCH_MACRO`` holds it (it has no licence
    file: it is read for measurement, never shipped)."""
    folder = os.environ.get("CHANNEL_BENCH_MACRO")
    path = Path(folder) / f"Results_{space}.json" if folder else None
    return path if path is not None and path.is_file() else None


@pytest.mark.parametrize("space, name", [("MobileNet", "cbm-mobilenet"), ("ResNet", "cbm-resnet")])
def test_the_channel_bench_macro_spaces_count_as_its_file_for_every_network(space, name):
    path = _cbm_file(space)
    if path is None:
        pytest.skip("set CHANNEL_BENCH_MACRO to a folder holding Channel-Bench-Macro's Results_*.json")
    results = json.loads(path.read_text())
    bspace = load_block_space(ROOT / "search_spaces" / f"{name}.yaml")
    choices = list(bspace.slots.values())
    assert len(results) == bspace.size == 16384
    for arch, entry in results.items():  # digit d of slot i: the d-th of its four widths
        lay = bspace.layout([choices[i][int(d) - 1] for i, d in enumerate(arch)])
        assert (lay.param_count(), lay.mac_count()) == (entry["params"], entry["flops"]), arch
