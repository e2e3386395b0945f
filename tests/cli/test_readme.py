"""The README's Python examples run as written, from the checkout's root (what a reader pastes)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of the README section whose heading is ``section``."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end if end != -1 else None], re.S)


def test_the_python_api_section_has_its_examples():
    assert len(python_blocks("Python API")) == 2


@pytest.mark.parametrize("k", [0, 1])
def test_each_python_example_runs_as_written(k, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(python_blocks("Python API")[k], f"README.md (Python API, example {k + 1})", "exec"), {})
    printed = capsys.readouterr().out.split("\n")
    assert printed[0]  # each example prints what it computed
    if k == 1:
        tau, diff = map(float, printed[0].split())
        assert -1 <= tau <= 1 and -2 <= diff <= 2
