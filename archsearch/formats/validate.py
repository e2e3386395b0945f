"""The one validation mechanism every file format uses: pydantic schemas (strict: unknown keys and wrong
types refused, nothing coerced), bounded field types, and the plumbing that turns any failure into one
:class:`~archsearch.formats.yamlio.InputError` naming the file, the line and the field.

``tasks/x.yaml:7: partitions[1].kind: unknown partition kind 'chekerboard' (did you mean 'checkerboard'?)``
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archsearch.core.layout import MAX_INPUTS
from archsearch.errors import InputError
from archsearch.formats.yamlio import field_name, read_yaml

__all__ = [
    "MAX_IMAGES", "MAX_SEED", "NAME_PATTERN", "Ctx", "Count", "Name", "Seed", "Strict", "check_name",
    "did_you_mean", "load_with", "loc_of", "shape", "validate", "window",
]

Loc = tuple[Any, ...]

#: largest seed (numpy and torch take 0 .. 2^32 - 1)
MAX_SEED = 2**32 - 1
#: most images in one split of a data set
MAX_IMAGES = 1_000_000
#: names that become folder names and study names: letters, digits, '-', '_', '.', 1 to 100 of them
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Count = Annotated[int, Field(ge=1, le=MAX_IMAGES)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class Strict(BaseModel):
    """Base of every file schema: unknown keys refused, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


def check_name(name: str, what: str, file: str | Path | None = None, field: str = "name") -> str:
    """Refuse a name that could not safely be a folder or study name."""
    if not re.match(NAME_PATTERN, name or ""):
        raise InputError(f"{what} must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter "
                         f"or digit; got {name!r}"[:300], file, field)
    return name


class Ctx:
    """The file being read and its line map, to turn a location into a one-line error."""

    def __init__(self, path: str | Path, lines: dict[Loc, int]) -> None:
        self.path, self.lines = path, lines

    def error(self, message: str, loc: Loc = (), key: str | None = None) -> InputError:
        """Error at ``loc``; with ``key``, at the line of that key inside the mapping at ``loc``."""
        line = self.lines.get((*loc, key, "__key__")) if key is not None else None
        probe: Loc | None = loc
        while line is None and probe is not None:
            line = self.lines.get(probe)
            probe = probe[:-1] if probe else None
        return InputError(message, self.path, field_name(loc), line)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _words(e: dict[str, Any]) -> str:
    """pydantic's error, in the words of a requirement."""
    ctx, kind = e.get("ctx") or {}, e["type"]
    words = {
        "int_type": "expected an integer", "float_type": "expected a number", "string_type": "expected a string",
        "list_type": "expected a list", "dict_type": "expected a mapping", "model_type": "expected a mapping",
        "bool_type": "expected true or false", "finite_number": "expected a finite number",
        "string_too_short": "must not be empty", "too_short": f"needs at least {ctx.get('min_length')} item(s)",
        "too_long": f"takes at most {ctx.get('max_length')} items",
        "string_pattern_mismatch": "may hold only letters, digits, '-', '_' and '.' (1 to 100, starting with "
                                   "a letter or digit)",
    }
    if kind in words:
        return words[kind]
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx and kind.startswith(("greater", "less")):
            bound = ctx[key]
            return f"must be {sign} {bound:g}" if isinstance(bound, float) else f"must be {sign} {bound}"
    return e["msg"][0].lower() + e["msg"][1:]


def _model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        f = model.model_fields.get(part)
        if f is None:
            return None
        model = None
        for t in [f.annotation, *typing.get_args(f.annotation)]:
            for cand in [t, *typing.get_args(t)]:
                if isinstance(cand, type) and issubclass(cand, BaseModel):
                    model = cand
    return model


def _real_loc(data: Any, loc: Loc, name_missing: bool = True) -> Loc:
    """Drop pydantic's union-member tags from ``loc``, keeping only steps that exist in ``data`` (and, with
    ``name_missing``, the first key that does not)."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            if name_missing and isinstance(cur, dict) and isinstance(part, str) and not out[-1:] == [part]:
                out.append(part)  # a missing key: name it
            break
        out.append(part)
    return tuple(out)


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def validate(model: type[BaseModel], data: Any, ctx: Ctx, loc: Loc = ()) -> Any:
    """``model.model_validate(data)``, any failure as one :class:`InputError` at its line."""
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ctx.error(f"expected a mapping of keys, got {got}", loc)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a typo'd key also makes the intended key "missing": report the typo, it is the cause
        e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        raw = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            parent = _real_loc(data, raw[:-1])
            if not parent and not set(map(str, data)) & set(model.model_fields):
                # nothing says this is a file of the expected kind (a credentials file, say): never quote it
                kind = model.__name__.removesuffix("File").lower()
                raise ctx.error(f"not a {kind} file: none of its keys is one a {kind} has "
                                f"({', '.join(model.model_fields)})", loc) from None
            known = _model_at(model, parent)
            hint = did_you_mean(raw[-1], known.model_fields) if known else ""
            raise ctx.error(f"unknown key {_short(str(raw[-1]))}{hint}", (*loc, *parent), key=raw[-1]) from None
        if e["type"] == "missing":
            raise ctx.error(f"missing required key '{raw[-1]}'", (*loc, *_real_loc(data, raw[:-1], False))) from None
        where = (*loc, *_real_loc(data, raw))
        if e["type"] == "value_error" and isinstance(e.get("input"), dict):  # a rule across fields
            raise ctx.error(str(e["msg"]).removeprefix("Value error, "), where) from None
        raise ctx.error(f"{_words(e)}, got {_short(e.get('input'))}", where) from None


def load_with(path: str | Path, model: type[BaseModel], text: str | None = None) -> tuple[Any, Ctx]:
    """Read ``path`` (safe YAML, limits; or ``text``, its content) and validate it against ``model``."""
    data, lines = read_yaml(path, text)
    ctx = Ctx(path, lines)
    return validate(model, data, ctx), ctx


def loc_of(field_path: str) -> Loc:
    """``layers[2].pool`` -> ``("layers", 2, "pool")``."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", field_path))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shape(value: list[int], ctx: Ctx, loc: Loc) -> tuple[int, ...]:
    """An input grid ``[N]`` or ``[H, W]`` of positive sizes, at most ``MAX_INPUTS`` inputs in all:
    checked before anything the size of the grid is allocated."""
    if len(value) not in (1, 2) or any(v < 1 for v in value):
        raise ctx.error(f"expected [N] or [H, W] of positive sizes, got {_short(value)}", loc)
    if math.prod(value) > MAX_INPUTS:
        raise ctx.error(f"{_short(value)} has {math.prod(value)} inputs, over the limit of {MAX_INPUTS}", loc)
    return tuple(value)


def window(pool: Any, ndim: int, ctx: Ctx, loc: Loc) -> tuple[int, ...]:
    """A pooling window: an int (square in 2D) or ``[h, w]``, positive."""
    if is_int(pool) and pool >= 1:
        return (pool,) * ndim
    if isinstance(pool, list) and len(pool) == ndim and all(is_int(p) and p >= 1 for p in pool):
        return tuple(pool)
    want = "a positive int" if ndim == 1 else "[h, w] of positive ints (or one int for a square window)"
    raise ctx.error(f"expected {want} for a {ndim}D input, got {_short(pool)}", loc)
