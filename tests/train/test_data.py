from __future__ import annotations

import gzip

import numpy as np
import pytest

from archsearch.formats.task import DataSpec
from archsearch.formats.yamlio import InputError
from archsearch.train.data import load_data, place_on_canvas, source_split


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


def test_no_source_image_in_two_splits():
    tr, va, te = source_split(1797, np.random.default_rng(0))
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert len(tr) + len(va) + len(te) == 1797
    assert len(te) == 359 and len(va) == 288  # test: a fifth of all; validation: a fifth of the rest


def test_digits_have_three_splits_from_disjoint_sources(tmp_path):
    """Every validation and test image comes from source digits that no training image uses."""
    from archsearch.train.data import _digits

    d = load_data(DataSpec("digits", 8, 400, 100, 3, None, val=150), (8, 8), tmp_path)
    assert (len(d.train.y), len(d.val.y), len(d.test.y)) == (400, 150, 100)
    images, _ = _digits()
    sources = {img.tobytes(): k for k, img in enumerate(np.round(images / images.max() * 255).astype(np.uint8))}

    def used(split):  # an 8x8 digit on an 8x8 canvas is its (rescaled, quantised) source image
        return {np.round(x[0] * 255).astype(np.uint8).tobytes() for x in split.x}

    tr, va, te = used(d.train), used(d.val), used(d.test)
    assert not (tr & va or tr & te or va & te)
    assert len(tr & set(sources)) > 0  # the canvas transform keeps an 8x8 digit exactly


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
    assert d.train.x.shape == (4, 1, 16) and d.val.x.shape == (1, 1, 16) and d.classes == 5  # a fifth carved
    assert sorted([*d.train.y, *d.val.y]) == [0, 1, 2, 3, 4]
    np.savez(f, x_train=np.zeros((5, 16)), y_train=np.arange(5), x_val=np.ones((2, 16)), y_val=np.arange(2),
             x_test=np.zeros((3, 16)), y_test=np.arange(3))
    d = load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)  # given: used as it is
    assert d.train.x.shape == (5, 1, 16) and d.val.x.shape == (2, 1, 16) and d.val.x.min() == 1
    np.savez(f, x_train=np.zeros((5, 15)), y_train=np.arange(5), x_test=np.zeros((3, 16)), y_test=np.arange(3))
    with pytest.raises(InputError, match=r"d\.npz: x_train: expected shape \(n, 16\)"):
        load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)
    np.savez(f, x_train=np.zeros((5, 16)))
    with pytest.raises(InputError, match="y_train: missing array"):
        load_data(DataSpec("npz", None, 1, 1, 0, f), (16,), None)


def _npz_spec(path):
    return DataSpec("npz", None, 1, 1, 0, path)


GOOD = {"x_train": np.zeros((5, 16)), "y_train": np.arange(5), "x_test": np.zeros((3, 16)), "y_test": np.arange(3)}


@pytest.mark.parametrize("change,expect", [
    ({"x_train": np.array([["a"] * 16] * 5)}, "x_train: expected a numeric array, got dtype <U1"),
    ({"x_train": np.zeros((0, 16))}, "x_train: empty array"),
    ({"x_test": np.full((3, 16), np.nan)}, "x_test: holds 48 NaN or infinite values"),
    ({"x_train": np.full((5, 16), np.inf)}, "x_train: holds 80 NaN or infinite values"),
    ({"y_train": np.array([0, 1, 2, 3, -4])}, "y_train: labels must be >= 0, found -4"),
    ({"y_train": np.zeros(5) + 0.5}, "y_train: expected 5 integer labels"),
    ({"y_test": np.arange(4)}, "y_test: expected 3 integer labels, got shape (4,)"),
    ({"x_test": np.zeros((3, 2, 16))}, "x_test: x_train has 1 channels, x_test 2"),
])
def test_bad_npz_arrays_are_one_line_errors(tmp_path, change, expect):
    f = tmp_path / "d.npz"
    np.savez(f, **{**GOOD, **change})
    with pytest.raises(InputError) as exc:
        load_data(_npz_spec(f), (16,), None)
    assert expect in str(exc.value) and "\n" not in str(exc.value)


def test_object_arrays_are_never_unpickled(tmp_path):
    f = tmp_path / "d.npz"
    np.savez(f, **{**GOOD, "y_train": np.array([0, 1, None, 3, 4], dtype=object)})
    with pytest.raises(InputError, match="y_train: cannot read: Object arrays cannot be loaded"):
        load_data(_npz_spec(f), (16,), None)


def test_npy_named_npz_and_junk(tmp_path):
    f = tmp_path / "d.npz"
    np.save(tmp_path / "d.npy", np.zeros(4))
    (tmp_path / "d.npy").rename(f)
    with pytest.raises(InputError, match="not an .npz archive"):
        load_data(_npz_spec(f), (16,), None)
    f.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="not an .npz archive numpy can read"):
        load_data(_npz_spec(f), (16,), None)


def test_labels_and_channels_must_fit_the_model(tmp_path):
    from archsearch.train.data import check_fits

    f = tmp_path / "d.npz"
    np.savez(f, **{**GOOD, "y_train": np.array([0, 1, 2, 3, 12])})
    data = load_data(_npz_spec(f), (16,), None)
    with pytest.raises(InputError, match="y_train: labels must lie in 0..9 for a model with 10 classes, found 12"):
        check_fits(data, 10, 1, f)
    check_fits(data, 13, 1, f)
    with pytest.raises(InputError, match="x_train: the images have 1 channel"):
        check_fits(data, 13, 3, f)


def _mnist_folder(tmp_path, images=None, labels=None, gz=False):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    train_images = rng.integers(0, 255, (20, 28, 28)) if images is None else images
    _idx(tmp_path / f"train-images-idx3-ubyte{sfx}", train_images, gz)
    _idx(tmp_path / f"train-labels-idx1-ubyte{sfx}", np.arange(20) % 10 if labels is None else labels, gz)
    _idx(tmp_path / f"t10k-images-idx3-ubyte{sfx}", rng.integers(0, 255, (10, 28, 28)), gz)
    _idx(tmp_path / f"t10k-labels-idx1-ubyte{sfx}", np.arange(10) % 10, gz)


def _mnist(tmp_path):
    return load_data(DataSpec("mnist", 12, 40, 20, 0, tmp_path), (32, 32), None)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx(tmp_path, gz):
    _mnist_folder(tmp_path, gz=gz)
    f = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(InputError, match="truncated|corrupt"):
        _mnist(tmp_path)


def test_corrupt_gzip_and_absurd_headers(tmp_path):
    _mnist_folder(tmp_path, gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage garbage")
    with pytest.raises(InputError, match="corrupt or truncated"):
        _mnist(tmp_path)
    _mnist_folder(tmp_path, gz=False)
    for p in tmp_path.glob("*.gz"):
        p.unlink()
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(bytes([0, 0, 8, 3]) + (2**31 - 1).to_bytes(4, "big") * 3)  # 10^28 bytes claimed
    with pytest.raises(InputError, match="over the limit"):
        _mnist(tmp_path)
    f.write_bytes(bytes([0, 0, 9, 3]) + bytes(12))
    with pytest.raises(InputError, match="bad magic number"):
        _mnist(tmp_path)


def test_mnist_labels_checked(tmp_path):
    _mnist_folder(tmp_path, labels=np.arange(20) % 12)
    with pytest.raises(InputError, match="labels must lie in 0..9, found 11"):
        _mnist(tmp_path)
    _mnist_folder(tmp_path, labels=np.arange(19) % 10)
    with pytest.raises(InputError, match="20 images but 19 labels"):
        _mnist(tmp_path)


def _build(cache: str, out: str) -> None:
    spec = DataSpec("digits", 8, 2000, 500, 7, None)
    d = load_data(spec, (32, 32), cache)
    np.save(out, d.train.x[:3])


def test_processes_building_one_cache_do_not_collide(tmp_path):
    """Three processes build the same cache at once: each gets the data, one complete file remains."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_build, args=(str(tmp_path / "cache"), str(tmp_path / f"out{i}.npy")))
             for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    outs = [np.load(tmp_path / f"out{i}.npy") for i in range(3)]
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 1 and files[0].startswith("digits-") and files[0].endswith(".npz")


def test_a_damaged_cache_is_rebuilt(tmp_path):
    spec = DataSpec("digits", 8, 50, 20, 0, None)
    d = load_data(spec, (16, 16), tmp_path)
    cache = next(tmp_path.glob("digits-*.npz"))
    cache.write_bytes(b"half a file")
    again = load_data(spec, (16, 16), tmp_path)
    np.testing.assert_array_equal(again.train.x, d.train.x)


def test_mnist1d_three_splits_and_its_scrambled_control():
    spec = DataSpec("mnist1d", None, 300, 100, 0, None, val=100)
    d = load_data(spec, (32,), None)
    assert (d.train.x.shape, d.val.x.shape, d.test.x.shape) == ((300, 1, 32), (100, 1, 32), (100, 1, 32))
    assert set(np.unique(d.train.y)) == set(range(10)) and np.isfinite(d.train.x).all()
    assert len({x.tobytes() for x in np.concatenate([d.train.x, d.val.x, d.test.x])}) == 500  # all distinct
    from dataclasses import replace

    s = load_data(replace(spec, scramble=7), (32,), None)
    perm = np.random.default_rng(7).permutation(32)
    np.testing.assert_array_equal(s.train.x, d.train.x[:, :, perm])  # the same sequences, positions permuted
    np.testing.assert_array_equal(s.test.y, d.test.y)
