"""The evidence pages say what the committed evaluations hold: every figure of "Where it stands", of its
profiled twin and of "Why the rule is hard to beat" (docs/evidence/tables.md) equals the `bench eval --json`
file it was printed from. A table grown and re-evaluated without its rows updated fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGE = ROOT / "docs" / "evidence" / "tables.md"
EVALS = ROOT / "benchmarks" / "evals"


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading``, header and rule left out, bold marks dropped."""
    text = PAGE.read_text()
    rows = []
    for line in text[text.index(heading):].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip().replace("**", "") for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def where_it_stands_file(label: str) -> Path:
    """The evaluation a row of "Where it stands" reads (as `benchmarks/where_it_stands.sh` passes them)."""
    name = label.split()[0].rstrip(",")
    if ", share-profiled" in label:
        name += "-share"
    for folder in ("soft-leximin/grown", "soft-leximin", "heldout-s3", "heldout-s4"):
        if (EVALS / folder / f"{name}.json").exists():
            return EVALS / folder / f"{name}.json"
    raise AssertionError(f"no evaluation for the row {label!r}")


WHERE = table_rows("## Where it stands")
WHY = table_rows("### Why the rule is hard to beat")
PROFILED = table_rows("### The same, with every task's needs profiled")


def test_the_pages_tables_were_found():
    assert len(WHERE) >= 16 and len(WHY) >= 15 and len(PROFILED) == 15


def tau(d: dict, name: str) -> str:
    return f"{d['predictors'][name]['kendall_tau_ties_broken']:.3f}"


@pytest.mark.parametrize("row", PROFILED, ids=[r[0] for r in PROFILED])
def test_profiled_rows_are_the_evaluations_beside_the_written_ones(row):
    label, lex, default, soft, diff = row
    name = label.split()[0]
    d = json.loads((EVALS / "soft-leximin" / "profiled-all" / f"{name}.json").read_text())
    written = json.loads(where_it_stands_file(label).read_text())
    assert lex == tau(d, "leximin") == tau(written, "leximin")  # the rule reads no task
    assert default == f"{tau(d, 'prior')} ({tau(written, 'prior')})"
    assert soft == f"{tau(d, 'prior-soft-leximin')} ({tau(written, 'prior-soft-leximin')})"
    av = d["added_value_variants"]["prior-soft-leximin"]
    lo, hi = av["tau_ties_broken_difference_ci"]
    was = written["added_value_variants"]["prior-soft-leximin"]["tau_ties_broken_difference"]
    assert diff == f"{av['tau_ties_broken_difference']:+.3f} [{lo:+.3f}, {hi:+.3f}] ({was:+.3f})"


@pytest.mark.parametrize("row", WHERE, ids=[r[0] for r in WHERE])
def test_where_it_stands_rows_are_the_evaluations(row):
    label, layouts, lex, default, soft, diff = row[:6]
    d = json.loads(where_it_stands_file(label).read_text())
    p = d["predictors"]
    assert int(layouts.split()[0].replace(",", "")) == d["layouts"]
    runs = json.loads((ROOT / d["table"]).read_text())["runs"]  # "(runs)": the table the evaluation read
    assert int(re.search(r"\(([\d,]+)\)", layouts)[1].replace(",", "")) == sum("failed" not in r for r in runs)
    got = [f"{p[n]['kendall_tau_ties_broken']:.3f}" for n in ("leximin", "prior", "prior-soft-leximin")]
    assert [lex, default, soft] == got
    av = d["added_value_variants"]["prior-soft-leximin"]
    lo, hi = av["tau_ties_broken_difference_ci"]
    assert diff == f"{av['tau_ties_broken_difference']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


@pytest.mark.parametrize("row", WHY, ids=[r[0] for r in WHY])
def test_why_rows_are_the_position_evaluations(row):
    name, layouts, fitted, lex, share, _rho, _rel, within = row[:8]
    d = json.loads((EVALS / "position" / f"{name}.json").read_text())
    pos = d["position"]
    assert layouts == f"{pos['layouts']} ({pos['multisets']})"
    assert fitted == f"{pos['multiset_tau']:.3f}"
    assert lex == f"{d['predictors']['leximin']['kendall_tau_ties_broken']:.3f}"
    assert share == f"{pos['within_share']:.0%}"
    assert within == " / ".join(f"{pos['within_multiset_tau'][n]:+.3f}"
                                for n in ("prior", "prior-soft-leximin", "leximin"))


def test_a_changed_figure_is_caught():
    """The check reads the figures it claims to: one digit changed in a row no longer matches."""
    row = list(WHERE[0])
    row[2] = re.sub(r"\d$", lambda m: str((int(m.group()) + 1) % 10), row[2])
    with pytest.raises(AssertionError):
        test_where_it_stands_rows_are_the_evaluations(row)
