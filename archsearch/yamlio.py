"""Safe YAML reading that remembers where each value sits, so errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["InputError", "read_yaml"]

Loc = tuple[Any, ...]


class InputError(Exception):
    """Bad user input: one line that names the file, and the line and field where known."""

    def __init__(self, message: str, file: str | Path | None = None, field: str = "", line: int | None = None):
        self.message, self.file, self.field, self.line = message, file, field, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file) if self.file is not None else ""
        if where and self.line is not None:
            where += f":{self.line}"
        head = ": ".join(x for x in (where, self.field) if x)
        return f"{head}: {self.message}" if head else self.message


def _marks(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[(*loc, key, "__key__")] = k.start_mark.line + 1
            _marks(v, (*loc, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _marks(v, (*loc, i), out)


def read_yaml(path: str | Path) -> tuple[Any, dict[Loc, int]]:
    """``yaml.safe_load`` of ``path`` plus a map from value location to 1-based line number."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a YAML file", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path) from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"malformed YAML: {exc.problem or exc.context}", path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", path) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _marks(node, (), lines)
    return data, lines


def field_name(loc: Loc) -> str:
    """``("partitions", 2, "kind")`` -> ``partitions[2].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
