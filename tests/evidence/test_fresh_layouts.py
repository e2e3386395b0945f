"""`benchmarks/fresh_layouts.py`: a table cut to the layouts trained after a seen list was written, the
data a statement is judged on (docs/evidence/designs.md, "Profiled needs, stated before fresh data")."""

from __future__ import annotations

import json
import subprocess
import sys

from archsearch.evidence.table import Table
from tests.conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "fresh_layouts.py"
TABLE = ROOT / "benchmarks" / "tables" / "seeds3" / "digits-mid-32.json"


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True)
    return done.stdout


def test_the_fresh_copy_holds_every_run_of_the_unseen_layouts_and_nothing_else(tmp_path):
    part = json.loads(TABLE.read_text())
    all_runs = part["runs"]
    part["runs"] = all_runs[: len(all_runs) // 2]  # the table as it stood when the statement was written
    (tmp_path / "then.json").write_text(json.dumps(part))
    run(str(tmp_path / "then.json"), "--seen", str(tmp_path / "seen.json"), "--write-seen")
    seen = set(json.loads((tmp_path / "seen.json").read_text())["layouts"])
    assert seen == {r["layout"] for r in part["runs"]}

    out = run(str(TABLE), "--seen", str(tmp_path / "seen.json"), "--out", str(tmp_path / "fresh.json"))
    fresh = Table.load(tmp_path / "fresh.json")  # a valid table, checked whole by its reader
    expected = [r for r in all_runs if r["layout"] not in seen]
    assert [(r.layout, r.seed) for r in fresh.runs] == [(r["layout"], r["seed"]) for r in expected]
    assert expected and not {r.layout for r in fresh.runs} & seen
    assert len(fresh.layouts) == len(part["layouts"]) and f"({len(expected)} runs)" in out
