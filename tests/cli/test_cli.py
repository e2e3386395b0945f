"""The CLI in process, and once end to end in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from archsearch import cli
from archsearch.core.mincut import log2_mincut
from archsearch.formats.blocks_file import load_block_space
from archsearch.formats.layout_file import load_layout
from archsearch.formats.task import load_task
from tests.conftest import ROOT

TASK = str(ROOT / "tasks" / "digits-global.yaml")
WB = str(ROOT / "layouts" / "wide-base-64x64-r8.yaml")


def _json(capsys, argv):
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_score_json(capsys):
    rep = _json(capsys, ["score", TASK, WB, "--json"])
    task, lay = load_task(TASK), load_layout(WB)
    assert rep["params"] == lay.param_count() and isinstance(rep["params"], int)
    assert [p["name"] for p in rep["partitions"]] == task.names
    assert [p["log2_mincut"] for p in rep["partitions"]] == log2_mincut(lay, task.masks).tolist()
    assert rep["partitions"][0]["explanation"] == "1 x layer 6 (r=8)"
    assert isinstance(rep["score"], float)
    # the whole input against the output: the last layer's bond, log2 8 (every lower level holds more)
    assert rep["output"]["log2_mincut"] == pytest.approx(3.0) and rep["output"]["need"] >= np.log2(10)
    assert _json(capsys, ["score", TASK, WB, "--json", "--prior", "ratio"])["output"] is None


def test_score_table(capsys):
    assert cli.main(["score", TASK, WB]) == 0
    out = capsys.readouterr().out
    assert "left-right" in out and "1 x layer 6 (r=8)" in out and "score" in out
    assert "whole input vs output" in out


def test_score_plot(tmp_path, capsys):
    png = tmp_path / "cuts.png"
    assert cli.main(["score", TASK, WB, "--plot", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bound_json_ranks_match_the_cut(tmp_path, capsys):
    task = tmp_path / "t.yaml"
    task.write_text("name: small\ninput_shape: [4, 4]\npartitions:\n"
                    "  - {name: lr, kind: left-right}\n  - {name: cb, kind: checkerboard}\n"
                    "  - {name: q, kind: quadrants}\n")
    lay = tmp_path / "l.yaml"
    lay.write_text("input_shape: [4, 4]\nM: 2\nlayers:\n  - {channels: 4, pool: [2, 2]}\n"
                   "  - {channels: 2, pool: [2, 2]}\n")
    rep = _json(capsys, ["bound", str(task), str(lay), "--json", "--seed", "0"])
    assert [p["rank"] for p in rep["partitions"]] == [2, 256, 2]
    for p in rep["partitions"]:
        assert isinstance(p["rank"], int)
        assert p["rank"] == round(2 ** p["log2_mincut"])


def test_bound_refuses_large_networks(capsys):
    assert cli.main(["bound", TASK, WB]) == 2
    err = capsys.readouterr().err
    assert "over the limit" in err and err.count("\n") == 1


def test_score_and_bound_read_block_layouts(tmp_path, capsys):
    task = tmp_path / "t.yaml"
    task.write_text("name: small\ninput_shape: [2, 3]\npartitions:\n  - {name: lr, kind: left-right}\n"
                    "  - {name: cb, kind: checkerboard}\n")
    lay = tmp_path / "b.yaml"
    lay.write_text("kind: blocks\ninput_shape: [2, 3]\nin_channels: 2\nblocks:\n  - {kind: conv, kernel: 3, width: 3}\n"
                   "  - {kind: inverted-residual, kernel: 3, stride: 2, inner: 4, width: 3}\n")
    rep = _json(capsys, ["bound", str(task), str(lay), "--json"])
    assert rep["rule"] == "blocks" and [p["name"] for p in rep["partitions"]] == ["lr", "cb"]
    for p in rep["partitions"]:  # the measured rank never above the bound
        assert 1 <= p["rank"] <= 2 ** p["log2_mincut"]
    space = load_block_space(ROOT / "search_spaces" / "cbm-mobilenet.yaml")
    scores = []
    for pick in (max, min):  # the space's widest layout is its reference: every need met
        f = tmp_path / f"{pick.__name__}.yaml"
        f.write_text(yaml.safe_dump(space.layout([pick(c) for c in space.slots.values()]).to_dict()))
        scores.append(_json(capsys, ["score", "natural-images-32", str(f), "--space", space.source, "--json"])["score"])
    assert scores[0] == pytest.approx(1.0) and scores[1] < scores[0]
    assert cli.main(["score", "natural-images-32", str(f), "--budget", "1000"]) == 2
    assert "a block layout takes --space" in capsys.readouterr().err


def test_shape_mismatch_is_an_input_error(capsys):
    assert cli.main(["score", str(ROOT / "tasks" / "digits-local-32.yaml"), WB]) == 2
    assert "does not match the task's [32, 32]" in capsys.readouterr().err


def test_missing_file(capsys):
    assert cli.main(["score", TASK, "nope.yaml"]) == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        cli.main(["score", TASK])
    assert exc.value.code == 2


def test_check_many(capsys):
    files = [str(p) for p in sorted((ROOT / "tasks").glob("*.yaml"))] + [WB]
    assert cli.main(["check", *files]) == 0
    assert capsys.readouterr().out.count(": ok: ") == len(files)


@pytest.mark.slow
def test_score_end_to_end_does_not_import_torch():
    code = (f"import sys; from archsearch import cli; rc = cli.main(['score', {TASK!r}, {WB!r}, '--json']);"
            "bad = [m for m in ('torch', 'optuna', 'matplotlib', 'networkx') if m in sys.modules];"
            "print(bad, file=sys.stderr); sys.exit(rc or bool(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["params"] == load_layout(WB).param_count()
    cmd = subprocess.run([sys.executable, "-m", "archsearch", "score", TASK, "missing.yaml"],
                         capture_output=True, text=True, timeout=60)
    assert cmd.returncode == 2 and cmd.stderr.count("\n") == 1 and "Traceback" not in cmd.stderr
