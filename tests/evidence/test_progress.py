"""Long commands say what they do on a terminal, and nothing where their output is read by a program."""

from __future__ import annotations

import io

from archsearch.cli.args import stage_printer
from archsearch.evidence.evaluate import evaluate_table
from tests.conftest import grid_table


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stages_are_said_on_a_terminal_only(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    say = stage_printer("bench eval")
    say("scoring 8 layouts")
    assert term.getvalue() == "bench eval: 0 s: scoring 8 layouts ...\n"
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a pipe: no printer at all
    assert stage_printer("bench eval") is None


def test_evaluate_table_reports_each_stage(tiny_1d_files):
    table = grid_table(tiny_1d_files, lambda ch: 0.5 + 0.01 * ch.sum() / 4)
    stages: list[str] = []
    evaluate_table(table, predictors=["prior", "params"], progress=stages.append, runs_dir=None)
    assert stages[0].startswith("scoring ") and "prior, params" in stages[0]
    assert len(stages) == 3 and "bootstrap" in stages[1] and "noise ceiling" in stages[2]


def test_profile_says_its_stages_on_a_terminal(monkeypatch, tmp_path, capsys):
    from archsearch.cli.main import main
    from tests.conftest import ROOT

    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert main(["profile", str(ROOT / "tasks" / "digits-local-32.yaml"), "--samples", "32", "--windows", "2",
                 "--runs-dir", str(tmp_path), "--json"]) == 0
    said = term.getvalue().splitlines()
    assert [line.split(": ", 2)[0] for line in said] == ["profile", "profile"]
    assert "images" in said[0] and "entropy" in said[1] and capsys.readouterr().out.startswith("{")
