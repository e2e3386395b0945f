"""Data sets as the task's ``data`` section says: digits on a canvas (scikit-learn's bundled 8x8 digits,
or MNIST from local IDX files), or user arrays from an .npz file. Generated sets are cached on disk.

Arrays come back as ``Split(x, y)`` with ``x`` float32 of shape (n, 1, *input_shape) in [0, 1] and
``y`` int64 labels. No source image is in both train and test.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archsearch.formats.task import DataSpec
from archsearch.formats.yamlio import InputError

__all__ = ["Dataset", "Split", "load_data", "place_on_canvas"]


@dataclass(frozen=True)
class Split:
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Dataset:
    train: Split
    test: Split
    classes: int


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, h, w) images to (n, size, size)."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(images.astype(np.float32))[:, None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[:, 0].numpy()


def place_on_canvas(images: np.ndarray, labels: np.ndarray, n: int, canvas: tuple[int, int], size: int,
                    rng: np.random.Generator) -> Split:
    """``n`` samples: a random source image, resized to ``size``, at a random position on ``canvas``."""
    src = _resize(images, size)
    src /= max(float(src.max()), 1e-12)
    pick = rng.integers(0, len(src), size=n)
    rows = rng.integers(0, canvas[0] - size + 1, size=n)
    cols = rng.integers(0, canvas[1] - size + 1, size=n)
    x = np.zeros((n, 1, *canvas), dtype=np.float32)
    for i in range(n):
        x[i, 0, rows[i]:rows[i] + size, cols[i]:cols[i] + size] = src[pick[i]]
    return Split(x, labels[pick].astype(np.int64))


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32), d.target.astype(np.int64)


def digits_split(n: int, rng: np.random.Generator, train_fraction: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the source images for train and test: disjoint, so no digit image is in both."""
    order = rng.permutation(n)
    cut = int(train_fraction * n)
    return order[:cut], order[cut:]


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise InputError("not an IDX file of unsigned bytes", path)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _mnist_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"no MNIST file {stem}[.gz] in this folder", folder, "data.path")


def _mnist(folder: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if not folder.is_dir():
        raise InputError("MNIST folder not found", folder, "data.path")
    parts = [_read_idx(_mnist_file(folder, s)) for s in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    return (parts[0].astype(np.float32), parts[1].astype(np.int64)), (parts[2].astype(np.float32),
                                                                      parts[3].astype(np.int64))


def _npz(path: Path, shape: tuple[int, ...]) -> Dataset:
    if not path.is_file():
        raise InputError("no such file", path, "data.path")
    try:
        z = np.load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(f"cannot read as .npz: {exc}", path, "data.path") from None
    splits = []
    for part in ("train", "test"):
        for key in (f"x_{part}", f"y_{part}"):
            if key not in z.files:
                raise InputError(f"missing array '{key}' (has {', '.join(z.files)})", path, key)
        x, y = z[f"x_{part}"].astype(np.float32), z[f"y_{part}"]
        if x.shape[1:] == shape:
            x = x[:, None]
        if x.shape[2:] != shape or x.ndim != len(shape) + 2:
            raise InputError(f"expected shape (n, {', '.join(map(str, shape))}) or with a channel axis, "
                             f"got {x.shape}", path, f"x_{part}")
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
            raise InputError(f"expected {len(x)} non-negative integer labels, got shape {y.shape}, "
                             f"dtype {y.dtype}", path, f"y_{part}")
        splits.append(Split(x, y.astype(np.int64)))
    classes = int(max(splits[0].y.max(), splits[1].y.max())) + 1
    return Dataset(splits[0], splits[1], classes)


def load_data(spec: DataSpec, input_shape: tuple[int, ...], cache_dir: str | Path | None = "runs/.cache") -> Dataset:
    """Build (or read from the cache) the data set a task asks for."""
    if spec.source == "npz":
        return _npz(spec.path, input_shape)
    if len(input_shape) != 2:
        raise InputError(f"source '{spec.source}' needs a 2D input, got {list(input_shape)}", field="data.source")
    key = hashlib.sha256(json.dumps([spec.source, str(spec.path), spec.digit_size, list(input_shape),
                                     spec.train, spec.test, spec.seed]).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"{spec.source}-{key}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        z = np.load(cache)
        return Dataset(Split(z["x_train"].astype(np.float32) / 255, z["y_train"]),
                       Split(z["x_test"].astype(np.float32) / 255, z["y_test"]), 10)
    rng = np.random.default_rng(spec.seed)
    if spec.source == "digits":
        images, labels = _digits()
        tr_idx, te_idx = digits_split(len(images), rng)
        tr, te = (images[tr_idx], labels[tr_idx]), (images[te_idx], labels[te_idx])
    else:
        tr, te = _mnist(spec.path)
    train = place_on_canvas(*tr, spec.train, input_shape, spec.digit_size, rng)
    test = place_on_canvas(*te, spec.test, input_shape, spec.digit_size, rng)
    # quantise to bytes: the cached set is what every later run reads, so store it once, small
    q = lambda a: np.round(a * 255).astype(np.uint8)  # noqa: E731
    train, test = Split(q(train.x).astype(np.float32) / 255, train.y), Split(q(test.x).astype(np.float32) / 255, test.y)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, x_train=q(train.x), y_train=train.y, x_test=q(test.x), y_test=test.y)
        tmp.replace(cache)
    return Dataset(train, test, 10)
