"""Files written whole or not at all: every output goes to a temporary name beside its place and is renamed
there once complete, so a failed or killed command leaves neither half a file nor one it did not finish."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path", "read_bounded", "write_atomic"]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) to write to; renamed to ``path`` when the block ends
    without an exception, removed otherwise. The folder is made when the file is renamed into it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    """A fresh temporary folder to fill; when the block ends without an exception its files are moved
    into ``out`` (made then, with its parents; files already there of the same names are replaced),
    else it is deleted and ``out`` is left as it was (not even created)."""
    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=".archsearch-"))
    try:
        yield tmp
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            with atomic_path(out / f.name) as dest:
                shutil.move(str(f), dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (read bounded, whatever the file
    claims: never from a device or a pipe); one :class:`~archsearch.errors.InputError` naming it otherwise
    (``what``: what the file should be, for the messages)."""
    from archsearch.errors import InputError

    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"is a folder, not {what}", path)
        if not path.is_file():
            raise InputError(f"no such {what.split(' ', 1)[-1]}" if not path.exists()
                             else "not a regular file (a device or a pipe?)", path)
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    if len(raw) > limit:
        raise InputError(f"more than {limit} bytes, over the limit for {what}", path)
    return raw
