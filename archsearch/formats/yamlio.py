"""Safe YAML reading with limits, that remembers where each value sits so errors can name the line.

Every file the tool reads goes through :func:`read_yaml`: ``yaml.safe_load`` semantics (no Python
objects), plus refusals, each one line naming the file (and the line where known), for inputs that
would otherwise exhaust memory or the stack, or be silently misread:

* files over :data:`MAX_FILE_BYTES`;
* nesting deeper than :data:`MAX_DEPTH` (and any structure deep enough to exhaust the parser's stack);
* more than :data:`MAX_NODES` values once aliases are expanded ("billion laughs"), and aliases that
  refer to themselves;
* a key given twice in one mapping (YAML says last wins; a spec should not silently drop a value);
* non-finite numbers (``.nan``, ``.inf``, ``1.0e999``): no weight, size or rate is meant to be one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from archsearch.errors import InputError  # re-exported: callers of 0.5 import it from here

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "InputError", "field_name", "read_text", "read_yaml"]

#: largest YAML file read, in bytes (the shipped files are a few KB; an explicit partition of every
#: input of a 256x256 grid is about 400 KB)
MAX_FILE_BYTES = 1 << 20
#: deepest nesting of lists and mappings (the formats need 4)
MAX_DEPTH = 32
#: most values in a document, counted with every alias expanded
MAX_NODES = 200_000

Loc = tuple[Any, ...]


_FLOAT_TAG = "tag:yaml.org,2002:float"
_FLOATS = yaml.constructor.SafeConstructor()


def _walk(root: yaml.Node, path: Path) -> dict[Loc, int]:
    """Line of every value (iteratively: no recursion to exhaust), enforcing the limits above."""
    lines: dict[Loc, int] = {}
    stack: list[tuple[yaml.Node, Loc, tuple[int, ...]]] = [(root, (), ())]
    seen = 0
    while stack:
        node, loc, ancestors = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise InputError(f"more than {MAX_NODES} values once aliases are expanded; refused "
                             "(an alias bomb?)", path, line=node.start_mark.line + 1)
        if len(ancestors) > MAX_DEPTH:
            raise InputError(f"nested deeper than {MAX_DEPTH} levels", path, line=node.start_mark.line + 1)
        if id(node) in ancestors:
            raise InputError("an alias refers to the value that contains it", path, line=node.start_mark.line + 1)
        lines.setdefault(loc, node.start_mark.line + 1)
        inner = (*ancestors, id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[Any, int] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else f"<{k.id}>"
                line = k.start_mark.line + 1
                if key in keys:
                    raise InputError(f"duplicate key '{key}' (also on line {keys[key]})",
                                     path, line=line)
                keys[key] = line
                lines.setdefault((*loc, key, "__key__"), line)
                stack.append((v, (*loc, key), inner))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((v, (*loc, i), inner))
        elif node.tag == _FLOAT_TAG and not math.isfinite(_FLOATS.construct_yaml_float(node)):
            raise InputError(f"'{node.value}' is not a finite number", path, field_name(loc),
                             line=node.start_mark.line + 1)
    return lines


def read_yaml(path: str | Path, text: str | None = None) -> tuple[Any, dict[Loc, int]]:
    """``yaml.safe_load`` of ``path`` within the limits above, plus a map from value location (a tuple
    of keys and indices) to its 1-based line number. ``text``: the file's content, already at hand (a
    study's stored task, say); errors still name ``path``."""
    path = Path(path)
    if text is not None:
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise InputError(f"more than {MAX_FILE_BYTES} bytes, over the limit", path)
        return _parse(text, path)
    return _parse(read_text(path), path)


def read_text(path: str | Path) -> str:
    """A YAML file's text, read bounded (:data:`MAX_FILE_BYTES`, whatever the file claims) as UTF-8; a
    missing file, a folder or other bytes is one :class:`InputError` naming it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError("is a directory, not a YAML file", path)
        if size > MAX_FILE_BYTES:
            raise InputError(f"file of {size} bytes, over the limit of {MAX_FILE_BYTES}", path)
        with path.open("rb") as f:  # bounded even for a device or a file that grows meanwhile
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise InputError(f"more than {MAX_FILE_BYTES} bytes, over the limit", path)
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None


def _parse(text: str, path: Path) -> tuple[Any, dict[Loc, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines = _walk(node, path) if node is not None else {}
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"malformed YAML: {exc.problem or exc.context}", path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", path) from None
    except RecursionError:
        raise InputError(f"nested too deeply to read (the limit is {MAX_DEPTH} levels)", path) from None
    finally:
        loader.dispose()
    return data, lines


def field_name(loc: Loc) -> str:
    """``("partitions", 2, "kind")`` -> ``partitions[2].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
