"""Benchmark tables on tiny settings: the layouts chosen, the runs planned, build / resume after kill -9,
show, eval, and the statistics against closed cases."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from archsearch.evidence.bench import BenchSettings, candidate_layouts, planned_runs
from archsearch.evidence.evaluate import (
    PREDICTORS,
    evaluate,
    layer_preferences,
    noise_ceiling,
    rank_stats,
    top_k_regret,
)
from archsearch.evidence.table import Table, locate_file
from archsearch.formats.space import load_space
from archsearch.formats.table import RunRow
from archsearch.formats.yamlio import InputError
from tests.conftest import ROOT, run_cli

TASK = """name: tiny
input_shape: [8, 8]
partitions:
  - {name: lr, kind: left-right}
  - {name: cb, kind: checkerboard}
data: {source: digits, digit_size: 8, train: 120, val: 60, test: 60, seed: 0}
"""
SPACE = """name: tiny-grid
input_shape: [8, 8]
M: 4
pool: [2, 2]
channels: {choices: [2, 4, 8]}
budget: {max_params: 400}
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "task.yaml").write_text(TASK)
    (tmp_path / "space.yaml").write_text(SPACE)
    return tmp_path


def test_the_complete_grid_within_the_band(files):
    space = load_space(files / "space.yaml")
    lays, complete = candidate_layouts(space, 0.6, 10)
    want = {ch for ch in itertools.product([2, 4, 8], repeat=3)
            if 0.6 * 400 <= space.layout(0, 4, list(ch)).param_count() <= 400}
    assert complete and {lay.channels for _, lay in lays} == want
    assert len(lays) == len(want)  # no layout twice


def test_a_seeded_sample_when_the_space_is_no_grid():
    space = load_space(ROOT / "search_spaces" / "cpu-32x32.yaml")
    lays, complete = candidate_layouts(space, 0.85, 30, seed=3)
    assert not complete and len(lays) >= 30
    assert all(0.85 * space.max_params <= lay.param_count() <= space.max_params for _, lay in lays)
    assert [lay for _, lay in lays] == [lay for _, lay in candidate_layouts(space, 0.85, 30, seed=3)[0]]
    labels = {label for label, _ in lays}
    assert {"wide-base", "wide-tip", "uniform"} <= labels  # the pair and the uniform layout join the sample


def test_the_shipped_grid_is_the_issue_grid():
    space = load_space(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    lays, complete = candidate_layouts(space, 0.85, 1)
    assert complete and len(lays) == 263
    assert {label for label, _ in lays} == {"grid", "wide-base", "wide-tip"}


def test_planned_runs():
    runs = planned_runs(50, BenchSettings(seeds=1, noise_layouts=10))
    assert len(runs) == 60 and len(set(runs)) == 60
    assert sum(s == 1 for _, s in runs) == 10
    assert planned_runs(50, BenchSettings(seeds=1, noise_layouts=10)) == runs  # seeded
    assert len(planned_runs(5, BenchSettings(seeds=3, noise_layouts=10))) == 15  # several seeds: no subset


def _build(files, *extra):
    return [sys.executable, "-m", "archsearch", "bench", "build", str(files / "task.yaml"), str(files / "space.yaml"),
            "--out", str(files / "t.json"), "--device", "cpu", "--runs-dir", str(files / "runs"), "--no-progress",
            "--band", "0.6", *extra]


@pytest.mark.slow
def test_build_show_eval_and_resume_after_kill(files, capsys):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_build(files, "--epochs", "40", "--workers", "2", "--noise-layouts", "4"), cwd=files,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.time()
    while True:  # wait for a few finished runs, then kill -9 the build in the middle of others
        if (files / "t.json").exists() and len(json.loads((files / "t.json").read_text())["runs"]) >= 2:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 180
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = Table.load(files / "t.json")
    n_planned = len(planned_runs(len(before.layouts), before.settings))
    assert 2 <= len(before.runs) < n_planned
    time.sleep(3)  # orphaned workers notice their parent is gone and stop
    res = subprocess.run(_build(files, "--epochs", "40", "--workers", "2", "--noise-layouts", "4"), cwd=files,
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    table = Table.load(files / "t.json")
    keys = [(r.layout, r.seed) for r in table.runs]
    assert len(keys) == len(set(keys)) == n_planned  # only the missing runs were trained
    assert table.runs[: len(before.runs)] == before.runs  # what was done is kept as it was
    for r in table.runs:
        assert None not in (r.val_accuracy, r.test_accuracy, r.val_curve, r.test_curve, r.seconds, r.device)
        assert len(r.val_curve) == 40 and r.val_curve[-1] == pytest.approx(r.val_accuracy, abs=1e-5)
    assert table.settings.epochs == 40 and table.archsearch_version

    # a different setting on the same table is refused, and the table is untouched
    text = (files / "t.json").read_text()
    assert run_cli(_build(files, "--epochs", "3")[3:]) == 2
    assert "built with other settings" in capsys.readouterr().err
    assert (files / "t.json").read_text() == text

    assert run_cli(["bench", "show", str(files / "t.json"), "--plot", str(files / "t.png")]) == 0
    out = capsys.readouterr().out
    assert f"{len(table.layouts)} layouts (complete grid)" in out
    assert (files / "t.png").read_bytes()[:4] == b"\x89PNG"

    assert run_cli(["bench", "eval", str(files / "t.json"), "--task", str(files / "task.yaml"), "--space",
                    str(files / "space.yaml"), "--json", "--runs-dir", str(files / "runs")]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["layouts"] == len(table.layouts)
    assert set(rep["predictors"]) == set(PREDICTORS)
    for st in rep["predictors"].values():
        assert {"kendall_tau", "tau_ci", "spearman", "top1_regret", "top5_regret"} <= set(st)
        assert 0 <= st["top5_regret"] <= st["top1_regret"] <= 1
    # the figures themselves, recomputed here from the file alone: the mean of each layout's seeds against
    # parameter count (a predictor any reader can score), its regret, and the best accuracy
    from scipy.stats import kendalltau

    raw = json.loads((files / "t.json").read_text())
    by: dict[int, list[float]] = {}
    for r in raw["runs"]:
        by.setdefault(r["layout"], []).append(r["val_accuracy"])
    ids = sorted(by)
    mean = np.array([np.mean(by[i]) for i in ids])
    params = np.array([raw["layouts"][i]["params"] for i in ids], float)
    assert rep["predictors"]["params"]["kendall_tau"] == pytest.approx(kendalltau(params, mean).statistic, abs=1e-12)
    assert rep["best_val_accuracy"] == pytest.approx(mean.max())
    if len(set(params)) == len(params):  # no ties to break: the top pick is the largest layout
        assert rep["predictors"]["params"]["top1_regret"] == pytest.approx(mean.max() - mean[params.argmax()])
    twice = [(by[i][0], by[i][1]) for i in ids if len(by[i]) == 2]
    seeds = {(r["layout"], r["seed"]): r["val_accuracy"] for r in raw["runs"]}
    pairs = np.array([(seeds[(i, 0)], seeds[(i, 1)]) for i in ids if (i, 1) in seeds])
    assert len(twice) == 4 and rep["noise_ceiling"]["kendall_tau"] == pytest.approx(
        kendalltau(pairs[:, 0], pairs[:, 1]).statistic, abs=1e-12, nan_ok=True)
    assert rep["noise_ceiling"]["layouts"] == 4
    depth = len(table.layouts[0].channels)
    assert set(rep["layer_preference"]) == {"trained", *rep["predictors"]}
    assert all(len(v) == depth for v in rep["layer_preference"].values())


def test_eval_of_the_priors_alone_needs_no_torch():
    """``--predictors`` picks what is scored; the priors alone read no images and import no torch."""
    table = ROOT / "benchmarks" / "tables" / "mnist1d-32.json"
    code = ("import json, sys; from archsearch import cli; import io, contextlib; buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            f"    rc = cli.main(['bench', 'eval', {str(table)!r}, '--predictors', 'prior', 'random', '--json'])\n"
            "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules, 'rep': json.loads(buf.getvalue())}))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    out = json.loads(res.stdout)
    assert out["rc"] == 0 and not out["torch"], res.stderr
    assert set(out["rep"]["predictors"]) == {"prior", "random"}
    assert set(out["rep"]["layer_preference"]) == {"trained", "prior", "random"}


def test_eval_keeps_its_columns_aligned_under_long_predictor_names(capsys):
    """The printed table's columns line up whatever the names' lengths (``prior-soft-leximin`` is longer than
    the 15 characters the name column once had): each row's tau interval starts in one column and ends under
    its header."""
    table = ROOT / "benchmarks" / "tables" / "heldout" / "mnist1d-32-s3.json"
    assert run_cli(["bench", "eval", str(table), "--predictors", "prior", "prior-soft-leximin", "leximin"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("predictor"))
    end = header.index("Kendall tau [95% CI]") + len("Kendall tau [95% CI]")
    rows = [line for line in lines if line.split(" ")[0] in ("prior", "prior-soft-leximin", "leximin")]
    assert len(rows) >= 3
    assert len({row.index("[") for row in rows[:3]}) == 1  # every row's interval starts in one column
    assert all(row.index("]") in (end - 2, end - 1) for row in rows[:3])  # ... and ends under its header


def test_eval_brief_prints_the_table_and_the_added_value_only(capsys):
    """``--brief`` keeps the ceiling, the predictors' table and the prior against the best task-blind rule, and
    leaves out the blocks the whole output adds after them (multisets, held-out seed, layers); the JSON
    stays whole."""
    table = str(ROOT / "benchmarks" / "tables" / "heldout" / "mnist1d-32-s3.json")
    args = ["bench", "eval", table, "--predictors", "prior", "leximin", "min-width"]
    assert run_cli(args) == 0
    whole = capsys.readouterr().out.splitlines()
    assert run_cli([*args, "--brief"]) == 0
    brief = capsys.readouterr().out.splitlines()
    cut = next(i for i, line in enumerate(whole) if line.startswith("the prior against the best task-blind"))
    assert brief == whole[:cut + 1]
    assert any(line.startswith("which widths") for line in whole[cut + 1:])
    assert any(line.startswith("what each asks of each layer") for line in whole[cut + 1:])
    assert run_cli([*args, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert run_cli([*args, "--brief", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == plain


def test_a_table_with_full_seeds_keeps_the_layouts_trained_most():
    """``Table.with_full_seeds``: only the layouts with the most seeds stay, with all their runs; their
    means are the whole table's; a table of one seed per layout is kept whole (``bench eval --full-seeds``)."""
    table = Table.load(ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json")
    seeds = table.seed_accuracies()
    full = table.with_full_seeds()
    kept = {r.id: r for r in full.rows()}
    assert set(kept) == {i for i, v in seeds.items() if len(v) == 3} and len(kept) == 100
    whole = {r.id: r for r in table.rows()}
    assert all(kept[i].val_accuracy == whole[i].val_accuracy for i in kept)
    assert len(table.runs) > len(full.runs) == 300
    one = Table.load(ROOT / "benchmarks" / "tables" / "heldout" / "mnist1d-48.json")
    assert one.with_full_seeds().runs == one.runs  # every layout at 3 seeds: nothing left out


def test_eval_full_seeds_on_a_subset_grown_to_three(capsys):
    table = str(ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json")
    assert run_cli(["bench", "eval", table, "--predictors", "prior", "leximin", "--full-seeds", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["layouts"] == 100 and rep["noise_ceiling"]["mean_of_seeds"]["layouts"] == 100


def test_full_seeds_leaving_too_few_layouts_is_one_line(tmp_path, capsys):
    """Two layouts at three seeds, the rest at one: ``--full-seeds`` refuses in one line that says so, in eval
    and contrast alike."""
    d = json.loads((ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json").read_text())
    grown = sorted({r["layout"] for r in d["runs"] if r["seed"] == 2})[:2]
    d["runs"] = [r for r in d["runs"] if r["seed"] == 0 or r["layout"] in grown]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(d))
    trained = len({r["layout"] for r in d["runs"] if r.get("failed") is None})
    for cmd in (["eval", str(path)], ["contrast", str(path), str(path)]):
        assert run_cli(["bench", *cmd, "--predictors", "leximin", "--full-seeds"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "t.json" in err
        assert f"--full-seeds leaves 2 layout(s) trained with 3 seeds (of {trained} trained)" in err


def test_a_table_finds_its_task_from_any_folder(tmp_path, monkeypatch, capsys):
    """The shipped tables name `tasks/x.yaml` relative to the checkout's root: their readers find it from
    another folder too (the table's own folder, then those above it, then the installed package's shipped
    copy); a table naming a file found nowhere says which, in one line, and builds (which write the table
    back) keep it as stored."""
    shipped = ROOT / "benchmarks" / "tables" / "mnist1d-32.json"
    monkeypatch.chdir(tmp_path)
    assert locate_file("tasks/mnist1d-32.yaml", shipped) == str(ROOT / "tasks" / "mnist1d-32.yaml")
    assert locate_file(str(ROOT / "tasks" / "none.yaml"), shipped) == str(ROOT / "tasks" / "none.yaml")
    assert locate_file("tasks/none.yaml", shipped) == "tasks/none.yaml"
    assert Table.load(shipped, locate=False).task.file == "tasks/mnist1d-32.yaml"
    assert run_cli(["bench", "eval", str(shipped), "--predictors", "prior", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"] == "mnist1d-32"
    assert run_cli(["bench", "show", str(shipped)]) == 0
    capsys.readouterr()
    moved = tmp_path / "moved.json"  # out of the checkout: the shipped task is the installed copy
    moved.write_text(shipped.read_text())
    assert run_cli(["bench", "eval", str(moved), "--predictors", "prior", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"] == "mnist1d-32"
    moved.write_text(shipped.read_text().replace('"tasks/mnist1d-32.yaml"', '"tasks/mine/mnist1d-32.yaml"'))
    assert run_cli(["bench", "eval", str(moved), "--predictors", "prior"]) == 2
    err = capsys.readouterr().err.strip()
    assert "tasks/mine/mnist1d-32.yaml: no such file" in err and len(err.splitlines()) == 1


def test_bad_tables_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run_cli(["bench", "show", str(bad)]) == 2
    assert "not a table: malformed JSON at line 1, column 2" in capsys.readouterr().err
    bad.write_text(json.dumps({"format": "something else"}))
    assert run_cli(["bench", "eval", str(bad)]) == 2
    assert "not an archsearch table" in capsys.readouterr().err
    assert run_cli(["bench", "show", str(tmp_path / "none.json")]) == 2
    assert "no such table" in capsys.readouterr().err
    assert run_cli(["bench", "build", "t.yaml", "s.yaml", "--out", str(tmp_path), "--band", "0.5"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert run_cli(["bench", "build", "t.yaml", "s.yaml", "--out", str(tmp_path / "x.json"), "--band", "0"]) == 2
    assert "argument --band: must lie in (0, 1]" in capsys.readouterr().err


def test_layer_preferences_read_the_layer_a_value_follows():
    """On a full grid of widths each layer's width is independent of the others': a value that follows
    one layer's width correlates 1 with it and exactly 0 with every other layer."""
    import itertools

    grid = np.array(list(itertools.product([4, 8, 16], repeat=3)))
    prefs = layer_preferences(grid, {"first": np.log2(grid[:, 0]), "last, inverted": -grid[:, 2] * 1.0,
                                     "flat": np.ones(len(grid))})
    assert prefs["first"] == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)
    assert prefs["last, inverted"] == pytest.approx([0.0, 0.0, -1.0], abs=1e-12)
    assert all(np.isnan(prefs["flat"]))
    assert layer_preferences([[4, 8], [4, 8, 16]], {"x": np.ones(2)}) is None  # depths differ: no layers to compare


def test_rank_statistics_closed_cases():
    acc = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    tau, ci, rho, _ = rank_stats(acc * 3 + 1, acc)
    assert tau == pytest.approx(1) and rho == pytest.approx(1) and ci == pytest.approx((1.0, 1.0))
    assert rank_stats(-acc, acc)[0] == pytest.approx(-1)
    assert np.isnan(rank_stats(np.ones(5), acc)[0])  # a constant predictor orders nothing
    assert top_k_regret(acc, acc, 1) == 0 and top_k_regret(-acc, acc, 1) == pytest.approx(0.8)
    assert top_k_regret(-acc, acc, 5) == 0
    stats = evaluate(acc, {"perfect": acc, "reversed": -acc})
    assert stats["perfect"].top1_regret == 0 and stats["reversed"].kendall_tau == pytest.approx(-1)


def test_noise_ceiling_reads_the_second_seed():
    """Seed 1 ranks the layouts differently from seed 0 (one pair of six swaps): the ceiling is their
    Kendall tau, (5 - 1) / 6 = 2/3, not 1 (seed 0 against itself) and not -1/3 (seed 0 against seed 2)."""
    from scipy.stats import kendalltau

    from tests.conftest import table_of_runs

    s0, s1, s2 = [0.1, 0.5, 0.7, 0.3], [0.2, 0.9, 0.4, 0.35], [0.4, 0.3, 0.2, 0.1]
    runs = [(i, s, v) for s, accs in enumerate((s0, s1, s2)) for i, v in enumerate(accs)]
    runs.append((9, 0, 0.5))  # one seed only: not in the ceiling
    out = noise_ceiling(table_of_runs(runs))
    assert out["layouts"] == 4
    assert out["kendall_tau"] == pytest.approx(2 / 3)
    assert out["kendall_tau"] == pytest.approx(kendalltau(s0, s1).statistic)
    assert kendalltau(s0, s2).statistic == pytest.approx(-1 / 3)  # the pair it must not read


def test_meco_is_finite_and_skips_what_has_no_matrix():
    from archsearch.core.layout import Layout
    from archsearch.train.models import build_model
    from archsearch.train.peers import meco

    x = np.random.default_rng(0).random((1, 1, 8, 8)).astype(np.float32)
    wide = Layout.uniform((8, 8), M=4, channels=64, pools=[2, 2, 2])  # more channels than positions
    narrow = Layout.uniform((8, 8), M=4, channels=2, pools=[2, 2, 2])
    assert meco(build_model(wide, seed=0), x) == pytest.approx(0, abs=1e-9)
    value = meco(build_model(narrow, seed=0), x)
    assert np.isfinite(value) and value >= -1e-9


def test_table_load_names_a_missing_key(tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps({"format": "archsearch-bench-table/1", "task": {}}))
    with pytest.raises(InputError, match="t.json: missing required key 'archsearch_version'"):
        Table.load(f)


@pytest.mark.slow
def test_sigterm_stops_a_build_in_one_line_and_keeps_its_runs(files):
    """SIGTERM (what timeout and job schedulers send): the workers are terminated with the build, every
    finished run is kept, one line is printed, and the exit status is 143."""
    proc = subprocess.Popen(_build(files, "--epochs", "40", "--workers", "2"), cwd=files,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not ((files / "t.json").exists() and json.loads((files / "t.json").read_text())["runs"]):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 180
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines() == ["archsearch: interrupted (SIGTERM); run the same command again to resume"]
    assert Table.load(files / "t.json").runs  # what finished is kept
    time.sleep(2)
    ps = subprocess.run(["pgrep", "-f", str(files / "t.json")], capture_output=True, text=True)
    assert ps.stdout.strip() == ""  # no worker left behind


def test_a_table_grows_to_more_seeds_and_keeps_its_runs(files):
    from archsearch.evidence.bench import new_table, open_table, todo_runs
    from archsearch.formats.task import load_task

    task, space = load_task(files / "task.yaml"), load_space(files / "space.yaml")
    one = BenchSettings(seeds=1, noise_layouts=2, band=0.6, epochs=1)
    table = new_table(task, space, one, "cpu")
    n = len(table.layouts)
    for i, s in planned_runs(n, one):
        table.add_run({"layout": i, "seed": s, "val_accuracy": 0.5, "test_accuracy": 0.5})
    table.save(files / "t.json")
    three = BenchSettings(seeds=3, noise_layouts=2, band=0.6, epochs=1)
    grown = open_table(task, space, three, files / "t.json", None, "cpu")
    assert grown.settings.seeds == 3 and grown.runs == table.runs
    todo = todo_runs(grown, three)
    done = {(r.layout, r.seed) for r in table.runs}
    assert set(todo) == {(i, s) for i in range(n) for s in range(3)} - done  # only what is missing
    assert len(todo) == 3 * n - len(done)
    with pytest.raises(InputError, match="other settings"):  # fewer seeds, or another setting, still refused
        open_table(task, space, BenchSettings(seeds=3, noise_layouts=2, band=0.6, epochs=2), files / "t.json",
                   None, "cpu")


def test_a_build_covers_every_layout_before_further_seeds():
    """A table grown to three seeds on a seeded subset, part way: what it lacks comes as seed 0 of every
    layout with no run yet first, then the rest; each part shuffled (not in id order), the same order every
    time."""
    from archsearch.evidence.bench import todo_runs

    table = Table.load(ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json")
    settings = table.settings
    done = table.runs[: len(table.runs) // 3]  # a third of its runs, as a build stopped part way
    part = Table.load(ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json")
    part.runs = done
    todo = todo_runs(part, settings)
    trained = {r.layout for r in done}
    untrained = set(range(len(table.layouts))) - trained
    firsts = todo[: len(untrained)]
    assert sorted(firsts) == [(i, 0) for i in sorted(untrained)] and len(firsts) > 10  # each untrained layout once
    assert any(s > 0 for _, s in todo) and any(i in trained for i, s in todo if s == 0)  # then the rest
    assert firsts != sorted(firsts)
    assert set(todo) == set(planned_runs(len(table.layouts), settings)) - {(r.layout, r.seed) for r in done}
    assert todo_runs(part, settings) == todo


def test_more_seeds_for_a_seeded_subset_keep_the_noise_runs(files):
    one = BenchSettings(seeds=1, noise_layouts=10)
    sub = BenchSettings(seeds=3, noise_layouts=10, seed_layouts=25)
    runs = planned_runs(80, sub)
    assert len(runs) == len(set(runs)) == 80 + 25 * 2
    assert {(i, 0) for i in range(80)} <= set(runs)
    subset = {i for i, s in runs if s == 2}
    assert len(subset) == 25 and {i for i, s in runs if s == 1} == subset
    assert {i for i, s in planned_runs(80, one) if s == 1} <= subset  # every second-seed run is kept
    assert planned_runs(80, sub) == runs  # seeded
    assert planned_runs(80, BenchSettings(seeds=3, seed_layouts=0)) == [(i, s) for i in range(80) for s in range(3)]
    assert planned_runs(20, BenchSettings(seeds=3, seed_layouts=25)) == [(i, s) for i in range(20) for s in range(3)]


def test_a_table_made_before_seed_layouts_resumes(files):
    from archsearch.evidence.bench import new_table, open_table
    from archsearch.formats.task import load_task

    task, space = load_task(files / "task.yaml"), load_space(files / "space.yaml")
    one = BenchSettings(seeds=1, noise_layouts=2, band=0.6, epochs=1)
    data = new_table(task, space, one, "cpu").to_dict()
    del data["settings"]["seed_layouts"]  # as 0.5 wrote it
    (files / "t.json").write_text(json.dumps(data))
    assert open_table(task, space, one, files / "t.json", None, "cpu").settings.seed_layouts == 0
    grown = open_table(task, space, BenchSettings(seeds=3, noise_layouts=2, band=0.6, epochs=1, seed_layouts=3),
                       files / "t.json", None, "cpu")
    assert grown.settings.seeds == 3 and grown.settings.seed_layouts == 3


def test_a_build_worker_that_cannot_start_says_why(tmp_path):
    from archsearch.evidence import bench

    # parent: this process's own parent, so the watch thread (a worker stops when its build dies) stays quiet
    bench._init_worker(str(tmp_path / "missing.yaml"), {}, 10, 1, str(tmp_path), "cpu", os.getppid(), 1)
    with pytest.raises(InputError, match="missing.yaml: no such file"):
        bench._train_one((0, 0, {}))


def test_a_run_records_cpu_time_that_a_pause_does_not_add_to(monkeypatch):
    """``seconds`` is wall time; ``cpu_seconds`` is the process's CPU time: a run that waits (as one paused by
    SIGSTOP does) counts the wait in the one and not the other."""
    import archsearch.train.loop as loop
    import archsearch.train.models as models
    from archsearch.train.runs import train_run

    def waiting_train(model, data, cfg):
        time.sleep(0.6)
        sum(i * i for i in range(200_000))  # some work, on the CPU
        return {"history": [{"val_accuracy": 0.5, "test_accuracy": 0.5, "loss": 1.0}], "val_accuracy": 0.5,
                "test_accuracy": 0.5, "device": "cpu"}

    monkeypatch.setattr(loop, "train", waiting_train)
    monkeypatch.setattr(models, "build_model", lambda *a, **k: None)
    layout = {"input_shape": [8], "M": 2, "layers": [{"channels": 2, "pool": [8]}]}
    row = train_run(0, 0, layout, {"epochs": 1, "model": "convnet"}, None, "cpu")
    assert row["seconds"] >= 0.6
    assert 0 < row["cpu_seconds"] < row["seconds"] - 0.4
    RunRow.model_validate(row)  # the table's schema takes it


def test_a_failed_run_records_its_times_rounded_like_a_completed_one(monkeypatch):
    """A run whose training fails keeps its times, to the hundredth as a completed run's are, and the message."""
    import archsearch.train.loop as loop
    import archsearch.train.models as models
    from archsearch.train.runs import train_run

    def failing_train(model, data, cfg):
        time.sleep(0.013)
        raise loop.TrainingFailed("loss turned nan at epoch 0")

    monkeypatch.setattr(loop, "train", failing_train)
    monkeypatch.setattr(models, "build_model", lambda *a, **k: None)
    layout = {"input_shape": [8], "M": 2, "layers": [{"channels": 2, "pool": [8]}]}
    row = train_run(3, 1, layout, {"epochs": 1, "model": "convnet"}, None, "cpu")
    assert (row["layout"], row["seed"], row["failed"]) == (3, 1, "loss turned nan at epoch 0")
    for key in ("seconds", "cpu_seconds"):
        assert row[key] == round(row[key], 2)
    assert row["seconds"] >= 0.01
    RunRow.model_validate(row)
