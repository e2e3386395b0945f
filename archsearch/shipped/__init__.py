"""The task specs, search spaces and layouts shipped with archsearch (``tasks/``, ``search_spaces/``,
``layouts/`` in the source tree; installed inside the package, so ``pip install .`` has them too)."""

from __future__ import annotations

from pathlib import Path

from archsearch.errors import InputError

__all__ = ["KINDS", "shipped_path"]

KINDS = ("tasks", "search_spaces", "layouts")
_HERE = Path(__file__).resolve().parent


def shipped_path(kind: str, name: str) -> Path:
    """The shipped file ``kind/name`` (e.g. ``tasks``, ``digits-local-32.yaml``): inside the installed
    package, else in the source tree of an editable install."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    for base in (_HERE / kind, _HERE.parents[1] / kind):
        if (base / name).is_file():
            return base / name
    raise InputError(f"the shipped file {kind}/{name} is missing from this installation", _HERE / kind)
