"""The trained search and the verification, on tiny settings (16x16 canvas, a few hundred images)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from archsearch import cli
from archsearch.evidence.predictors import PREDICTORS
from tests.conftest import TINY_SPACE

TASK = """name: tiny
input_shape: [16, 16]
partitions:
  - {name: cb, kind: checkerboard}
  - {name: lr, kind: left-right}
data: {source: digits, digit_size: 8, train: 300, test: 100, seed: 0}
"""
SPACE = TINY_SPACE


@pytest.fixture
def files(tmp_path):
    (tmp_path / "task.yaml").write_text(TASK)
    (tmp_path / "space.yaml").write_text(SPACE)
    return str(tmp_path / "task.yaml"), str(tmp_path / "space.yaml"), tmp_path


def _run(files, name, *extra):
    task, space, tmp = files
    return cli.main(["search", task, space, "--study-name", name, "--runs-dir", str(tmp / "runs"),
                     "--epochs", "1", "--no-progress", *extra])


def _study(files, name):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{files[2]}/runs/{name}/study.db")


@pytest.mark.slow
def test_guided_search_trains_and_records(files, capsys):
    from archsearch.search.prior_sampler import SOURCE_KEY

    assert _run(files, "g", "--trials", "4") == 0
    study = _study(files, "g")
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 4
    # the default guide is PriorGuidedSampler: every trial says where it came from, the first from the prior
    assert all(t.system_attrs[SOURCE_KEY] in ("prior", "base") for t in study.trials)
    assert study.trials[0].system_attrs[SOURCE_KEY] == "prior"
    assert not any(t.user_attrs.get("warm_start") for t in study.trials)
    for t in done:
        assert 0 <= t.value <= 1 and t.value == t.user_attrs["val_accuracy"]  # the search selects on validation
        assert 0 <= t.user_attrs["test_accuracy"] <= 1
        assert t.user_attrs["params"] <= 900
        if "duplicate_of" not in t.user_attrs:
            rows = (files[2] / "runs" / "g" / "trials" / f"{t.number:05d}.jsonl").read_text().splitlines()
            last = json.loads(rows[-1])
            assert last["val_accuracy"] == t.value and last["test_accuracy"] == t.user_attrs["test_accuracy"]
    for t in study.trials:
        if t.state == TrialState.PRUNED:
            assert t.user_attrs["skipped"]  # over budget or below the prior's floor: never trained


@pytest.mark.slow
def test_warm_floor_guide_puts_the_priors_picks_first(files, capsys):
    assert _run(files, "w", "--trials", "4", "--guide", "warm-floor") == 0
    study = _study(files, "w")
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) == 4
    warm = [t for t in study.trials if t.user_attrs.get("warm_start")]
    assert 1 <= len(warm) <= 3 and all(t.number < 3 for t in warm)  # the prior's picks go first
    for t in study.trials:
        if t.state == TrialState.PRUNED:
            assert t.user_attrs["skipped"]  # over budget or below the prior's floor: never trained


@pytest.mark.slow
def test_failed_training_is_marked_and_the_search_goes_on(files, capsys, monkeypatch):
    from archsearch.train import loop as train_mod

    real, calls = train_mod.train, []

    def flaky(model, data, cfg, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise train_mod.TrainingFailed("loss turned nan at epoch 0, step 3")
        return real(model, data, cfg, **kw)

    monkeypatch.setattr(train_mod, "train", flaky)
    assert _run(files, "f", "--trials", "2", "--no-prior", "--sampler", "random") == 0
    study = _study(files, "f")
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and "loss turned nan" in failed[0].user_attrs["fail_reason"]
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) == 2
    assert not any(t.user_attrs.get("warm_start") for t in study.trials)  # --no-prior: no warm start


@pytest.mark.slow
def test_verify_json_and_plot(files, capsys):
    task, space, tmp = files
    plot = tmp / "v.png"
    assert cli.main(["verify", task, space, "--epochs", "1", "--seeds", "2", "--layouts", "4", "--json",
                     "--runs-dir", str(tmp / "runs"), "--plot", str(plot), "--no-progress"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert isinstance(rep["kendall_tau"], float)
    assert len(rep["layouts"]) == 4
    for lay in rep["layouts"]:
        assert all(isinstance(c, int) for c in lay["channels"])
        assert isinstance(lay["prior_score"], float) and len(lay["val_accuracy"]) == len(lay["test_accuracy"]) == 2
        assert lay["accuracy"] == lay["val_accuracy"]  # the key earlier tools read: validation accuracy
    scores = [lay["prior_score"] for lay in rep["layouts"]]
    assert len(set(scores)) > 1  # spread over the prior's range
    assert set(rep["predictors"]) == set(PREDICTORS)
    table = json.loads(open(rep["table"]).read())  # verify is a small benchmark table, evaluated
    assert table["format"] == "archsearch-bench-table/1" and len(table["runs"]) == 4 * 2
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_paper_command_tiny(files, capsys):
    task, _, tmp = files
    assert cli.main(["paper", "--local", task, "--global", task, "--r", "2", "--epochs", "1", "--seeds", "1",
                     "--train", "200", "--test", "50", "--json", "--runs-dir", str(tmp / "runs"),
                     "--no-progress"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [(r["layout"], r["channels"]) for r in rep["rows"][:2]] == [("wide-base", [8, 8, 4, 2]),
                                                                      ("wide-tip", [2, 4, 8, 8])]
    assert len(rep["rows"]) == 4 and all(len(r["accuracy"]) == 1 for r in rep["rows"])
    runs = list((tmp / "runs" / "paper-cpu").iterdir())
    assert len(runs) == 1 and (runs[0] / "paper.png").is_file() and (runs[0] / "paper.json").is_file()
    assert {"predicted", "found", "agree"} <= set(rep["comparisons"][0])
    assert all(0 < r["chance"] < 1 and isinstance(r["at_chance"], bool) for r in rep["rows"])
    first = (runs[0] / "paper.json").read_bytes()
    assert cli.main(["paper", "--local", task, "--global", task, "--r", "2", "--epochs", "1", "--seeds", "1",
                     "--train", "200", "--test", "50", "--runs-dir", str(tmp / "runs"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    again = sorted((tmp / "runs" / "paper-cpu").iterdir())
    assert len(again) == 2 and (runs[0] / "paper.json").read_bytes() == first  # a new folder; nothing overwritten
    assert f"wrote {again[1] / 'paper.json'}" in out or f"wrote {again[0] / 'paper.json'}" in out
    # the prior's prediction and the cuts come first; each run is printed; the finished runs were kept
    assert out.index("prior: ") < out.index("seed 0: test")
    assert out.count("(kept from an earlier run)") == 4
    assert len(list(again[1].glob("cuts-*.png"))) == 2  # one task file for both: its two layouts at r=2
    # a run is known by what decides it: the global task here is the local task's file, so its runs were
    # the local task's (two lines). A run cut short (its line half written) trains again, once; the rest is read
    log = tmp / "runs" / ".cache" / "paper" / "runs.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    log.write_text(lines[0] + "\n" + lines[1][:20])
    assert cli.main(["paper", "--local", task, "--global", task, "--r", "2", "--epochs", "1", "--seeds", "1",
                     "--train", "200", "--test", "50", "--runs-dir", str(tmp / "runs"), "--no-progress"]) == 0
    assert capsys.readouterr().out.count("(kept from an earlier run)") == 3


@pytest.mark.slow
def test_the_papers_runs_do_not_depend_on_the_number_of_workers(files, tmp_path):
    """The same runs, trained in this process or by two spawned workers, give the same accuracies, in the
    experiment's order; a run kept by the first job is read, not trained, by the second."""
    from archsearch.evidence.paper import run_paper
    from archsearch.formats.task import load_task

    task = load_task(files[0])
    kw = {"train": 120, "val": 40, "test": 40, "progress": False}
    told = []
    one = run_paper([task], [2], [0, 1], 1, "cpu", cache_dir=tmp_path / "a", workers=1, **kw)
    two = run_paper([task], [2], [0, 1], 1, "cpu", cache_dir=tmp_path / "b", workers=2,
                    on_run=lambda *a: told.append((a[2].label, a[3], a[6])), **kw)
    assert [r["accuracy"] for r in one["rows"]] == [r["accuracy"] for r in two["rows"]]
    assert [r["val_accuracy"] for r in one["rows"]] == [r["val_accuracy"] for r in two["rows"]]
    assert sorted(told) == [("wide-base", 0, False), ("wide-base", 1, False), ("wide-tip", 0, False),
                            ("wide-tip", 1, False)]
    told.clear()
    again = run_paper([task], [2], [0, 1], 1, "cpu", cache_dir=tmp_path / "b", workers=2,
                      on_run=lambda *a: told.append((a[2].label, a[3], a[6])), **kw)
    assert again["rows"] == two["rows"] and told == [("wide-base", 0, True), ("wide-base", 1, True),
                                                     ("wide-tip", 0, True), ("wide-tip", 1, True)]


@pytest.mark.slow
def test_paper_stopped_by_sigterm_says_so(files):
    """SIGTERM while its workers train: exit 143, one line saying how to resume, no traceback, and the
    finished runs' file untouched (before, the process died silently and left its workers behind)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    task, _, tmp = files
    cmd = [sys.executable, "-m", "archsearch", "paper", "--local", task, "--global", task, "--r", "2", "--seeds", "2",
           "--train", "200", "--test", "50", "--runs-dir", str(tmp / "runs"), "--no-progress", "--workers", "2"]
    assert subprocess.run([*cmd, "--epochs", "1"], capture_output=True, timeout=300).returncode == 0
    kept = tmp / "runs" / ".cache" / "paper" / "runs.jsonl"
    before = kept.read_text()
    proc = subprocess.Popen([*cmd, "--epochs", "400"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line, t0 = "", time.time()
    while "drew the cuts" not in line:  # then the workers start training
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 120
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "interrupted (SIGTERM); run the same command again to resume" in err and "Traceback" not in err
    assert kept.read_text() == before


def test_verdicts_call_ties_ties():
    from archsearch.evidence.verify import chance_level, verdict

    assert verdict(0.073, 0.073, 0.5 / 1000) == 0
    assert verdict(0.5, 0.5004, 0.5 / 1000) == 0  # closer than half an image of 1,000
    assert verdict(0.51, 0.5, 0.5 / 1000) == 1 and verdict(0.5, 0.51, 0.5 / 1000) == -1
    assert verdict(float("nan"), 0.5, 0.001) == 0
    assert chance_level([0, 0, 0, 1]) == 0.75 and chance_level(np.arange(10)) == 0.1


def _spawn_trained(files, name, *extra):
    import os
    import subprocess
    import sys

    task, space, tmp = files
    cmd = [sys.executable, "-m", "archsearch", "search", task, space, "--study-name", name, "--runs-dir",
           str(tmp / "runs"), "--no-progress", "--device", "cpu", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_workers_starting_together_warm_start_once(files):
    procs = [_spawn_trained(files, "w2", "--trials", "5", "--epochs", "1", "--seed", "0", "--guide", "warm-floor")
             for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    study = _study(files, "w2")
    warm = [t for t in study.trials if t.user_attrs.get("warm_start")]
    assert sorted(t.number for t in warm) == [0, 1, 2]  # three picks, not three per worker
    assert len({json.dumps(t.params, sort_keys=True) for t in warm}) == 3
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) == 5


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGKILL"])
def test_an_interrupted_training_trial_is_retried_on_resume(files, sig):
    import signal
    import time

    proc = _spawn_trained(files, "int", "--trials", "1", "--epochs", "500", "--train", "2000", "--guide", "warm-floor")
    metrics = files[2] / "runs" / "int" / "trials" / "00000.jsonl"
    t0 = time.time()
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2):  # trial 0 is training
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 120
        time.sleep(0.2)
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=120)
    if sig == "SIGINT":
        assert proc.returncode == 130 and "Traceback" not in err
    study = _study(files, "int")
    first = study.trials[0]
    assert first.state in (TrialState.FAIL, TrialState.RUNNING) and first.user_attrs.get("warm_start")
    rerun = _spawn_trained(files, "int", "--trials", "1", "--epochs", "1", "--guide", "warm-floor")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    study = _study(files, "int")
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 1 and done[0].user_attrs["retry_of"] == 0 and done[0].params == first.params
    assert done[0].user_attrs.get("warm_start")  # the prior's pick is trained after all
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]


@pytest.mark.slow
def test_trained_search_takes_data_sizes(files, capsys):
    assert _run(files, "sz", "--trials", "1", "--no-prior", "--train", "120", "--test", "40") == 0, \
        capsys.readouterr().err  # failed once in a loaded run, its message lost: now it says why
    caches = list((files[2] / "runs" / ".cache").glob("digits-*.npz"))
    assert len(caches) == 1, sorted(p.name for p in (files[2] / "runs").rglob("*"))
    with np.load(caches[0]) as z:
        assert z["x_train"].shape[0] == 120 and z["x_test"].shape[0] == 40


def test_reports_are_strict_json():
    from archsearch.evidence.outputs import json_text

    text = json_text({"tau": float("nan"), "acc": [0.5, float("inf")], "n": 3, "name": "x"})
    assert json.loads(text) == {"tau": None, "acc": [0.5, None], "n": 3, "name": "x"}
    assert "NaN" not in text and "Infinity" not in text


def test_paper_refuses_a_task_without_data_before_making_its_folder(tmp_path, capsys):
    task = tmp_path / "t.yaml"
    task.write_text("name: nodata\ninput_shape: [4, 4]\npartitions:\n  - {name: lr, kind: left-right}\n")
    assert cli.main(["paper", "--local", str(task), "--global", str(task), "--runs-dir", str(tmp_path / "runs"),
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "needs a 'data' section" in err and err.count("\n") == 1
    assert not (tmp_path / "runs" / "paper-cpu").exists()  # nothing made for a run that never started
