"""The docs are true as written: the tutorial's commands run in a fresh directory and make what the text says
they make; the README's quick start is the tutorial's; every relative link in the README and the docs
points at a file; the generated command-line reference holds every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archsearch.cli.reference import cli_markdown, commands
from tests.conftest import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.md"


def bash_lines(path: Path, stop: str | None = None) -> list[str]:
    """The commands of a page's ```bash blocks (up to the heading ``stop``), one per line."""
    text = path.read_text()
    if stop is not None:
        text = text[:text.index(stop)]
    return [line for block in re.findall(r"```bash\n(.*?)```", text, re.S) for line in block.splitlines() if line]


def test_the_readme_quick_start_is_the_tutorial():
    readme = [c for c in bash_lines(ROOT / "README.md") if not c.startswith("pip install")]
    assert readme == bash_lines(TUTORIAL, stop="## What next")


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    bindir = Path(sys.executable).parent
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    for command in bash_lines(TUTORIAL, stop="## What next"):
        if command.startswith("archsearch quickstart"):
            continue  # the three steps below in one command: its own test runs it
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    # what the page says each step makes
    assert "partitions:" in (tmp_path / "digits-global-32-profiled.yaml").read_text()
    assert (tmp_path / "profile.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "runs" / "tutorial" / "study.db").exists()
    assert sorted(p.name for p in (tmp_path / "best").glob("*.py"))[0] == "01-trial-00000.py"
    assert done.stdout.startswith("ConvNet(")  # the last command printed the module it built


@pytest.mark.slow
def test_quickstart_does_the_three_jobs_into_a_folder_of_its_own(tmp_path, capsys):
    """``archsearch quickstart``: the tutorial's steps as one command; each step's output where it says, the
    module loaded; run twice, two folders, the first untouched."""
    from archsearch.cli.main import main

    assert main(["quickstart", "--runs-dir", str(tmp_path / "runs"), "--trials", "20", "--top", "2"]) == 0
    out = capsys.readouterr().out
    (folder,) = (tmp_path / "runs" / "quickstart").iterdir()
    assert "partitions:" in (folder / "task-profiled.yaml").read_text()
    for picture in ("profile.png", "cuts.png"):
        assert (folder / picture).read_bytes()[:4] == b"\x89PNG"
    assert (folder / "runs" / "quickstart" / "study.db").exists()
    assert len(list((folder / "best").glob("*.py"))) == 2 and len(list((folder / "best-yaml").glob("*.yaml"))) == 2
    assert "ConvNet(" in out and "quickstart done in" in out
    assert out.index("archsearch profile ") < out.index("archsearch search ") < out.index("archsearch export ")
    first = (folder / "task-profiled.yaml").read_bytes()
    assert main(["quickstart", "--runs-dir", str(tmp_path / "runs"), "--trials", "5", "--top", "1"]) == 0
    assert len(list((tmp_path / "runs" / "quickstart").iterdir())) == 2
    assert (folder / "task-profiled.yaml").read_bytes() == first


def test_quickstart_refuses_a_task_without_data_before_making_its_folder(tmp_path, capsys):
    from archsearch.cli.main import main

    task = tmp_path / "t.yaml"
    task.write_text("name: nodata\ninput_shape: [32, 32]\npartitions:\n  - {name: lr, kind: left-right}\n")
    assert main(["quickstart", "--task", str(task), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "needs a 'data' section" in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [m for m in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) if "://" not in m]


PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_points_at_a_file(page):
    base = (ROOT / page).parent
    missing = [link for link in _links(ROOT / page) if not (base / link).exists()]
    assert not missing, f"{page}: {missing}"


def test_the_cli_reference_holds_every_command():
    text = cli_markdown()
    names = [name for name, _ in commands()]
    assert len(names) > 20 and "archsearch bench eval" in names
    for name in names:
        assert f"`{name}`" in text
    assert "--flop-budgets" in text and "usage: archsearch bench eval" in text


def _named_scripts(path: Path) -> list[str]:
    return re.findall(r"(?:bash|python) (benchmarks/[\w./-]+\.(?:sh|py))", path.read_text())


@pytest.mark.parametrize("page", [*PAGES, "CHANGELOG.md"])
def test_every_benchmark_script_a_page_names_is_there(page):
    missing = sorted({s for s in _named_scripts(ROOT / page) if not (ROOT / s).is_file()})
    assert not missing, f"{page}: {missing}"


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.sh")))
def test_every_benchmark_shell_script_parses(script):
    done = subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("names", "name", "wanted"), [
    ((), "digits-local-48", True),             # no names: every table
    (("digits-local-48",), "digits-local-48", True),
    (("mnist1d-48", "digits-local-48"), "digits-local-48", True),
    (("digits-local-48",), "digits-local-4", False),   # a whole name, not a prefix
    (("digits-local-48",), "mnist1d-48", False),
])
def test_eval_scripts_re_score_only_the_tables_named(names, name, wanted):
    lib = ROOT / "benchmarks" / "eval_lib.sh"
    done = subprocess.run(["bash", "-c", f'source "{lib}"; wanted "$@"', "bash", name, *names])
    assert (done.returncode == 0) == wanted
