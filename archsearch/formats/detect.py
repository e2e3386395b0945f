"""``archsearch check``: tell a task, search-space or layout file by its keys, and validate it."""

from __future__ import annotations

import difflib
from pathlib import Path

from archsearch.core.layout import Layout
from archsearch.errors import InputError
from archsearch.formats.layout_file import load_layout
from archsearch.formats.space import Space, load_space
from archsearch.formats.task import Task, load_task
from archsearch.formats.yamlio import read_yaml

__all__ = ["load_any"]


def load_any(path: str | Path) -> Task | Space | Layout:
    """Validate a task, space or layout file, telling which by its keys."""
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise InputError(f"expected a mapping of keys, got {got}", path)
    keys = [str(k) for k in data]
    if data.get("kind") == "blocks":  # the block formats say what they are
        from archsearch.formats.blocks_file import load_block_layout, load_block_space

        return load_block_space(path) if "widths" in data else load_block_layout(path)

    def has(*names: str) -> bool:
        return any(difflib.get_close_matches(n, keys, n=1, cutoff=0.8) for n in names)

    if has("partitions"):
        return load_task(path)
    if has("budget", "schedules"):
        return load_space(path)
    if has("layers"):
        return load_layout(path)
    raise InputError("cannot tell the kind of file: a task has 'partitions', a search space 'budget', "
                     "a layout 'layers'", path)
