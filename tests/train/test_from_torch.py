"""`archsearch layout from-torch`: a block layout read from a torch module traced with torch.fx; round trips
through build_model, hand-written modules, and refusals that name the node."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from archsearch.core.blocks import Block, BlockLayout
from archsearch.errors import InputError
from archsearch.formats.blocks_file import load_block_layout
from archsearch.train.from_torch import layout_from_module
from archsearch.train.models import build_model
from tests.conftest import run_cli


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["conv", "basic", "inverted-residual"]), st.integers(2, 12),
                          st.sampled_from([1, 3, 5]), st.sampled_from([1, 2]), st.integers(2, 12)),
                min_size=1, max_size=4), st.integers(1, 3), st.integers(2, 10))
def test_build_model_and_back_is_the_same_layout(spec, cin, classes):
    """Every layout build_model makes reads back as itself (a basic block with a shortcut that ``auto``
    makes; no-shortcut basic blocks are two conv blocks, tested below). Widths from 2: a depthwise conv of
    one channel is an ordinary conv, and the graph cannot tell them apart."""
    blocks = tuple(Block(k, w, kern, s, None if k == "conv" else inner) for k, w, kern, s, inner in spec)
    lay = BlockLayout((16, 16), blocks, cin, classes)
    assert layout_from_module(build_model(lay, seed=0), (cin, 16, 16)) == lay


def test_a_basic_block_without_shortcut_reads_back_as_two_conv_blocks():
    lay = BlockLayout((8, 8), (Block("basic", 6, 3, 2, 4, "none"),), 3, 10)
    back = layout_from_module(build_model(lay), (3, 8, 8))
    assert back.blocks == (Block("conv", 4, 3, 2), Block("conv", 6, 3, 1))
    assert (back.param_count(), back.mac_count()) == (lay.param_count(), lay.mac_count())


class _Residual(nn.Module):
    """A hand-written ResNet stage: stem, a strided basic block with a projection, torch.nn.functional calls."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.c1, self.b1 = nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32)
        self.c2, self.b2 = nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32)
        self.p, self.pb = nn.Conv2d(16, 32, 1, 2, 0, bias=False), nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        x = torch.nn.functional.relu(y + self.pb(self.p(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_a_hand_written_module_reads_with_its_exact_counts():
    m = _Residual()
    lay = layout_from_module(m, (3, 32, 32))
    assert lay.blocks == (Block("conv", 16, 3, 2), Block("basic", 32, 3, 2, 32))  # projection: what auto means
    assert lay.param_count() == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("module, node", [
    (nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                   nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)), "call_module 3"),
    (nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(8, 10)), "without bias"),
    (nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(8, 10)), "followed by its BatchNorm2d"),
])
def test_an_unsupported_module_is_one_line_naming_the_node(module, node):
    with pytest.raises(InputError) as err:
        layout_from_module(module, (3, 16, 16))
    assert node in str(err.value) and "\n" not in str(err.value)


def test_the_command_writes_a_layout_check_reads(tmp_path, capsys):
    src = tmp_path / "nets.py"
    src.write_text("from archsearch.core.blocks import Block, BlockLayout\nfrom archsearch.train.models import "
                   "build_model\n\ndef net():\n    return build_model(BlockLayout((16, 16), (Block('conv', 8, 3, 2), "
                   "Block('inverted-residual', 8, 3, 1, 24)), 3, 10))\n\ndef nothing():\n    return 3\n")
    out = tmp_path / "net.yaml"
    assert run_cli(["layout", "from-torch", f"{src}:net", "--input-shape", "3", "16", "16", "--out", str(out)]) == 0
    lay = load_block_layout(out)
    assert lay.blocks[1] == Block("inverted-residual", 8, 3, 1, 24) and "wrote" in capsys.readouterr().out
    assert run_cli(["layout", "from-torch", f"{src}:nothing", "--input-shape", "3", "16", "16", "--out",
                    str(tmp_path / "x.yaml")]) == 2
    assert "returned a int, not a torch module" in capsys.readouterr().err
    assert run_cli(["layout", "from-torch", f"{src}:net", "--input-shape", "3", "16", "16", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
