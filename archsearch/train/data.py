"""Data sets as the task's ``data`` section says: digits on a canvas (scikit-learn's bundled 8x8 digits,
or MNIST from local IDX files), or user arrays from an .npz file. Generated sets are cached on disk.

Every source yields three splits: **train** (what the weights see), **val** (validation: what searches,
``verify`` and everything that ranks or selects layouts reads) and **test** (recorded and reported, never
optimised). Validation is carved from the training sources, and no source image is in two splits.
Arrays come back as ``Split(x, y)`` with ``x`` float32 of shape (n, channels, *input_shape) and ``y``
int64 labels. Everything read from a file is checked before
use (shapes, dtypes, finite values, label range, sizes), each failure one :class:`InputError` naming
the file and the array or field.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from archsearch.errors import InputError
from archsearch.formats.task import MAX_DATA_VALUES, DataSpec, Task
from archsearch.formats.validate import MAX_IMAGES

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
    val: Split
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


#: of the source images: the test split's share; of the rest (the training sources), validation's share
TEST_FRACTION, VAL_FRACTION = 0.2, 0.2


def source_split(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of ``n`` source images for train, validation and test: disjoint. Test takes
    ``TEST_FRACTION`` of them; validation takes ``VAL_FRACTION`` of the rest (carved from the training
    sources); train keeps the remainder (64% of the digits)."""
    order = rng.permutation(n)
    n_test = int(round(TEST_FRACTION * n))
    n_val = int(round(VAL_FRACTION * (n - n_test)))
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


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
    """(train images, labels) from the training files and (test images, labels) from t10k."""
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


def _mnist1d(spec: DataSpec, length: int) -> Dataset:
    """MNIST-1D (Greydanus and Kobak, ICML 2024), built locally from the package's templates (no
    download): ``train + val + test`` sequences of ``length``, split by index (every sequence is drawn
    afresh, so none is in two splits). With ``scramble``, every sequence's positions are permuted by one
    fixed permutation: locality is destroyed, the label information kept (the control task)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:  # pragma: no cover - a dependency of archsearch
        raise InputError("source 'mnist1d' needs the mnist1d package (pip install mnist1d)",
                         field="data.source") from None
    args = get_dataset_args()
    n = spec.train + spec.val + spec.test
    args.num_samples, args.final_seq_length, args.seed, args.train_split = n + 10, length, spec.seed, 1.0
    made = make_dataset(args)  # num_samples is split evenly over the 10 classes: the extra 10 round it up
    x, y = made["x"][:n].astype(np.float32), made["y"][:n].astype(np.int64)
    if spec.scramble is not None:
        x = x[:, np.random.default_rng(spec.scramble).permutation(length)]
    x = x[:, None, :]
    cuts = np.cumsum([spec.train, spec.val])
    return Dataset(Split(x[:cuts[0]], y[:cuts[0]]), Split(x[cuts[0]:cuts[1]], y[cuts[0]:cuts[1]]),
                   Split(x[cuts[1]:], y[cuts[1]:]), 10)


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


def _npz(path: Path, shape: tuple[int, ...], seed: int = 0) -> Dataset:
    """x_train, y_train, x_test, y_test, and optionally x_val, y_val; without them, validation is a
    seeded fifth of the training images."""
    if not path.is_file():
        raise InputError("no such file", path, "data.path")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        # numpy's message may quote the file's header: name the kind of failure, never the content
        raise InputError(f"not an .npz archive numpy can read ({type(exc).__name__}); save with np.savez", path,
                         "data.path") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise InputError(f"not an .npz archive (holds a single {type(z).__name__}); save with np.savez",
                         path, "data.path")
    splits = {}
    with z:
        parts = ("train", "val", "test") if "x_val" in z.files or "y_val" in z.files else ("train", "test")
        for part in parts:
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
            splits[part] = Split(x, y.astype(np.int64))
    for part in parts[1:]:
        if splits[part].x.shape[1] != splits["train"].x.shape[1]:
            raise InputError(f"x_train has {splits['train'].x.shape[1]} channels, x_{part} "
                             f"{splits[part].x.shape[1]}", path, f"x_{part}")
    if "val" not in splits:  # carve validation from the training images, seeded
        train = splits["train"]
        if len(train.y) < 2:
            raise InputError("needs at least 2 training images to carve a validation split (or give x_val, "
                             "y_val)", path, "x_train")
        order = np.random.default_rng(seed).permutation(len(train.y))
        n_val = max(1, int(round(VAL_FRACTION * len(order))))
        splits["val"] = Split(train.x[order[:n_val]], train.y[order[:n_val]])
        splits["train"] = Split(train.x[order[n_val:]], train.y[order[n_val:]])
    classes = int(max(sp.y.max() for sp in splits.values())) + 1
    return Dataset(splits["train"], splits["val"], splits["test"], classes)


def _save_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz under a name of this process's own, then rename it into place: readers and other
    writers never see half a file, and two processes building the same cache do not collide."""
    from archsearch.formats.files import atomic_path

    with atomic_path(path) as tmp:  # suffix .npz: numpy adds none
        np.savez_compressed(tmp, **arrays)


def load_data(spec: DataSpec, input_shape: tuple[int, ...], cache_dir: str | Path | None = "runs/.cache") -> Dataset:
    """Build (or read from the cache) the data set a task asks for."""
    if spec.source == "npz":
        return _npz(spec.path, input_shape, spec.seed)
    if spec.source == "mnist1d":
        return _mnist1d(spec, input_shape[0])
    if len(input_shape) != 2:
        raise InputError(f"source '{spec.source}' needs a 2D input, got {list(input_shape)}", field="data.source")
    key = hashlib.sha256(json.dumps(["splits-3", spec.source, str(spec.path), spec.digit_size, list(input_shape),
                                     spec.train, spec.val, spec.test, spec.seed]).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"{spec.source}-{key}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                return Dataset(*(Split(z[f"x_{p}"].astype(np.float32) / 255, z[f"y_{p}"])
                                 for p in ("train", "val", "test")), 10)
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, not trusted
            pass
    rng = np.random.default_rng(spec.seed)
    if spec.source == "digits":
        images, labels = _digits()
        idx = source_split(len(images), rng)
    else:
        (images, labels), test_sources = _mnist(spec.path)
        tr, va, _ = source_split(len(images), rng)  # its own test files are the test sources
        images, labels = np.concatenate([images, test_sources[0]]), np.concatenate([labels, test_sources[1]])
        idx = (tr, va, np.arange(len(labels) - len(test_sources[1]), len(labels)))
    sizes = (spec.train, spec.val, spec.test)
    made = [place_on_canvas(images[i], labels[i], n, input_shape, spec.digit_size, rng) for i, n in zip(idx, sizes,
                                                                                                       strict=True)]
    # quantise to bytes: the cached set is what every later run reads, so store it once, small
    q = lambda a: np.round(a * 255).astype(np.uint8)  # noqa: E731
    splits = [Split(q(sp.x).astype(np.float32) / 255, sp.y) for sp in made]
    if cache is not None:
        _save_atomic(cache, **{f"{k}_{p}": (q(sp.x) if k == "x" else sp.y) for p, sp in zip(
            ("train", "val", "test"), splits, strict=True) for k in ("x", "y")})
    return Dataset(*splits, 10)


def check_fits(data: Dataset, classes: int, in_channels: int, source: str | Path | None = None) -> None:
    """Refuse data a model with ``classes`` outputs and ``in_channels`` input channels cannot train on."""
    for name, split in (("train", data.train), ("val", data.val), ("test", data.test)):
        top = int(split.y.max())
        if top >= classes:
            raise InputError(f"labels must lie in 0..{classes - 1} for a model with {classes} classes, "
                             f"found {top}", source, f"y_{name}")
        if split.x.shape[1] != in_channels:
            raise InputError(f"the images have {split.x.shape[1]} channel(s), the layouts take in_channels="
                             f"{in_channels}", source, f"x_{name}")


def load_task_data(task: Task, classes: int, in_channels: int, train: int | None = None, test: int | None = None,
                   cache_dir: str | Path | None = "runs/.cache", val: int | None = None) -> Dataset:
    """The data of ``task`` (with ``train`` / ``val`` / ``test`` overriding its sizes), checked against the
    model that will train on it."""
    if task.data is None:
        raise InputError("training needs a 'data' section in the task", task.source, "data")
    spec = task.data
    if train is not None:
        spec = replace(spec, train=train)
    if test is not None:
        spec = replace(spec, test=test)
    if val is not None:
        spec = replace(spec, val=val)
    images = spec.train + spec.val + spec.test
    if images * math.prod(task.input_shape) > MAX_DATA_VALUES:
        raise InputError(f"{images} images of {math.prod(task.input_shape)} inputs would hold "
                         f"{images * math.prod(task.input_shape)} values, over the limit of {MAX_DATA_VALUES}",
                         field="--train")
    data = load_data(spec, task.input_shape, cache_dir)
    check_fits(data, classes, in_channels, spec.path if spec.source == "npz" else task.source)
    return data
