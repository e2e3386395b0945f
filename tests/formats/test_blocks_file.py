"""Block layout and block space files: read as written, and every bad one refused in one line naming the
file, line and field (exit 2 from `archsearch check`)."""

from __future__ import annotations

import pytest

from archsearch.core.blocks import Block
from archsearch.errors import InputError
from archsearch.formats.blocks_file import block_layout_from_dict, load_block_layout, load_block_space
from archsearch.formats.space import load_space
from tests.conftest import ROOT, run_cli

LAYOUT = """kind: blocks
input_shape: [32, 32]
in_channels: 3
blocks:
  - {kind: conv, kernel: 3, stride: 2, width: 16}
  - {kind: basic, inner: 24, width: 32, stride: 2}
  - {kind: inverted-residual, inner: 64, width: 32}
"""


def test_a_block_layout_file_reads_as_written_and_round_trips(tmp_path):
    f = tmp_path / "net.yaml"
    f.write_text(LAYOUT)
    lay = load_block_layout(f)
    assert lay.blocks[1] == Block("basic", 32, 3, 2, 24) and lay.shortcuts == ("none", "projection", "identity")
    assert block_layout_from_dict(lay.to_dict()) == lay
    assert run_cli(["check", str(f)]) == 0


@pytest.mark.parametrize("change, message, field", [
    ("kind: conv, kernel: 3, stride: 2, width: 16", "'inner' goes with", "blocks[0]"),
    ("kind: conv, kernel: 4, stride: 2", "odd kernel", "blocks[0]"),
    ("kind: kconv, kernel: 3, stride: 2", "input should be", "blocks[0].kind"),
    ("kind: conv, kernel: 3, strde: 2", "unknown key 'strde'", "blocks[0]"),
])
def test_a_bad_block_is_one_line_naming_the_field(tmp_path, capsys, change, message, field):
    text = LAYOUT.replace("kind: conv, kernel: 3, stride: 2", change)
    if "'inner' goes with" in message:
        text = LAYOUT.replace("{kind: conv, kernel: 3, stride: 2, width: 16}", "{kind: conv, width: 16, inner: 8}")
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    assert run_cli(["check", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(f) in err and field in err and message.lower() in err.lower(), err


def test_a_layout_may_not_name_a_slot_and_a_space_must_use_every_slot(tmp_path):
    with pytest.raises(InputError, match="names a width slot"):
        block_layout_from_dict({**_dict(), "blocks": [{"kind": "conv", "width": "w0"}]})
    space = tmp_path / "s.yaml"
    space.write_text(LAYOUT.replace("width: 16}", "width: w0}") + "widths:\n  w0: [8, 16]\n  w1: [4]\n")
    with pytest.raises(InputError, match=r"s.yaml:\d+: widths.w1: width slot 'w1' is used by no block"):
        load_block_space(space)
    space.write_text(LAYOUT.replace("width: 16}", "width: w9}") + "widths:\n  w0: [8, 16]\n")
    with pytest.raises(InputError, match="no width slot 'w9'"):
        load_block_space(space)


def test_a_block_space_is_refused_where_a_layer_space_is_needed():
    with pytest.raises(InputError, match="cbm-resnet.yaml:.*a block space .kind: blocks."):
        load_space(ROOT / "search_spaces" / "cbm-resnet.yaml")


def _dict() -> dict:
    import yaml

    return yaml.safe_load(LAYOUT)
