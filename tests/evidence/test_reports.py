"""What people look at: `studies`, `show`, the HTML report (opened in a real headless Chromium), and
optuna-dashboard (its JSON API, as the page reads it): feasibility, the best feasible trial, notes and
layout pictures as artifacts."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import optuna
import pytest

from archsearch.search import study as search
from tests.conftest import run_cli

TASK = """name: tiny
description: two partitions on a 16x16 canvas
input_shape: [16, 16]
partitions:
  - {name: cb, kind: checkerboard}
  - {name: lr, kind: left-right, need: 3}
data: {source: digits, digit_size: 8, train: 300, val: 100, test: 100, seed: 0}
"""
# a small budget among wide choices: many proposals are over it, and over it the prior scores higher
SPACE = """name: tiny
input_shape: [16, 16]
M: 6
pool: [2, 2]
channels: {choices: [2, 4, 8, 16, 32]}
budget: {max_params: 700}
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A prior-only study (random sampler: infeasible trials among them), a Pareto study and a tiny
    trained study, on one SQLite file each under runs/."""
    tmp = tmp_path_factory.mktemp("reports")
    (tmp / "task.yaml").write_text(TASK)
    (tmp / "space.yaml").write_text(SPACE)
    common = ["--runs-dir", str(tmp / "runs"), "--no-progress"]
    task, space = str(tmp / "task.yaml"), str(tmp / "space.yaml")
    assert run_cli(["search", task, space, "--study-name", "p", "--prior-only", "--trials", "40", "--sampler",
                    "random", *common]) == 0
    assert run_cli(["search", task, space, "--study-name", "par", "--prior-only", "--pareto", "--trials", "30",
                    *common]) == 0
    assert run_cli(["search", task, space, "--study-name", "tr", "--trials", "3", "--epochs", "1", *common]) == 0
    return tmp


def _study(tmp: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp}/runs/{name}/study.db")


def test_studies_lists_every_study(made, capsys):
    capsys.readouterr()
    assert run_cli(["studies", "--runs-dir", str(made / "runs"), "--json"]) == 0
    rows = {r["study"]: r for r in json.loads(capsys.readouterr().out)["studies"]}
    assert set(rows) == {"p", "par", "tr"}
    assert rows["p"]["mode"] == "prior-only" and rows["p"]["complete"] == 40 and rows["p"]["target"] == 40
    assert rows["tr"]["mode"] == "trained" and rows["tr"]["task"] == "tiny"
    feasible = search.feasible_trials(_study(made, "p"))
    assert rows["p"]["best_value"] == max(t.value for t in feasible)  # the best *feasible* value
    assert rows["par"]["best_value"] is None  # many objectives: no single best
    assert run_cli(["studies", "--runs-dir", str(made / "runs")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split()[:3] == ["study", "task", "mode"] and "prior-only" in text


def test_show_prints_the_best_layouts_and_their_cuts(made, capsys):
    capsys.readouterr()
    assert run_cli(["show", "--study-name", "p", "--runs-dir", str(made / "runs"), "--top", "2", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    best = max(search.feasible_trials(_study(made, "p")), key=lambda t: t.value)
    assert rep["layouts"][0]["value"] == best.value and len(rep["layouts"]) == 2
    assert [p["name"] for p in rep["layouts"][0]["partitions"]] == ["cb", "lr"]
    assert all("layer" in p["explanation"] for p in rep["layouts"][0]["partitions"])
    assert run_cli(["show", "--study-name", "p", "--runs-dir", str(made / "runs")]) == 0
    assert "cut runs through" in capsys.readouterr().out
    assert run_cli(["show", "--study-name", "nope", "--runs-dir", str(made / "runs")]) == 2


def _api(app, path: str) -> dict:
    """GET ``path`` from a WSGI app, as the dashboard's page does; its JSON."""
    from wsgiref.util import setup_testing_defaults

    env: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    setup_testing_defaults(env)
    env["wsgi.input"] = io.BytesIO(b"")
    status = []
    body = b"".join(app(env, lambda s, h, exc_info=None: status.append(s)))
    assert status[0].startswith("200"), (status, body[:200])
    return json.loads(body)


def test_the_dashboard_names_the_best_feasible_trial(made):
    pytest.importorskip("optuna_dashboard")
    from archsearch.search.dashboard import dashboard_app

    study = _study(made, "p")
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    feasible = [t for t in done if t.user_attrs["feasible"]]
    over = [t for t in done if not t.user_attrs["feasible"]]
    assert over and max(t.value for t in over) > max(t.value for t in feasible)  # the case that misled
    plain = study._storage.get_best_trial(study._study_id)
    assert not plain.user_attrs["feasible"]  # what optuna-dashboard alone would name the best
    app = dashboard_app(f"sqlite:///{made}/runs/p/study.db", made / "runs" / "p" / "artifacts", "p")
    sid = _api(app, "/api/studies")["study_summaries"][0]["study_id"]
    detail = _api(app, f"/api/studies/{sid}")
    (best,) = detail["best_trials"]
    assert best["number"] == max(feasible, key=lambda t: (t.value, -t.number)).number
    assert all(c <= 0 for c in best["constraints"])
    by_number = {t["number"]: t for t in detail["trials"]}
    assert all(any(c > 0 for c in by_number[t.number]["constraints"]) for t in over)  # shown infeasible
    assert all(all(c <= 0 for c in by_number[t.number]["constraints"]) for t in feasible)
    assert "two partitions on a 16x16 canvas" in detail["note"]["body"]  # the study's note
    # the best layouts' pictures are the study's artifacts, and they load
    arts = detail["artifacts"]
    assert len(arts) == 5 and all(a["mimetype"] == "image/png" for a in arts)


def test_trained_trials_carry_their_layout_picture(made, tmp_path):
    from optuna.artifacts import download_artifact, get_all_artifact_meta

    from archsearch.search.dashboard import artifact_store

    study = _study(made, "tr")
    store = artifact_store(made / "runs" / "tr" / "artifacts")
    for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        if "duplicate_of" in t.user_attrs:
            continue
        (meta,) = get_all_artifact_meta(t, storage=study._storage)
        assert meta.artifact_id == t.user_attrs["layout_picture"]
        dest = tmp_path / f"{t.number}.png"
        download_artifact(artifact_store=store, file_path=str(dest), artifact_id=meta.artifact_id)
        assert dest.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and dest.stat().st_size > 5000


def _chromium():
    """A headless Chromium driven by Selenium (Debian's chromium and chromium-driver)."""
    paths = [shutil.which("chromium"), shutil.which("chromedriver")]
    if not all(paths) or pytest.importorskip("selenium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium missing: .ci/run installs Debian's chromium and chromium-driver")
        pytest.skip("no Chromium here")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = paths[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(paths[1]), options=opts)


def _opens_cleanly(driver, page: Path, images: int) -> None:
    driver.get(page.as_uri())
    title = driver.title
    assert title.startswith("archsearch")
    loaded = driver.execute_script(
        "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert len(loaded) == images and all(loaded)  # every picture decodes
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    assert driver.find_elements("tag name", "table")


@pytest.mark.slow
def test_reports_render_in_a_real_browser(made, tmp_path, capsys):
    out = {name: tmp_path / name for name in ("p", "par", "tr", "table")}
    for name in ("p", "par", "tr"):
        assert run_cli(["report", "--study-name", name, "--runs-dir", str(made / "runs"), "--out", str(out[name])]) == 0
    assert run_cli(["report", "--study-name", "p", "--runs-dir", str(made / "runs"), "--out", str(out["p"])]) == 2
    assert run_cli(["bench", "build", str(made / "task.yaml"), str(made / "space.yaml"), "--out",
                    str(tmp_path / "t.json"), "--epochs", "1", "--band", "0.7", "--noise-layouts", "2",
                    "--runs-dir", str(made / "runs"), "--no-progress"]) == 0
    assert run_cli(["report", "--table", str(tmp_path / "t.json"), "--runs-dir", str(made / "runs"), "--out",
                    str(out["table"])]) == 0
    pictures = {"p": {"cuts", "widths", "needs", "history"}, "par": {"cuts", "widths", "needs", "pareto"},
                "tr": {"cuts", "widths", "needs", "history", "prior"}, "table": {"table", "eval", "cuts", "widths",
                                                                                "needs"}}
    for name, want in pictures.items():
        assert {p.stem for p in out[name].glob("*.png")} == want
        md = (out[name] / "report.md").read_text()
        assert all(f"]({w}.png)" in md for w in want)  # the Markdown twin links the same pictures
    driver = _chromium()
    try:
        for name, want in pictures.items():
            _opens_cleanly(driver, out[name] / "report.html", len(want))
    finally:
        driver.quit()


def test_studies_finds_journal_studies_in_the_runs_folder(tmp_path, capsys):
    (tmp_path / "task.yaml").write_text(TASK)
    (tmp_path / "space.yaml").write_text(SPACE)
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "notes.log").write_text("not a journal\n")  # a log of something else is passed over
    assert run_cli(["search", str(tmp_path / "task.yaml"), str(tmp_path / "space.yaml"), "--study-name", "j",
                    "--prior-only", "--trials", "5", "--storage", f"journal:{runs / 'demo.log'}", "--runs-dir",
                    str(runs), "--no-progress"]) == 0
    capsys.readouterr()
    assert run_cli(["studies", "--runs-dir", str(runs), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["studies"]
    assert [(r["study"], r["complete"]) for r in rows] == [("j", 5)]
    assert rows[0]["storage"] == f"journal:{runs / 'demo.log'}"


def test_a_study_report_says_its_stages(made, tmp_path):
    """What `report --study-name` shows on a terminal, stage by stage, before the pictures are drawn."""
    from archsearch.evidence.report import study_report
    from archsearch.search import study as search

    stages: list[str] = []
    storage = f"sqlite:///{made / 'runs' / 'p' / 'study.db'}"
    paths = study_report(search.open_study("p", storage, read_only=True), tmp_path / "r", progress=stages.append)
    assert [p.name for p in paths][:1] == ["report.html"] and len(stages) == 2
    assert "best layouts" in stages[0] and "history" in stages[1]
