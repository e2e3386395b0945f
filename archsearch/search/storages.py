"""What a storage URL names, checked before Optuna opens it: nothing is created, written or appended to a
file that is not what it should be.

Three ways a command opens a storage (``mode``):

* ``create`` (``search``, ``bench build --storage``): the file may be new; its folder is made;
* ``write`` (``worker``): the file must exist, be writable and be a journal or a SQLite database;
* ``read`` (``studies``, ``show``, ``report``, ``export``, ``dashboard``): the file must exist; nothing is
  created (no folder, no empty database).

A journal whose last record is torn (a crash or a full disk mid-write) is refused in every mode: Optuna
would append after the partial line and lose the study. :func:`repair_journal` (``archsearch studies
--storage journal:FILE --repair``) keeps every complete record and moves the rest aside.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from archsearch.errors import InputError

__all__ = ["MODES", "check_storage", "repair_journal", "storage_file"]

MODES = ("create", "write", "read")
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: bytes of a journal's first record read to tell a journal from another file
_PROBE = 1 << 16


def storage_file(url: str) -> tuple[str, Path] | None:
    """``("journal" | "sqlite", path)`` for a file-backed storage URL, None for a server (PostgreSQL...)."""
    if url.startswith("journal:"):
        return "journal", Path(url[len("journal:"):])
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?", 1)[0]
        return ("sqlite", Path(path)) if path and path != ":memory:" else None
    return None


def _refuse(url: str, message: str) -> InputError:
    return InputError(f"storage '{url}': {message}", field="--storage")


def check_storage(url: str, mode: str = "create") -> None:
    """Refuse, in one line naming ``--storage``, a file storage that ``mode`` cannot use as it is: a
    folder, a device, a missing file (``read``/``write``), a read-only file (``create``/``write``), a
    file that is not a journal or a SQLite database, a journal with a torn last record."""
    assert mode in MODES, mode
    found = storage_file(url)
    if found is None:
        return
    kind, path = found
    what = "journal file" if kind == "journal" else "SQLite database"
    if not path.exists():
        if mode != "create":
            folder = path.parent
            hint = f" (no folder {folder})" if not folder.is_dir() else ""
            raise _refuse(url, f"no such {what}{hint}; nothing was created")
        probe = path.parent
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            raise _refuse(url, f"cannot create the {what}: {probe} is not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise _refuse(url, f"cannot create the {what}: {probe} is not writable")
        return
    if path.is_dir():
        raise _refuse(url, f"{path} is a folder, not a {what}")
    if not path.is_file():
        raise _refuse(url, f"{path} is not a regular file (a device or a pipe?), not a {what}")
    if mode != "read" and not os.access(path, os.W_OK):
        raise _refuse(url, f"{path} is read-only; a {'search' if mode == 'create' else 'worker'} writes to it")
    if mode != "read" and kind == "journal" and not os.access(path.parent, os.W_OK | os.X_OK):
        raise _refuse(url, f"the folder {path.parent} is read-only (a journal's writers take a lock file there)")
    try:
        with path.open("rb") as f:
            head = f.read(_PROBE)
            size = os.fstat(f.fileno()).st_size
            tail = b""
            if size:
                f.seek(size - 1)
                tail = f.read(1)
    except OSError as exc:
        raise _refuse(url, f"cannot read {path}: {exc.strerror or exc}") from None
    if mode == "read" and not size:
        raise _refuse(url, f"{path} is empty: it holds no study")
    if kind == "sqlite":
        if size and not head.startswith(_SQLITE_MAGIC):
            raise _refuse(url, f"{path} is not a SQLite database (its header is not SQLite's); nothing was written")
        return
    if not size:
        return
    if not _journal_record(head.split(b"\n", 1)[0]):
        raise _refuse(url, f"{path} is not an Optuna journal (its first line is no journal record); nothing was "
                           "written")
    if tail != b"\n":
        raise _refuse(url, f"{path} ends in a torn record (a crash or a full disk mid-write): nothing was read or "
                           f"written; `archsearch studies --storage {url} --repair` keeps every complete record")


def is_journal(path: str | Path) -> bool:
    """Whether ``path`` is a file whose first line is an Optuna journal record (what ``studies`` looks for
    among a runs folder's files)."""
    try:
        with open(path, "rb") as f:
            first = f.readline(1 << 20)
    except OSError:
        return False
    return _journal_record(first)


def _journal_record(line: bytes) -> bool:
    try:
        rec = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(rec, dict) and "op_code" in rec


def repair_journal(path: str | Path) -> tuple[int, int, Path | None]:
    """Keep every complete record of the journal at ``path`` (a line that is a JSON record and ends in a
    newline), in order, up to the first that is not; move everything from there on to ``PATH.torn`` (never
    deleted: a careful reader may want it). Returns (records kept, bytes moved, the ``.torn`` file or None).
    The file is rewritten atomically (a temporary file, then a rename)."""
    path = Path(path)
    data = path.read_bytes()
    keep, pos, kept = [], 0, 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0 or not _journal_record(data[pos:end]):
            break
        keep.append(data[pos:end + 1])
        kept += 1
        pos = end + 1
    rest = data[pos:]
    if not rest:
        return kept, 0, None
    torn = path.with_name(path.name + ".torn")
    n = 1
    while torn.exists():
        n += 1
        torn = path.with_name(f"{path.name}.torn{n}")
    torn.write_bytes(rest)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(b"".join(keep))
    os.replace(tmp, path)
    return kept, len(rest), torn
