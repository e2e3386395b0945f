"""The task specs, search spaces and layouts shipped with archsearch (``tasks/``, ``search_spaces/``,
``layouts/`` in the source tree; installed inside the package, so ``pip install .`` has them too)."""

from __future__ import annotations

from pathlib import Path

from archsearch.errors import InputError

__all__ = ["KINDS", "names", "resolve", "shipped_path"]

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


def names(kind: str) -> list[str]:
    """The shipped files of ``kind``, by name (without ``.yaml``), sorted."""
    for base in (_HERE / kind, _HERE.parents[1] / kind):
        if base.is_dir() and any(base.glob("*.yaml")):
            return sorted(f.stem for f in base.glob("*.yaml"))
    return []


def resolve(text: str, kind: str) -> str:
    """``text`` as given when it names a file that exists (or a path with a folder); else the shipped file
    of ``kind`` it names (``digits-local-32`` or ``digits-local-32.yaml``), if there is one; else ``text``
    (the reader then says "no such file")."""
    path = Path(text)
    if path.exists() or path.parent != Path("."):
        return text
    name = text if text.endswith(".yaml") else f"{text}.yaml"
    try:
        return str(shipped_path(kind, name))
    except InputError:
        return text
