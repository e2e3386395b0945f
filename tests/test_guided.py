"""The trained search and the verification, on tiny settings (16x16 canvas, a few hundred images)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from archsearch import cli
from archsearch.evidence.verify import kendall

TASK = """name: tiny
input_shape: [16, 16]
partitions:
  - {name: cb, kind: checkerboard}
  - {name: lr, kind: left-right}
data: {source: digits, digit_size: 8, train: 300, test: 100, seed: 0}
"""
SPACE = """name: tiny
input_shape: [16, 16]
M: 6
pool: [2, 2]
channels: {choices: [2, 4, 8, 16]}
budget: {max_params: 900}
"""


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
    assert _run(files, "g", "--trials", "4") == 0
    study = _study(files, "g")
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 4
    warm = [t for t in study.trials if t.user_attrs.get("warm_start")]
    assert 1 <= len(warm) <= 3 and all(t.number < 3 for t in warm)  # the prior's picks go first
    for t in done:
        assert 0 <= t.value <= 1 and t.value == t.user_attrs["accuracy"]
        assert t.user_attrs["params"] <= 900
        if "duplicate_of" not in t.user_attrs:
            rows = (files[2] / "runs" / "g" / "trials" / f"{t.number:05d}.jsonl").read_text().splitlines()
            assert json.loads(rows[-1])["test_accuracy"] == t.value
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
        assert isinstance(lay["prior_score"], float) and len(lay["accuracy"]) == 2
    scores = [lay["prior_score"] for lay in rep["layouts"]]
    assert len(set(scores)) > 1  # spread over the prior's range
    assert set(rep["predictors"]) == {"prior", "naswot", "synflow", "params"}
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


def test_kendall_matches_closed_cases():
    tau, p, lo, hi = kendall([1, 2, 3, 4, 5], [10, 20, 30, 40, 50])
    assert tau == pytest.approx(1.0) and lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    tau, *_ = kendall([1, 2, 3, 4], [4, 3, 2, 1])
    assert tau == pytest.approx(-1.0)
    assert np.isnan(kendall([1, 2], [1, 2])[0])
