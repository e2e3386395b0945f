"""The second round of bad inputs, table-driven: table files, study recipes, storages and stored payloads.
Each is refused in one line (exit 2) naming the file or flag and the field, before anything is written,
and nothing already stored is damaged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from archsearch.search.recipe import RECIPE_KEY
from tests.conftest import ROOT, run_cli

T32 = str(ROOT / "tasks" / "digits-local-32.yaml")
S32 = str(ROOT / "search_spaces" / "cpu-32x32.yaml")
MN32 = ROOT / "benchmarks" / "tables" / "mnist1d-32.json"


def _one_line(capsys, expect: str) -> str:
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("archsearch: error: "), err
    assert expect in err, err
    return err


# -- table files: every reader checks the whole schema ------------------------------------------------------
def _set(path: str, value):
    def mutate(t: dict) -> None:
        *head, last = path.split(".")
        cur = t
        for k in head:
            cur = cur[int(k)] if k.isdigit() else cur[k]
        if value is _DROP:
            del cur[last]
        else:
            cur[int(last) if last.isdigit() else last] = value
    return mutate


_DROP = object()

TABLE_CASES = [
    (_set("space.complete_grid", _DROP), "missing required key 'complete_grid'"),
    (_set("archsearch_version", _DROP), "missing required key 'archsearch_version'"),
    (_set("runs.0.test_accuracy", _DROP), "runs[0]: a run holds val_accuracy and test_accuracy"),
    (_set("runs.0.val_accuracy", "0.9"), "runs[0].val_accuracy: expected a number, got '0.9'"),
    (_set("settings", "fast"), "settings: expected a mapping"),
    (_set("runs.0.val_accuracy", 1.5), "runs[0].val_accuracy: must be <= 1"),
    (_set("runs.0.val_accuracy", -0.1), "runs[0].val_accuracy: must be >= 0"),
    (_set("layouts.1.id", 0), "layouts[1].id: layout ids must be 0, 1, 2, ... in order; entry 1 has id 0 (a "
                              "duplicate)"),
    (_set("layouts.0.channels", [8, 8]), "layouts[0].channels: 2 widths for a schedule of 5 layers"),
    (_set("layouts.0.channels", [8, 8, 8, 8, 10**6]), "layouts[0].channels[4]: must be <= 4096"),
    (_set("layouts.0.schedule", 3), "layouts[0].schedule: schedule 3, but the table's space has 1"),
    (_set("runs.0.layout", 999), "runs[0].layout: names layout 999, but the table has 257 layouts"),
    (_set("runs.0.layout", _DROP), "missing required key 'layout'"),
    (_set("layouts", []), "runs[0].layout: names layout"),
    (_set("format", "archsearch-bench-table/0"), "not an archsearch table"),
    (_set("surprise", 1), "unknown key 'surprise'"),
]


def _write_table(tmp_path: Path, mutate) -> Path:
    t = json.loads(MN32.read_text())
    t["task"]["file"], t["space"]["file"] = str(ROOT / t["task"]["file"]), str(ROOT / t["space"]["file"])
    mutate(t)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(t))
    return path


@pytest.mark.parametrize("mutate,expect", TABLE_CASES, ids=[e[:40] for _, e in TABLE_CASES])
@pytest.mark.parametrize("reader", ["show", "eval", "replay", "report"])
def test_a_bad_table_is_refused_by_every_reader(mutate, expect, reader, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write_table(tmp_path, mutate)
    argv = {"show": ["bench", "show", str(path)], "eval": ["bench", "eval", str(path), "--predictors", "prior"],
            "replay": ["bench", "replay", str(path), "--repeats", "1", "--no-progress"],
            "report": ["report", "--table", str(path)]}[reader]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run_cli(argv) == 2
    err = _one_line(capsys, expect)
    assert str(path) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no runs/, no report folder


def test_the_table_contrast_and_the_duplicate_run(tmp_path, capsys):
    t = json.loads(MN32.read_text())
    t["runs"].append(dict(t["runs"][0]))
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(t))
    assert run_cli(["bench", "contrast", str(path), str(MN32), "--predictors", "prior"]) == 2
    _one_line(capsys, "a second run of layout")


@pytest.mark.parametrize("content,expect", [
    (b'{"format": "archsearch-bench-table/1", "runs": [NaN]}', "NaN is not a number a table may hold"),
    (b'{"format": "archsearch-bench-table/1", "x": Infinity}', "Infinity is not a number a table may hold"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"\xff\xfe garbage", "not UTF-8"),
    (b"", "malformed JSON at line 1, column 1"),
])
def test_table_bytes_that_are_no_table(content, expect, tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_bytes(content)
    assert run_cli(["bench", "show", str(path)]) == 2
    _one_line(capsys, expect)


def test_a_device_a_folder_and_a_huge_table(tmp_path, capsys, monkeypatch):
    assert run_cli(["bench", "show", "/dev/zero"]) == 2
    _one_line(capsys, "not a regular file")
    assert run_cli(["bench", "show", str(tmp_path)]) == 2
    _one_line(capsys, "is a folder, not a table")
    import archsearch.formats.table as table_format

    monkeypatch.setattr(table_format, "MAX_TABLE_BYTES", 1000)
    assert run_cli(["bench", "show", str(MN32)]) == 2
    _one_line(capsys, "over the limit for a table")


def test_a_table_the_space_cannot_hold(tmp_path, capsys):
    path = _write_table(tmp_path, _set("layouts.0.channels", [8, 8, 8, 8, 12]))  # 12 is no choice of the grid
    assert run_cli(["bench", "eval", str(path), "--predictors", "prior"]) == 2
    _one_line(capsys, "layouts[0]")
    path = _write_table(tmp_path, _set("layouts.0.params", 7))
    assert run_cli(["bench", "eval", str(path), "--predictors", "prior"]) == 2
    _one_line(capsys, "layouts[0].params: params 7, but the layout has")


# -- a file's content is never quoted unless it is of the expected kind -------------------------------------
def test_a_secret_file_named_by_a_table_is_not_echoed(tmp_path, capsys):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$salt$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    path = _write_table(tmp_path, _set("task.file", str(secret)))
    assert run_cli(["bench", "eval", str(path), "--predictors", "prior"]) == 2
    err = _one_line(capsys, "not a task file: none of its keys is one a task has")
    assert "SECRET" not in err and "root" not in err.replace(str(tmp_path), "")
    for cmd in (["check", str(secret)], ["score", str(secret), str(ROOT / "layouts" / "wide-base-64x64-r8.yaml")]):
        assert run_cli(cmd) == 2
        assert "SECRET" not in capsys.readouterr().err


# -- recipes: a worker trusts nothing a shared storage holds ----------------------------------------------------
def _recipe_study(tmp_path: Path, name: str = "r", sampler: str = "random") -> tuple[str, dict]:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    space = S32 if sampler != "exhaustive" else str(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    assert run_cli(["search", T32, space, "--prior-only", "--study-name", name, "--trials", "3", "--storage", storage,
                    "--sampler", sampler, "--no-progress"]) == 0
    study = optuna.load_study(study_name=name, storage=storage)
    return storage, json.loads(study.user_attrs[RECIPE_KEY])


RECIPE_CASES = [
    ({"trials": 10**12}, "trials: must be <= 10000000"),
    ({"trials": -5}, "trials: must be >= 1"),
    ({"max_failures": 10**9}, "max_failures: must be <= 1000000"),
    ({"mode": "$(touch PWNED-mode)"}, "mode: "),
    ({"mode": "pareto"}, "needs 5 objective(s), but the study has 1"),
    ({"kind": "bench", "mode": "bench"}, "a bench recipe holds its table's settings"),
    ({"sampler": "exhaustive", "mode": "trained"}, "sampler 'exhaustive' goes with mode 'prior-only'"),
    ({"epochs": 0}, "epochs: must be >= 1"),
    ({"seed": 2**40}, "seed: must be <="),
    ({"format": 7}, "not an archsearch recipe of format 1"),
    ({"extra": "x"}, "unknown key 'extra'"),
]


@pytest.mark.parametrize("change,expect", RECIPE_CASES, ids=[e[:40] for _, e in RECIPE_CASES])
def test_a_tampered_recipe_is_refused_by_a_worker(change, expect, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage, recipe = _recipe_study(tmp_path)
    study = optuna.load_study(study_name="r", storage=storage)
    study.set_user_attr(RECIPE_KEY, json.dumps({**recipe, **change}))
    n = len(study.trials)
    capsys.readouterr()
    assert run_cli(["worker", "--study-name", "r", "--storage", storage, "--no-progress"]) == 2
    err = _one_line(capsys, expect)
    assert "study 'r'" in err
    assert len(optuna.load_study(study_name="r", storage=storage).trials) == n  # nothing was run
    assert not any(tmp_path.glob("PWNED*"))


def test_a_bench_recipe_without_settings_and_one_that_is_no_json(tmp_path, capsys):
    storage, recipe = _recipe_study(tmp_path)
    study = optuna.load_study(study_name="r", storage=storage)
    for text, expect in [("{not json", "not JSON"),
                         (json.dumps({**recipe, "kind": "bench", "mode": "bench", "bench": {"layouts": []}}),
                          "bench: missing required key 'settings'")]:
        study.set_user_attr(RECIPE_KEY, text)
        capsys.readouterr()
        assert run_cli(["worker", "--study-name", "r", "--storage", storage, "--no-progress"]) == 2
        _one_line(capsys, expect)
    assert run_cli(["studies", "--storage", storage]) == 0  # the listing still shows the study
    assert "r " in capsys.readouterr().out


# -- stored text reaches people escaped ------------------------------------------------------------------------
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
            "\x1b[2J\x1b]0;pwned\x07"]


def test_stored_payloads_are_escaped_in_every_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage, recipe = _recipe_study(tmp_path, "x", "exhaustive")  # the prior's best: within the budget
    study = optuna.load_study(study_name="x", storage=storage)
    for key, payload in zip(["mode", "note", "space", "task"], PAYLOADS, strict=True):
        study.set_user_attr(key, payload)
    # partition names as the recipe's task holds them (what show and report print per partition)
    task = ("name: t\ninput_shape: [32, 32]\npartitions:\n"
            + "".join(f"  - {{name: {json.dumps(p)}, kind: {k}}}\n"
                      for p, k in zip(PAYLOADS, ["left-right", "top-bottom", "checkerboard", "odd-even"], strict=True)))
    study.set_user_attr(RECIPE_KEY, json.dumps({**recipe, "task_text": task}))
    capsys.readouterr()
    assert run_cli(["show", "--study-name", "x", "--storage", storage]) == 0
    assert run_cli(["studies", "--storage", storage]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b" in shown
    assert run_cli(["report", "--study-name", "x", "--storage", storage, "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    page = (tmp_path / "rep" / "report.html").read_text()
    for raw in ("<script>", "<img src=x", "](javascript:", "\x1b"):
        assert raw not in md
    for raw in ("<script>", "<img src=x", "\x1b", 'href="javascript'):
        assert raw not in page
    assert "&lt;script&gt;" in md  # shown as text, not run


def test_names_that_are_mathtext_are_drawn_as_written(tmp_path, capsys):
    task = tmp_path / "task.yaml"
    task.write_text("name: t\ninput_shape: [8, 8]\npartitions:\n  - {name: '$\\foo$', kind: left-right}\n"
                    "  - {name: '$x^{', kind: checkerboard}\n")
    assert run_cli(["score", str(task), str(ROOT / "layouts" / "wide-base-8x8.yaml")
                    if (ROOT / "layouts" / "wide-base-8x8.yaml").exists() else _layout8(tmp_path),
                    "--plot", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def _layout8(tmp_path: Path) -> str:
    path = tmp_path / "l.yaml"
    path.write_text("input_shape: [8, 8]\nM: 4\nlayers:\n  - {channels: 4, pool: [2, 2]}\n"
                    "  - {channels: 4, pool: [2, 2]}\n  - {channels: 4, pool: [2, 2]}\n")
    return str(path)


# -- storages ------------------------------------------------------------------------------------------------
STORAGE_CASES = [
    (["studies", "--storage", "journal:/dev/null"], "is not a regular file"),
    (["studies", "--storage", "journal:{tmp}"], "is a folder, not a journal file"),
    (["studies", "--storage", "journal:{tmp}/new/a/b.log"], "no such journal file (no folder"),
    (["report", "--study-name", "s", "--storage", "sqlite:///{tmp}/fresh.db"], "no such SQLite database"),
    (["show", "--study-name", "s", "--storage", "sqlite:///{tmp}/garbage"], "is not a SQLite database"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--storage", "journal:{tmp}/garbage"],
     "is not an Optuna journal"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--storage", "sqlite:///{tmp}/garbage"],
     "is not a SQLite database"),
    (["worker", "--study-name", "s", "--storage", "journal:{tmp}/none.log"], "no such journal file"),
    (["export", "--study-name", "s", "--out", "{tmp}/o", "--storage", "journal:{tmp}/empty"], "is empty"),
    (["dashboard", "--study-name", "s", "--storage", "journal:{tmp}/none.log"], "no such journal file"),
    (["studies", "--repair", "--storage", "sqlite:///{tmp}/x.db"], "--repair mends a journal file"),
]


@pytest.mark.parametrize("argv,expect", STORAGE_CASES, ids=[" ".join(a[:1] + a[-1:])[:60] for a, _ in STORAGE_CASES])
def test_storages_that_are_not_what_they_should_be(argv, expect, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    garbage = os.urandom(4096)
    (tmp_path / "garbage").write_bytes(garbage)
    (tmp_path / "empty").write_bytes(b"")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run_cli(argv) == 2
    _one_line(capsys, expect)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created
    assert (tmp_path / "garbage").read_bytes() == garbage  # nothing appended


def test_a_read_only_storage_is_refused_for_writing(tmp_path, capsys, monkeypatch):
    storage, _ = _recipe_study(tmp_path, "ro")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).endswith("s.db") and mode & os.W_OK
                        else real(p, mode, **kw))  # root writes anything: a read-only file, as a user meets it
    capsys.readouterr()
    assert run_cli(["worker", "--study-name", "ro", "--storage", storage, "--no-progress"]) == 2
    _one_line(capsys, "is read-only")
    assert run_cli(["show", "--study-name", "ro", "--storage", storage]) == 0  # reading still works


def test_the_dashboard_refuses_in_one_line(tmp_path, capsys):
    pytest.importorskip("optuna_dashboard")
    storage, _ = _recipe_study(tmp_path, "d")
    capsys.readouterr()
    assert run_cli(["dashboard", "--study-name", "other", "--storage", storage]) == 2
    _one_line(capsys, "no study 'other'")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert run_cli(["dashboard", "--study-name", "d", "--storage", storage, "--port", str(port)]) == 2
        _one_line(capsys, f"--port: cannot listen on 127.0.0.1:{port}")
    assert run_cli(["dashboard", "--study-name", "d", "--storage", storage, "--host", "no-such-host.invalid"]) == 2
    _one_line(capsys, "--host: cannot listen on no-such-host.invalid")


@pytest.mark.slow
def test_a_journal_torn_by_a_killed_writer_is_refused_then_repaired(tmp_path):
    """A real process killed in the middle of a record: the journal is refused (nothing appended), `studies
    --repair` keeps every complete record, and a worker then completes the study."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "j.log"
    cli = [sys.executable, "-m", "archsearch"]
    res = subprocess.run([*cli, "search", T32, S32, "--prior-only", "--study-name", "j", "--trials", "4",
                          "--storage", f"journal:{log}", "--sampler", "random", "--no-progress"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    complete = log.read_bytes()
    # a writer that appends half a record, then is killed -9 before it can finish it
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        f"f = open({str(log)!r}, 'ab')\n"
        "f.write(b'{\"op_code\": 5, \"worker_id\": \"w\", \"trial_id\": 3, \"param_na'); f.flush()\n"
        "print('written', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "written"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    torn = log.read_bytes()
    assert torn.startswith(complete) and not torn.endswith(b"\n")
    # a worker (raising the target first, so that it has work) is refused; the file is untouched
    res = subprocess.run([*cli, "worker", "--study-name", "j", "--storage", f"journal:{log}", "--no-progress"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 2 and "ends in a torn record" in res.stderr and res.stderr.count("\n") == 1
    assert log.read_bytes() == torn
    res = subprocess.run([*cli, "studies", "--storage", f"journal:{log}", "--repair"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert log.read_bytes() == complete and (tmp_path / "j.log.torn").read_bytes() == torn[len(complete):]
    res = subprocess.run([*cli, "search", T32, S32, "--prior-only", "--study-name", "j", "--trials", "6",
                          "--storage", f"journal:{log}", "--sampler", "random", "--no-progress"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    study = optuna.load_study(study_name="j", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(log))))
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 6


# -- nothing half written, nothing without end -------------------------------------------------------------------
def test_a_failed_profile_or_report_leaves_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import archsearch.evidence.plots as plots

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(plots, "plot_profile", broken)
    task = ROOT / "tasks" / "mnist1d-32.yaml"
    assert run_cli(["profile", str(task), "--out", "x.yaml", "--plot", "p.png", "--samples", "100"]) == 1
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "p.png").exists()
    missing = tmp_path / "missing.json"
    assert run_cli(["report", "--table", str(missing)]) == 2
    assert not (tmp_path / "runs").exists()


def test_a_picture_that_fails_leaves_no_file(tmp_path):
    from archsearch import pictures

    plt = pictures.pyplot()
    fig, _ = plt.subplots()

    def half_then_full_disk(path, **kw):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError("No space left on device")

    fig.savefig = half_then_full_disk
    with pytest.raises(OSError, match="No space"):
        pictures.save_figure(plt, fig, tmp_path / "x.png")
    fig, ax = plt.subplots()
    ax.set_title("$\\foo$ and $x^{")
    pictures.save_figure(plt, fig, tmp_path / "ok.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.png"]  # no temporary file left


def test_bounded_sampling_and_replay_limits(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    assert run_cli(["bench", "build", T32, S32, "--out", str(tmp_path / "t.json"), "--band", "0.999",
                    "--no-progress"]) == 2
    _one_line(capsys, "give a lower --band or fewer --layouts")
    assert time.perf_counter() - t0 < 120 and not (tmp_path / "t.json").exists()
    assert run_cli(["bench", "replay", str(MN32), "--budget-trials", "10000", "--no-progress"]) == 2
    _one_line(capsys, "--budget-trials: 10000 trials per search, but the table holds 257 trained layouts")


def test_replay_starts_no_more_processes_than_jobs(monkeypatch):
    import multiprocessing as mp

    from archsearch.evidence import replay as rp

    started = []

    class Ctx:
        def Pool(self, n, **kw):  # noqa: N802 - multiprocessing's name
            started.append(n)
            raise RuntimeError("stop here")

    monkeypatch.setattr(mp, "get_context", lambda kind: Ctx())
    with pytest.raises(RuntimeError, match="stop here"):
        rp.replay({}, None, None, None, ["random", "prior-top"], repeats=2, workers=64)
    assert started == [3]  # two repeats of random and one prior-top


def test_a_table_study_name_is_one_a_worker_accepts():
    from archsearch.cli.args import study_name
    from archsearch.cli.bench import table_study_name

    for stem in ["my table", "../../etc", "x" * 300, "ünïcode", "$(touch x)"]:
        name = table_study_name(Path(stem + ".json"))
        assert study_name(name) == name


def test_profile_never_drops_a_level(tmp_path, capsys):
    task = tmp_path / "t48.yaml"
    task.write_text("name: m48\ninput_shape: [48]\npartitions:\n  - {name: lr, kind: left-right}\n"
                    "data: {source: mnist1d, train: 200, val: 50, test: 50}\n")
    assert run_cli(["profile", str(task)]) == 2
    _one_line(capsys, "does not reach the whole [48] grid")


def test_reading_a_table_adds_nothing_to_it(tmp_path):
    from archsearch.evidence.table import Table

    t = Table.load(MN32, locate=False)  # as a build reads it: the files as stored
    t.save(tmp_path / "t.json")
    saved, original = json.loads((tmp_path / "t.json").read_text()), json.loads(MN32.read_text())
    assert saved == original


def test_a_trial_optuna_fails_for_its_values_says_why(tmp_path):
    """Values that do not fit the study (a pareto objective on a one-objective study, a NaN) fail the
    trial with a stored reason, so it is never taken for a dead worker's pending retry."""
    from archsearch.search import study as search
    from archsearch.search.study import _retries_pending

    storage = f"sqlite:///{tmp_path / 'v.db'}"
    study = search.open_study("v", storage, create=True)
    out = search.run_study(study, lambda t: (t.suggest_int("x", 0, 3), 1.0), 2, progress=False, max_failures=3)
    trials = study.get_trials()
    assert out.stopped and all(t.state.name == "FAIL" for t in trials)
    assert all("returned 2 value(s) for a study of 1 objective(s)" in t.user_attrs["fail_reason"] for t in trials)
    assert _retries_pending(trials) == 0
    study = search.open_study("n", storage, create=True)
    search.run_study(study, lambda t: float("nan") if t.number == 0 else 0.5, 2, progress=False)
    first = study.get_trials()[0]
    assert first.state.name == "FAIL" and "NaN" in first.user_attrs["fail_reason"]
    assert sum(t.state.name == "COMPLETE" for t in study.get_trials()) == 2


_CORPUS = ROOT / "tests" / "malformed" / "tables"


def _corpus() -> list[tuple[str, str]]:
    import yaml

    return sorted(yaml.safe_load((_CORPUS / "EXPECT.yaml").read_text()).items())


def test_the_table_corpus_is_complete():
    assert {name for name, _ in _corpus()} == {p.name for p in _CORPUS.glob("*.json")}


@pytest.mark.parametrize("name,expect", _corpus(), ids=[n for n, _ in _corpus()])
def test_malformed_table_files_are_refused_in_one_line(name, expect, capsys):
    assert run_cli(["bench", "show", str(_CORPUS / name)]) == 2
    err = _one_line(capsys, expect)
    assert str(_CORPUS / name) in err


def test_export_into_a_folder_that_cannot_hold_files(tmp_path, capsys):
    storage, _ = _recipe_study(tmp_path, "e", "exhaustive")
    capsys.readouterr()
    assert run_cli(["export", "--study-name", "e", "--storage", storage, "--out", "/proc/archsearch-out"]) == 2
    _one_line(capsys, "--out: cannot write into /proc/archsearch-out")


def test_a_table_named_in_mathtext_draws(tmp_path, capsys):
    path = _write_table(tmp_path, _set("task.name", "$\\foo$ {x^"))
    assert run_cli(["bench", "show", str(path), "--plot", str(tmp_path / "t.png"), "--top", "1"]) == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
