"""Tables trained elsewhere: Channel-Bench-Macro's results file becomes a table of block layouts (CI uses a
small file in its format; the real one is read when ``$CHANNEL_BENCH_MACRO`` names its folder)."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

from archsearch.errors import InputError
from archsearch.evidence.evaluate import evaluate_table
from archsearch.evidence.imports import import_channel_bench_macro
from archsearch.evidence.table import Table
from archsearch.formats.blocks_file import load_block_space
from tests.conftest import ROOT, run_cli


def _results(space: str, n: int = 30, seed: int = 0) -> dict:
    """``n`` networks of the shipped space in Channel-Bench-Macro's format, with made-up accuracies that
    grow with the head's width (so a predictor reading it can be checked)."""
    bspace = load_block_space(ROOT / "search_spaces" / f"cbm-{space}.yaml")
    choices = list(bspace.slots.values())
    rng = np.random.default_rng(seed)
    archs = ["".join(a) for a in itertools.product("1234", repeat=7)]
    out = {}
    for arch in (archs[int(i)] for i in rng.choice(len(archs), n, replace=False)):
        lay = bspace.layout([choices[k][int(d) - 1] for k, d in enumerate(arch)])
        base = 80 + 2 * int(arch[-1])
        acc = [base + float(rng.normal(0, 0.3)) for _ in range(3)]
        out[arch] = {"acc": acc, "mean": float(np.mean(acc)), "std": float(np.std(acc)),
                     "params": lay.param_count(), "flops": lay.mac_count()}
    return out


def test_an_imported_table_holds_every_network_with_its_three_runs(tmp_path, capsys):
    f = tmp_path / "Results_MobileNet.json"
    f.write_text(json.dumps(_results("mobilenet")))
    assert run_cli(["bench", "import", "channel-bench-macro", str(f), "--space", "mobilenet", "--out",
                    str(tmp_path / "t.json")]) == 0
    assert "30 layouts of cbm-mobilenet, 90 runs" in capsys.readouterr().out
    table = Table.load(tmp_path / "t.json")
    assert table.space.kind == "blocks" and table.source.name == "Channel-Bench-Macro" and table.settings.seeds == 3
    rows = table.rows()
    assert len(rows) == 30 and all(r.seeds == [0, 1, 2] and r.M is None for r in rows)
    raw = json.loads(f.read_text())
    for r in rows:  # each row: its network's mean accuracy, as a fraction
        assert r.val_accuracy == pytest.approx(raw[r.label]["mean"] / 100)
    ev = evaluate_table(table, bands=3)
    assert {"prior", "prior-maximin", "params", "flops", "min-width", "random"} <= set(ev.predictors)
    assert ev.noise_ceiling["layouts"] == 30 and ev.flop_bands["bands"] == 3
    # the made-up accuracies follow the head's width with small noise: run 0 ranks like run 1 (the runs
    # became seeds of the right layouts), and the wider the head, the higher the mean
    assert ev.noise_ceiling["kendall_tau"] > 0.5
    heads = np.array([r.channels[-1] for r in rows], float)
    assert np.corrcoef(heads, ev.acc)[0, 1] > 0.9
    assert run_cli(["bench", "eval", str(tmp_path / "t.json"), "--predictors", "naswot"]) == 2
    assert "its task has no data section" in capsys.readouterr().err
    macs = np.array([table.task_space()[1].layout_of(r).mac_count() for r in rows], float)
    at = evaluate_table(table, predictors=["flops", "random"], budgets=[float(np.median(macs)), 1.0])
    fb = at.to_dict()["within_flop_budgets"]
    assert fb["layouts"] == [int((np.abs(macs - np.median(macs)) <= 0.05 * np.median(macs)).sum()), 0]
    assert np.isnan(fb["tau"]["flops"][1])  # no layout costs 1 MAC: no tau there, said as NaN
    sub = evaluate_table(table, predictors=["params"], subset=12, seed=3)  # a seeded sample of the networks
    assert sub.layouts == 12 and sub.to_dict() == evaluate_table(table, predictors=["params"], subset=12,
                                                                 seed=3).to_dict()
    assert set(map(float, sub.acc)) <= set(map(float, ev.acc))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update({"1111111x": d.pop(next(iter(d)))}), "expected 7 digits 1..4"),
    (lambda d: next(iter(d.values())).update(params=1), "params 1, but cbm-mobilenet counts"),
    (lambda d: next(iter(d.values())).update(acc=[101.0, 90.0, 90.0]), "test accuracies in percent"),
])
def test_a_file_that_does_not_fit_is_one_line_and_writes_nothing(tmp_path, capsys, change, message):
    data = _results("mobilenet", 5)
    change(data)
    f = tmp_path / "r.json"
    f.write_text(json.dumps(data))
    assert run_cli(["bench", "import", "channel-bench-macro", str(f), "--space", "mobilenet", "--out",
                    str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and str(f) in err
    assert not (tmp_path / "t.json").exists()


def test_the_resnet_results_read_as_resnet_not_as_mobilenet(tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps(_results("resnet", 4)))
    assert len(import_channel_bench_macro(f, "resnet").layouts) == 4
    with pytest.raises(InputError, match="not mobilenet's results"):
        import_channel_bench_macro(f, "mobilenet")


def test_the_real_mobilenet_file_imports_whole():
    folder = os.environ.get("CHANNEL_BENCH_MACRO")
    path = Path(folder or "") / "Results_MobileNet.json"
    if not folder or not path.is_file():
        pytest.skip("set CHANNEL_BENCH_MACRO to a folder holding Channel-Bench-Macro's Results_*.json")
    table = import_channel_bench_macro(path, "mobilenet")
    assert len(table.layouts) == 16384 and table.space.complete_grid and len(table.runs) == 3 * 16384
