from __future__ import annotations

import gzip

import numpy as np
import pytest

from archsearch.formats.task import DataSpec
from archsearch.formats.yamlio import InputError
from archsearch.train.data import digits_split, load_data, place_on_canvas


def test_digits_on_canvas(tmp_path):
    spec = DataSpec("digits", 8, 300, 100, 0, None)
    d = load_data(spec, (16, 16), tmp_path)
    assert d.train.x.shape == (300, 1, 16, 16) and d.test.x.shape == (100, 1, 16, 16)
    assert d.train.x.dtype == np.float32 and 0 <= d.train.x.min() and d.train.x.max() <= 1
    assert set(np.unique(d.train.y)) <= set(range(10))
    # every digit sits in one 8x8 box: rows and columns with ink span at most 8
    for img in d.train.x[:50, 0]:
        rows, cols = np.nonzero(img.sum(1))[0], np.nonzero(img.sum(0))[0]
        assert rows.max() - rows.min() < 8 and cols.max() - cols.min() < 8
    again = load_data(spec, (16, 16), tmp_path)  # from the cache
    assert len(list(tmp_path.glob("digits-*.npz"))) == 1
    np.testing.assert_array_equal(again.train.x, d.train.x)


def test_no_source_image_in_both_splits():
    tr, te = digits_split(1797, np.random.default_rng(0))
    assert not set(tr) & set(te) and len(tr) + len(te) == 1797


def test_place_on_canvas_keeps_labels():
    imgs = np.zeros((3, 8, 8), np.float32)
    for k in range(3):
        imgs[k, k, :] = 1  # image k has a line in row k
    split = place_on_canvas(imgs, np.array([0, 1, 2]), 30, (12, 12), 8, np.random.default_rng(0))
    assert split.x.shape == (30, 1, 12, 12)
    assert (split.x.reshape(30, -1).max(1) > 0).all()


def _idx(path, arr, gz):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    _idx(tmp_path / f"train-images-idx3-ubyte{sfx}", rng.integers(0, 255, (20, 28, 28)), gz)
    _idx(tmp_path / f"train-labels-idx1-ubyte{sfx}", np.arange(20) % 10, gz)
    _idx(tmp_path / f"t10k-images-idx3-ubyte{sfx}", rng.integers(0, 255, (10, 28, 28)), gz)
    _idx(tmp_path / f"t10k-labels-idx1-ubyte{sfx}", np.arange(10) % 10, gz)
    d = load_data(DataSpec("mnist", 12, 40, 20, 0, tmp_path), (32, 32), None)
    assert d.train.x.shape == (40, 1, 32, 32) and d.test.y.shape == (20,)


def test_mnist_missing_folder():
    with pytest.raises(InputError, match="MNIST folder not found"):
        load_data(DataSpec("mnist", 12, 4, 2, 0, __import__("pathlib").Path("/nonexistent")), (32, 32), None)


def test_npz_arrays(tmp_path):
    f = tmp_path / "d.npz"
    np.savez(f, x_train=np.zeros((5, 16)), y_train=np.arange(5), x_test=np.zeros((3, 16)), y_test=np.arange(3))
    d = load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)
    assert d.train.x.shape == (5, 1, 16) and d.classes == 5
    np.savez(f, x_train=np.zeros((5, 15)), y_train=np.arange(5), x_test=np.zeros((3, 16)), y_test=np.arange(3))
    with pytest.raises(InputError, match=r"d\.npz: x_train: expected shape \(n, 16\)"):
        load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)
    np.savez(f, x_train=np.zeros((5, 16)))
    with pytest.raises(InputError, match="y_train: missing array"):
        load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)
