"""Where results go: a new folder per run, never over an earlier run's results without ``--force``."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

from archsearch.errors import InputError

__all__ = ["json_text", "new_run_dir", "refuse_overwrite"]


def refuse_overwrite(path: str | Path, force: bool, flag: str) -> Path:
    """``path``, unless a file is already there and ``force`` is off."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path} already exists; give --force to overwrite it, or another path", field=flag)
    return path


def new_run_dir(base: str | Path, now: datetime.datetime | None = None) -> Path:
    """A new, empty folder ``BASE/YYYYmmdd-HHMMSS`` (``-2``, ``-3``, ... when that exists), created here.

    Each run of ``verify`` or ``paper`` writes into its own, so no run overwrites another's results.
    """
    base = Path(base)
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()  # atomic: two runs starting in the same second get different folders
        except FileExistsError:
            continue
        return folder
    raise InputError(f"no free run folder under {base}", field="--runs-dir")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_text(report: Any, indent: int | None = None) -> str:
    """Strict JSON: a NaN or infinite figure (a failed run, a tau of too few layouts) is written as null,
    never as the ``NaN`` that JSON parsers other than Python's refuse; a date (a trial's) as its text."""
    return json.dumps(_finite(report), indent=indent, allow_nan=False, default=str)
