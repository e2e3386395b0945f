"""Data sets as the task's ``data`` section says: digits on a canvas (scikit-learn's bundled 8x8 digits,
or MNIST from local IDX files), or user arrays from an .npz file. Generated sets are cached on disk.

Arrays come back as ``Split(x, y)`` with ``x`` float32 of shape (n, channels, *input_shape) and ``y``
int64 labels. No source image is in both train and test. Everything read from a file is checked before
use (shapes, dtypes, finite values, label range, sizes), each failure one :class:`InputError` naming
the file and the array or field.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import uuid
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from archsearch.formats.task import MAX_DATA_VALUES, DataSpec, Task
from archsearch.formats.validate import MAX_IMAGES
from archsearch.formats.yamlio import InputError

__all__ = ["Dataset", "Split", "check_fits", "load_data", "load_task_data", "place_on_canvas"]

#: largest IDX file read (MNIST's training images are 47 MB)
MAX_IDX_BYTES = 1 << 30


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


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes with ``ndim`` axes (plain or gzip), its header checked against its
    length before anything is allocated."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != 8:
                raise InputError("not an IDX file of unsigned bytes (bad magic number)", path)
            if head[3] != ndim:
                raise InputError(f"expected an IDX file with {ndim} axes, the header says {head[3]}", path)
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise InputError("truncated IDX header", path)
            dims = [int.from_bytes(dims_raw[4 * i: 4 * i + 4], "big") for i in range(ndim)]
            size = math.prod(dims)
            if size > MAX_IDX_BYTES or dims[0] > 10 * MAX_IMAGES:
                raise InputError(f"IDX header claims shape {dims} ({size} bytes), over the limit of "
                                 f"{MAX_IDX_BYTES}", path)
            body = f.read(size + 1)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(f"cannot read (corrupt or truncated?): {exc}", path) from None
    if len(body) != size:
        raise InputError(f"the header says {dims} ({size} bytes of data), the file holds "
                         f"{'more' if len(body) > size else len(body)}: truncated or corrupt", path)
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _mnist_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"no MNIST file {stem}[.gz] in this folder", folder, "data.path")


def _mnist(folder: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if not folder.is_dir():
        raise InputError("MNIST folder not found", folder, "data.path")
    out = []
    for images, labels in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        x = read_idx(_mnist_file(folder, images), 3)
        y = read_idx(_mnist_file(folder, labels), 1)
        if len(x) != len(y) or len(x) == 0:
            raise InputError(f"{len(x)} images but {len(y)} labels", _mnist_file(folder, labels))
        if y.max() > 9:
            raise InputError(f"labels must lie in 0..9, found {int(y.max())}", _mnist_file(folder, labels))
        out.append((x.astype(np.float32), y.astype(np.int64)))
    return out[0], out[1]


def _array(z, key: str, path: Path) -> np.ndarray:
    if key not in z.files:
        raise InputError(f"missing array (the file has {', '.join(z.files) or 'none'})", path, key)
    try:
        a = z[key]
    except ValueError as exc:  # object arrays need pickle, which is never loaded
        raise InputError(f"cannot read: {exc}", path, key) from None
    if a.dtype.kind not in "biuf":
        raise InputError(f"expected a numeric array, got dtype {a.dtype}", path, key)
    if a.size == 0:
        raise InputError(f"empty array (shape {a.shape})", path, key)
    return a


def _npz(path: Path, shape: tuple[int, ...]) -> Dataset:
    if not path.is_file():
        raise InputError("no such file", path, "data.path")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(f"cannot read as .npz: {' '.join(str(exc).split())[:200]}", path, "data.path") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise InputError(f"not an .npz archive (holds a single {type(z).__name__}); save with np.savez",
                         path, "data.path")
    splits = []
    with z:
        for part in ("train", "test"):
            x, y = _array(z, f"x_{part}", path), _array(z, f"y_{part}", path)
            if x.shape[1:] == shape:
                x = x[:, None]
            if x.ndim != len(shape) + 2 or x.shape[2:] != shape:
                raise InputError(f"expected shape (n, {', '.join(map(str, shape))}) or (n, channels, "
                                 f"{', '.join(map(str, shape))}), got {x.shape}", path, f"x_{part}")
            if len(x) > MAX_IMAGES:
                raise InputError(f"{len(x)} images, over the limit of {MAX_IMAGES}", path, f"x_{part}")
            x = x.astype(np.float32)
            if not np.isfinite(x).all():
                raise InputError(f"holds {int((~np.isfinite(x)).sum())} NaN or infinite values", path, f"x_{part}")
            if y.shape != (len(x),) or y.dtype.kind not in "iu":
                raise InputError(f"expected {len(x)} integer labels, got shape {y.shape}, dtype {y.dtype}",
                                 path, f"y_{part}")
            if (y < 0).any():
                raise InputError(f"labels must be >= 0, found {int(y.min())}", path, f"y_{part}")
            splits.append(Split(x, y.astype(np.int64)))
    if splits[0].x.shape[1] != splits[1].x.shape[1]:
        raise InputError(f"x_train has {splits[0].x.shape[1]} channels, x_test {splits[1].x.shape[1]}", path, "x_test")
    classes = int(max(splits[0].y.max(), splits[1].y.max())) + 1
    return Dataset(splits[0], splits[1], classes)


def _save_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz under a name of this process's own, then rename it into place: readers and other
    writers never see half a file, and two processes building the same cache do not collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.npz")
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
        try:
            with np.load(cache, allow_pickle=False) as z:
                return Dataset(Split(z["x_train"].astype(np.float32) / 255, z["y_train"]),
                               Split(z["x_test"].astype(np.float32) / 255, z["y_test"]), 10)
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, not trusted
            pass
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
        _save_atomic(cache, x_train=q(train.x), y_train=train.y, x_test=q(test.x), y_test=test.y)
    return Dataset(train, test, 10)


def check_fits(data: Dataset, classes: int, in_channels: int, source: str | Path | None = None) -> None:
    """Refuse data a model with ``classes`` outputs and ``in_channels`` input channels cannot train on."""
    for name, split in (("train", data.train), ("test", data.test)):
        top = int(split.y.max())
        if top >= classes:
            raise InputError(f"labels must lie in 0..{classes - 1} for a model with {classes} classes, "
                             f"found {top}", source, f"y_{name}")
        if split.x.shape[1] != in_channels:
            raise InputError(f"the images have {split.x.shape[1]} channel(s), the layouts take in_channels="
                             f"{in_channels}", source, f"x_{name}")


def load_task_data(task: Task, classes: int, in_channels: int, train: int | None = None, test: int | None = None,
                   cache_dir: str | Path | None = "runs/.cache") -> Dataset:
    """The data of ``task`` (with ``train`` / ``test`` overriding its sizes), checked against the model
    that will train on it."""
    if task.data is None:
        raise InputError("training needs a 'data' section in the task", task.source, "data")
    spec = task.data
    if train is not None:
        spec = replace(spec, train=train)
    if test is not None:
        spec = replace(spec, test=test)
    values = (spec.train + spec.test) * math.prod(task.input_shape)
    if values > MAX_DATA_VALUES:
        raise InputError(f"{spec.train + spec.test} images of {math.prod(task.input_shape)} inputs would hold "
                         f"{values} values, over the limit of {MAX_DATA_VALUES}", field="--train")
    data = load_data(spec, task.input_shape, cache_dir)
    check_fits(data, classes, in_channels, spec.path if spec.source == "npz" else task.source)
    return data
