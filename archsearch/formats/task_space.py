"""A task and a search space that belong together: both files read and validated, and the same input grid.
The one place this is checked (the search, its workers, table readers and ``bench build`` all call it)."""

from __future__ import annotations

from pathlib import Path

from archsearch.errors import InputError
from archsearch.formats.blocks_file import BlockSpace, is_blocks_file, load_block_space
from archsearch.formats.space import Space, load_space
from archsearch.formats.task import Task, load_task

__all__ = ["load_task_space"]


def load_task_space(task_path: str | Path, space_path: str | Path, task_text: str | None = None,
                    space_text: str | None = None, blocks: bool = False) -> tuple[Task, Space | BlockSpace]:
    """The task and space at these paths (or from their stored text, paths resolving beside them); a space
    on another input grid than the task's is refused in one line naming the space file. ``blocks``: a
    block space (``kind: blocks``) is read too (a benchmark table's)."""
    task = load_task(task_path, task_text)
    space = _space(space_path, space_text) if blocks else load_space(space_path, space_text)
    if task.input_shape != space.input_shape:
        raise InputError(f"input_shape {list(space.input_shape)} does not match the task's "
                         f"{list(task.input_shape)} ({task_path})", space_path, "input_shape")
    return task, space


def _space(path: str | Path, text: str | None) -> Space | BlockSpace:
    from archsearch.formats.yamlio import read_text, read_yaml

    text = read_text(path) if text is None else text
    data, _ = read_yaml(path, text)
    return load_block_space(path, text) if is_blocks_file(data) else load_space(path, text)
