"""Many workers on one PostgreSQL study: a real server on loopback, started by the test itself."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.conftest import ROOT

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    if not BIN:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing: .ci/run installs the postgresql package")
        pytest.skip("no PostgreSQL server installed")
    pytest.importorskip("psycopg")
    bindir = BIN[-1]
    base = Path(tempfile.mkdtemp(prefix="archsearch-pg-"))  # not pytest's tmp: that is private to root
    data = base / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "archsearch")
    run(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(data.parent / "log"), "-w", "-o",
        f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1", "start")
    try:
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "archsearch", "studies")
        yield f"postgresql+psycopg://archsearch@127.0.0.1:{port}/studies"
    finally:
        run(f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_four_workers_share_one_study_and_stop_at_exactly_n(postgres_url, tmp_path):
    cmd = [sys.executable, "-m", "archsearch", "search", str(ROOT / "tasks" / "digits-local-32.yaml"),
           str(ROOT / "search_spaces" / "cpu-32x32.yaml"), "--prior-only", "--study-name", "shared",
           "--storage", postgres_url, "--trials", "300", "--no-progress", "--runs-dir", str(tmp_path)]
    # started together: one creates the study, the others join it (whichever wins the race)
    procs = [subprocess.Popen([*cmd, "--seed", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 300  # exactly: a trial that would be the 301st stands down untrained
    assert all(t.state == TrialState.PRUNED and t.user_attrs.get("surplus") for t in trials
               if t.state != TrialState.COMPLETE)
    pids = {t.system_attrs["archsearch:pid"] for t in complete}
    assert len(pids) >= 2, "the workers should share the work"
    assert not [t for t in trials if t.state == TrialState.RUNNING]
