"""Freed memory kept in a CPU training process (archsearch.train.memory): in force on glibc unless the user
says otherwise, and with it a large block freed and allocated again faults no pages in; training sets it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from archsearch.cli.main import main
from archsearch.errors import InputError
from archsearch.train.memory import KEEP_FREED_ENV, MALLOC_ENV, check_keep_freed_env, why_not_kept
from tests.conftest import ROOT

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

#: a fresh process: optionally keep freed memory, then allocate, touch and free a 64 MB block five times and
#: count the minor page faults of the last four (the first faults in whatever the allocator has)
CHILD = r"""
import ctypes, json, resource, sys
from archsearch.train.memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size, faults = 64 << 20, []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    p = libc.malloc(size)
    ctypes.memset(p, 1, size)
    libc.free(p)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"kept": kept, "again": sum(faults[1:])}))
"""


def _child(mode: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in (KEEP_FREED_ENV, *MALLOC_ENV)}
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True,
                          env={**clean, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return json.loads(done.stdout)


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_freed_block_is_reused_not_faulted_in_again():
    pages = (64 << 20) // os.sysconf("SC_PAGE_SIZE")
    kept, system = _child("keep"), _child("system")
    assert kept["kept"] and not system["kept"]
    assert system["again"] >= 4 * pages // 2  # unmapped when freed: faulted in again each time
    assert kept["again"] < pages // 10  # kept: reused


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
@pytest.mark.parametrize("env", [{KEEP_FREED_ENV: "system"}, {KEEP_FREED_ENV: " System "},
                                 {"MALLOC_TRIM_THRESHOLD_": "131072"}, {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=4"}])
def test_the_user_can_leave_malloc_as_it_is(env):
    out = _child("keep", **env)
    assert not out["kept"]
    assert out["again"] >= 2 * (64 << 20) // os.sysconf("SC_PAGE_SIZE")


def test_why_not_kept_names_the_reason():
    assert why_not_kept({KEEP_FREED_ENV: "system"}) == f"{KEEP_FREED_ENV}=system"
    assert why_not_kept({"MALLOC_MMAP_MAX_": "0", "GLIBC_TUNABLES": "x"}) == (
        "malloc tuned through the environment (MALLOC_MMAP_MAX_, GLIBC_TUNABLES)")
    assert why_not_kept({KEEP_FREED_ENV: "keep"}) == ("" if GLIBC else "not glibc")
    with pytest.raises(InputError, match="'sytem' is not one of keep, system"):
        why_not_kept({KEEP_FREED_ENV: "sytem"})  # so a library caller's `train` refuses it too


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_training_on_cpu_keeps_freed_memory(tmp_path):
    """A fresh process that trains one epoch on CPU has malloc keeping freed memory afterwards."""
    code = r"""
import json, numpy as np
from archsearch.core.layout import paper_pair
from archsearch.train.data import Dataset, Split
from archsearch.train.loop import TrainConfig, train
from archsearch.train.memory import keep_freed_memory, _state
from archsearch.train.models import build_model
rng = np.random.default_rng(0)
split = lambda n: Split(rng.random((n, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, n))
before = dict(_state)
train(build_model(paper_pair((8, 8), 10, 2, [2] * 3)[0], seed=0), Dataset(split(32), split(16), split(16), 10),
      TrainConfig(epochs=1, device="cpu"))
print(json.dumps({"before": before, "after": dict(_state)}))
"""
    clean = {k: v for k, v in os.environ.items() if k not in (KEEP_FREED_ENV, *MALLOC_ENV)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**clean, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"before": {}, "after": {"kept": True}}


def test_an_unknown_value_is_refused_in_one_line(capsys, monkeypatch):
    """A typo in ARCHSEARCH_MALLOC (say ``sytem``) would otherwise keep freed memory silently: the command line
    refuses it, exit 2, one line naming the variable, before the command runs."""
    accepted = [check_keep_freed_env(ok) for ok in ({KEEP_FREED_ENV: " Keep "}, {KEEP_FREED_ENV: "SYSTEM"},
                                                    {KEEP_FREED_ENV: ""}, {})]
    assert accepted == ["keep", "system", "", ""]
    monkeypatch.setenv(KEEP_FREED_ENV, "sytem")
    assert main(["check", "tasks/digits-local-32.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("archsearch: error:")
    assert "ARCHSEARCH_MALLOC" in err and "'sytem'" in err
    monkeypatch.setenv(KEEP_FREED_ENV, "System")
    assert main(["check", "tasks/digits-local-32.yaml"]) == 0
