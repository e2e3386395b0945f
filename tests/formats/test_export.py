"""Exports: nothing stored in a study can become code or leave its comment; distinct layouts only;
an earlier export is never mixed with a new one."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import optuna
import pytest
import yaml
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from archsearch.core.layout import paper_pair
from archsearch.formats.layout_file import load_layout
from tests.conftest import ROOT, run_cli

CODE = '"""+__import__("os").system("touch PWNED")+"""'
BREAKOUT = 'a"""\nimport os; os.system("touch PWNED2")\n"""'


def _study(tmp_path, name, trials):
    (tmp_path / name).mkdir()
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{tmp_path}/{name}/study.db",
                                direction="maximize")
    study.set_user_attr("model", "convnet")
    for value, attrs in trials:
        study.add_trial(create_trial(value=value, params={"r0": 1}, distributions={"r0": IntDistribution(1, 2)},
                                     user_attrs=attrs, state=TrialState.COMPLETE))
    return study


def _layout(r=8):
    return paper_pair((32, 32), 10, r, [2] * 5)[0].to_dict()


def test_stored_payloads_never_run(tmp_path, capsys):
    evil = {"layout": _layout(), "prior_score": CODE, "params": CODE, "accuracy": "1\nimport os",
            "log2_mincut": {BREAKOUT: 1.5, "ok": CODE}, "feasible": True, "channels": CODE}
    _study(tmp_path, "evil", [(0.5, evil)])
    for fmt in ("torch", "yaml", "json"):
        out = tmp_path / fmt
        assert run_cli(["export", "--study-name", "evil", "--runs-dir", str(tmp_path), "--top", "1",
                        "--out", str(out), "--format", fmt]) == 0
    py = next((tmp_path / "torch").glob("*.py"))
    res = subprocess.run([sys.executable, str(py)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith(f"{load_layout(next((tmp_path / 'yaml').glob('*.yaml'))).param_count()} "
                                       "parameters")
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()
    # the module is a docstring, an import, three literal assignments and functions; stored text is data
    tree = ast.parse(py.read_text())
    assigned = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}
    assert set(assigned) == {"LAYOUT", "MODEL", "INFO"}
    assert assigned["INFO"]["log2_mincut"] == {BREAKOUT: 1.5, "ok": None} and assigned["LAYOUT"] == _layout()
    assert [type(n).__name__ for n in tree.body] == ["Expr", "ImportFrom", "Assign", "Assign", "Assign",
                                                     "FunctionDef", "If"]
    # YAML: every stored string stays inside its comment line; the document is the layout alone
    doc = next((tmp_path / "yaml").glob("*.yaml")).read_text()
    assert all(line.startswith("#") for line in doc.splitlines() if "import os" in line or "PWNED" in line)
    assert yaml.safe_load(doc) == _layout()
    data = json.loads(next((tmp_path / "json").glob("*.json")).read_text())
    assert data["prior_score"] is None and data["params"] is None and data["layout"] == _layout()


def test_a_damaged_stored_layout_is_refused(tmp_path, capsys):
    bad = _layout()
    bad["layers"][0]["channels"] = "32; import os"
    _study(tmp_path, "bad", [(0.5, {"layout": bad, "feasible": True})])
    out = tmp_path / "out"
    assert run_cli(["export", "--study-name", "bad", "--runs-dir", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "stored layout is not valid, nothing written" in err and err.count("\n") == 1
    assert not out.exists() or not list(out.iterdir())


def test_export_writes_distinct_layouts_and_never_mixes(tmp_path, capsys):
    same = {"layout": _layout(8), "feasible": True}
    other = {"layout": _layout(4), "feasible": True}
    _study(tmp_path, "dup", [(0.9, same), (0.8, same), (0.7, other), (0.6, same)])
    out = tmp_path / "out"
    base = ["export", "--study-name", "dup", "--runs-dir", str(tmp_path), "--out", str(out)]
    assert run_cli([*base, "--top", "4"]) == 0
    files = sorted(out.glob("*.yaml"))
    assert [f.name for f in files] == ["01-trial-00000.yaml", "02-trial-00002.yaml"]
    assert run_cli([*base, "--top", "1"]) == 2  # not empty: refused, nothing touched
    assert "is not empty" in capsys.readouterr().err
    assert sorted(out.glob("*.yaml")) == files
    (out / "notes.txt").write_text("mine")
    assert run_cli(["export", "--study-name", "typo", "--runs-dir", str(tmp_path), "--out", str(out), "--force"]) == 2
    assert sorted(out.glob("*.yaml")) == files  # a refused --force export removes nothing
    assert run_cli([*base, "--top", "1", "--force"]) == 0  # the earlier export replaced, other files kept
    assert sorted(p.name for p in out.iterdir()) == ["01-trial-00000.yaml", "notes.txt"]


@pytest.mark.parametrize("fmt", ["yaml", "torch"])
def test_export_refuses_unsafe_study_names_in_the_library(tmp_path, fmt):
    from archsearch.formats.export import export_trials
    from archsearch.formats.yamlio import InputError

    with pytest.raises(InputError, match="a study name must be"):
        export_trials([], tmp_path, 'x"""\nimport os', fmt)
