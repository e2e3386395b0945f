"""Task specs, search spaces and layout files: YAML -> validated objects, with one-line errors.

Every error is an :class:`~archsearch.yamlio.InputError` naming the file, the line where known and the
field (``tasks/x.yaml:7: partitions[1].kind: unknown kind 'chekerboard' (did you mean 'checkerboard'?)``).
Unknown keys and wrong types are refused; nothing is coerced silently (``"32"`` is not a channel count).
"""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from archsearch import partitions as parts
from archsearch.layout import Layer, Layout, LayoutError
from archsearch.yamlio import InputError, field_name, read_yaml

__all__ = [
    "DataSpec", "Partition", "Space", "Task", "load_any", "load_layout", "load_space", "load_task",
    "layout_from_dict",
]

Loc = tuple[Any, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _LayerFile(_Strict):
    channels: int
    pool: Any


class _LayoutFile(_Strict):
    input_shape: list[int]
    M: int
    layers: list[_LayerFile]
    kernel: int = 3
    in_channels: int = 1
    classes: int = 10


class _PartitionFile(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    name: str
    weight: float = 1.0
    kind: str | None = None
    side_a: list[int] | None = None


class _DataFile(_Strict):
    source: Literal["digits", "mnist", "npz"]
    digit_size: int | None = None
    train: int = 8000
    test: int = 2000
    seed: int = 0
    path: str | None = None


class _TaskFile(_Strict):
    name: str
    description: str = ""
    input_shape: list[int]
    partitions: list[_PartitionFile]
    data: _DataFile | None = None


class _ChannelsFile(_Strict):
    choices: list[int] | None = None
    low: int | None = None
    high: int | None = None
    log: bool = True


class _BudgetFile(_Strict):
    max_params: int
    min_params: int = 0


class _SpaceFile(_Strict):
    name: str = ""
    description: str = ""
    input_shape: list[int]
    M: Any = 10
    pool: Any = None
    schedules: list[list[Any]] | None = None
    channels: _ChannelsFile
    model: Literal["convnet", "convac"] = "convnet"
    kernel: int = 3
    in_channels: int = 1
    classes: int = 10
    budget: _BudgetFile


# -- error plumbing ------------------------------------------------------------------------------
class _Ctx:
    """The file being read and its line map, to turn a location into a one-line error."""

    def __init__(self, path: str | Path, lines: dict[Loc, int]) -> None:
        self.path, self.lines = path, lines

    def error(self, message: str, loc: Loc = (), key: str | None = None) -> InputError:
        """Error at ``loc``; with ``key``, at the line of that key inside the mapping at ``loc``."""
        line = self.lines.get((*loc, key, "__key__")) if key is not None else None
        probe = loc
        while line is None and probe is not None:
            line = self.lines.get(probe)
            probe = probe[:-1] if probe else None
        return InputError(message, self.path, field_name(loc), line)


_TYPE_WORDS = {
    "int_type": "expected an integer", "float_type": "expected a number", "string_type": "expected a string",
    "list_type": "expected a list", "dict_type": "expected a mapping", "model_type": "expected a mapping",
    "bool_type": "expected true or false",
}


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


def _real_loc(data: Any, loc: Loc) -> Loc:
    """Drop pydantic's union-member tags from ``loc``, keeping only steps that exist in ``data``."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            if isinstance(cur, dict) and isinstance(part, str) and not out[-1:] == [part]:
                out.append(part)  # a missing key: name it
            break
        out.append(part)
    return tuple(out)


def did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _validate(model: type[BaseModel], data: Any, ctx: _Ctx, loc: Loc = ()) -> Any:
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
            known = _model_at(model, parent)
            hint = did_you_mean(raw[-1], known.model_fields) if known else ""
            raise ctx.error(f"unknown key '{raw[-1]}'{hint}", (*loc, *parent), key=raw[-1]) from None
        if e["type"] == "missing":
            raise ctx.error(f"missing required key '{raw[-1]}'", (*loc, *_real_loc(data, raw[:-1]))) from None
        where = (*loc, *_real_loc(data, raw))
        word = _TYPE_WORDS.get(e["type"], e["msg"][0].lower() + e["msg"][1:])
        got = e.get("input")
        raise ctx.error(f"{word}, got {got!r}", where) from None


def _loc_of(field_path: str) -> Loc:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", field_path))


def _positive(value: int, ctx: _Ctx, loc: Loc, minimum: int = 1) -> None:
    if value < minimum:
        raise ctx.error(f"must be >= {minimum}, got {value}", loc)


def _shape(value: list[int], ctx: _Ctx, loc: Loc) -> tuple[int, ...]:
    if len(value) not in (1, 2) or any(v < 1 for v in value):
        raise ctx.error(f"expected [N] or [H, W] of positive sizes, got {value}", loc)
    return tuple(value)


def _window(pool: Any, ndim: int, ctx: _Ctx, loc: Loc) -> tuple[int, ...]:
    if isinstance(pool, bool):
        raise ctx.error(f"expected a window size, got {pool!r}", loc)
    if isinstance(pool, int):
        return (pool,) * ndim
    is_int = lambda p: isinstance(p, int) and not isinstance(p, bool)  # noqa: E731
    if isinstance(pool, list) and len(pool) == ndim and all(is_int(p) for p in pool):
        return tuple(pool)
    want = "an int" if ndim == 1 else "[h, w] (or one int for a square window)"
    raise ctx.error(f"expected {want} for a {ndim}D input, got {pool!r}", loc)


# -- layouts -------------------------------------------------------------------------------------
def _layout(f: _LayoutFile, ctx: _Ctx, loc: Loc = ()) -> Layout:
    shape = _shape(f.input_shape, ctx, (*loc, "input_shape"))
    layers = tuple(
        Layer(ly.channels, _window(ly.pool, len(shape), ctx, (*loc, "layers", i, "pool")))
        for i, ly in enumerate(f.layers)
    )
    try:
        return Layout(shape, f.M, layers, f.kernel, f.in_channels, f.classes)
    except LayoutError as exc:
        raise ctx.error(str(exc), (*loc, *_loc_of(exc.field))) from None


def layout_from_dict(data: Any, source: str = "<layout>") -> Layout:
    """A layout from its file form (a dict), validated."""
    ctx = _Ctx(source, {})
    return _layout(_validate(_LayoutFile, data, ctx), ctx)


def load_layout(path: str | Path) -> Layout:
    """Read and validate a layout file.

    Raises :class:`~archsearch.yamlio.InputError` naming the file, line and field on bad input.
    """
    data, lines = read_yaml(path)
    ctx = _Ctx(path, lines)
    return _layout(_validate(_LayoutFile, data, ctx), ctx)


# -- tasks ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Partition:
    """A named partition of the inputs with its weight; ``mask`` True = side A."""

    name: str
    weight: float
    mask: np.ndarray = field(repr=False)
    kind: str = "explicit"


@dataclass(frozen=True)
class DataSpec:
    """What a training search trains on (used by the trainer; validated here)."""

    source: str
    digit_size: int | None
    train: int
    test: int
    seed: int
    path: Path | None


@dataclass(frozen=True)
class Task:
    """Which input partitions a task needs correlations across, and how much each matters."""

    name: str
    description: str
    input_shape: tuple[int, ...]
    partitions: tuple[Partition, ...]
    data: DataSpec | None = None
    source: str = ""

    @property
    def masks(self) -> np.ndarray:
        return np.stack([p.mask for p in self.partitions])

    @property
    def weights(self) -> np.ndarray:
        return np.array([p.weight for p in self.partitions], dtype=float)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.partitions]


def _option_ok(value: Any, default: Any) -> bool:
    if default is None or default is parts.inspect.Parameter.empty:
        return isinstance(value, int | list) and not isinstance(value, bool)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, type(default)) and not isinstance(value, bool)


def _partition(p: _PartitionFile, shape: tuple[int, ...], ctx: _Ctx, loc: Loc) -> Partition:
    extras = dict(p.model_extra or {})
    if p.weight < 0:
        raise ctx.error(f"weight must be >= 0, got {p.weight}", (*loc, "weight"))
    if (p.kind is None) == (p.side_a is None):
        raise ctx.error("give either 'kind' (a family) or 'side_a' (flat indices), not both or neither", loc)
    try:
        if p.side_a is not None:
            if extras:
                key = next(iter(extras))
                raise ctx.error(f"unknown key '{key}' for an explicit partition", loc, key=key)
            return Partition(p.name, float(p.weight), parts.explicit(shape, p.side_a), "explicit")
        if p.kind not in parts.FAMILIES:
            hint = did_you_mean(p.kind, parts.FAMILIES)
            raise ctx.error(f"unknown partition kind '{p.kind}'{hint}", (*loc, "kind"))
        options = parts.family_options(p.kind)
        for key, value in extras.items():
            if key not in options:
                allowed = ", ".join(options) or "none"
                hint = did_you_mean(key, [*options, "name", "weight", "kind"])
                raise ctx.error(
                    f"unknown key '{key}' for kind '{p.kind}'{hint} (its options: {allowed})",
                    loc, key=key,
                )
            if not _option_ok(value, options[key].default):
                raise ctx.error(f"wrong type for option '{key}', got {value!r}", (*loc, key))
        mask = parts.family_mask(p.kind, shape, **extras)
    except parts.PartitionError as exc:
        raise ctx.error(str(exc), (*loc, exc.field) if exc.field else loc) from None
    return Partition(p.name, float(p.weight), mask, p.kind)


def _data(d: _DataFile, ctx: _Ctx, base: Path) -> DataSpec:
    loc: Loc = ("data",)
    for key in ("train", "test"):
        _positive(getattr(d, key), ctx, (*loc, key))
    if d.source in ("digits", "mnist"):
        if d.digit_size is None:
            raise ctx.error(f"missing required key 'digit_size' for source '{d.source}'", loc)
        _positive(d.digit_size, ctx, (*loc, "digit_size"), 2)
    path = None
    if d.source in ("mnist", "npz"):
        if d.path is None:
            raise ctx.error(f"missing required key 'path' for source '{d.source}'", loc)
        path = Path(d.path) if Path(d.path).is_absolute() else base / d.path
    return DataSpec(d.source, d.digit_size, d.train, d.test, d.seed, path)


def _task(f: _TaskFile, ctx: _Ctx, base: Path) -> Task:
    shape = _shape(f.input_shape, ctx, ("input_shape",))
    if not f.partitions:
        raise ctx.error("a task needs at least one partition", ("partitions",))
    seen: dict[str, int] = {}
    built = []
    for i, p in enumerate(f.partitions):
        if p.name in seen:
            raise ctx.error(f"duplicate partition name '{p.name}' (also partitions[{seen[p.name]}])",
                            ("partitions", i, "name"))
        seen[p.name] = i
        built.append(_partition(p, shape, ctx, ("partitions", i)))
    if sum(p.weight for p in built) <= 0:
        raise ctx.error("at least one partition needs a weight above 0", ("partitions",))
    if f.data is not None and f.data.digit_size is not None and f.data.digit_size > min(shape):
        raise ctx.error(f"digit_size {f.data.digit_size} does not fit the {list(shape)} canvas",
                        ("data", "digit_size"))
    data = _data(f.data, ctx, base) if f.data is not None else None
    return Task(f.name, f.description, shape, tuple(built), data, str(ctx.path))


def load_task(path: str | Path) -> Task:
    """Read and validate a task spec (errors name the file, line and field)."""
    data, lines = read_yaml(path)
    ctx = _Ctx(path, lines)
    return _task(_validate(_TaskFile, data, ctx), ctx, Path(path).parent)


# -- search spaces -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Space:
    """Where a search looks: pooling schedules, channel choices, M choices, model kind and budget."""

    name: str
    description: str
    input_shape: tuple[int, ...]
    M: tuple[int, ...]
    schedules: tuple[tuple[tuple[int, ...], ...], ...]
    channel_choices: tuple[int, ...] | None
    channel_range: tuple[int, int, bool] | None
    model: str
    kernel: int
    in_channels: int
    classes: int
    max_params: int
    min_params: int
    source: str = ""

    def layout(self, schedule: int, M: int, channels: list[int]) -> Layout:
        pools = self.schedules[schedule]
        layers = tuple(Layer(int(c), p) for c, p in zip(channels, pools, strict=True))
        return Layout(self.input_shape, M, layers, self.kernel, self.in_channels, self.classes)

    @property
    def min_channels(self) -> int:
        return min(self.channel_choices) if self.channel_choices else self.channel_range[0]

    @property
    def max_channels(self) -> int:
        return max(self.channel_choices) if self.channel_choices else self.channel_range[1]

    def fits(self, params: int) -> bool:
        return self.min_params <= params <= self.max_params

    def random_layouts(self, n: int, seed: int = 0) -> list[Layout]:
        """Up to ``n`` layouts drawn uniformly (log-uniformly for log ranges) from the space, within its
        budget (50 draws per layout at most: a tight budget may yield fewer)."""
        rng = np.random.default_rng(seed)
        out: list[Layout] = []
        for _ in range(50 * n):
            if len(out) == n:
                break
            sched = int(rng.integers(len(self.schedules)))
            m = int(rng.choice(self.M))
            depth = len(self.schedules[sched])
            if self.channel_choices is not None:
                ch = rng.choice(self.channel_choices, size=depth)
            else:
                low, high, log = self.channel_range
                ch = (np.exp(rng.uniform(np.log(low), np.log(high + 1), size=depth)).astype(int).clip(low, high)
                      if log else rng.integers(low, high + 1, size=depth))
            lay = self.layout(sched, m, [int(c) for c in ch])
            if self.fits(lay.param_count()):
                out.append(lay)
        return out


def _repeat_pool(window: tuple[int, ...], shape: tuple[int, ...], ctx: _Ctx) -> tuple[tuple[int, ...], ...]:
    grid, out = shape, []
    while any(g > 1 for g in grid):
        if any(w < 2 or g % w for g, w in zip(grid, window, strict=True)):
            raise ctx.error(
                f"pooling windows must tile the input: {list(window)} repeated does not reach 1 from "
                f"a {'x'.join(map(str, grid))} grid", ("pool",))
        grid = tuple(g // w for g, w in zip(grid, window, strict=True))
        out.append(window)
    return tuple(out)


def _space(f: _SpaceFile, ctx: _Ctx) -> Space:
    shape = _shape(f.input_shape, ctx, ("input_shape",))
    if (f.pool is None) == (f.schedules is None):
        raise ctx.error("give either 'pool' (one window, repeated to a global pool) or 'schedules'", ())
    if f.pool is not None:
        schedules = (_repeat_pool(_window(f.pool, len(shape), ctx, ("pool",)), shape, ctx),)
    else:
        if not f.schedules:
            raise ctx.error("needs at least one schedule", ("schedules",))
        schedules = tuple(
            tuple(_window(w, len(shape), ctx, ("schedules", i, j)) for j, w in enumerate(s))
            for i, s in enumerate(f.schedules)
        )
    ms = f.M if isinstance(f.M, list) else [f.M]
    if not ms or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in ms):
        raise ctx.error(f"expected a positive int or a list of them, got {f.M!r}", ("M",))
    for key in ("kernel", "in_channels", "classes"):
        _positive(getattr(f, key), ctx, (key,))
    ch = f.channels
    choices, rng = None, None
    if ch.choices is not None:
        if ch.low is not None or ch.high is not None:
            raise ctx.error("give either 'choices' or 'low'/'high', not both", ("channels",))
        if not ch.choices or any(c < 1 for c in ch.choices):
            raise ctx.error(f"choices must be a non-empty list of positive ints, got {ch.choices}",
                            ("channels", "choices"))
        choices = tuple(sorted(set(ch.choices)))
    else:
        if ch.low is None or ch.high is None:
            raise ctx.error("give 'choices: [...]' or both 'low' and 'high'", ("channels",))
        _positive(ch.low, ctx, ("channels", "low"))
        if ch.high < ch.low:
            raise ctx.error(f"low <= high must hold, got low={ch.low}, high={ch.high}", ("channels", "high"))
        rng = (ch.low, ch.high, ch.log)
    b = f.budget
    _positive(b.max_params, ctx, ("budget", "max_params"))
    _positive(b.min_params, ctx, ("budget", "min_params"), 0)
    if b.min_params > b.max_params:
        raise ctx.error(f"min_params <= max_params must hold, got min_params={b.min_params}, "
                        f"max_params={b.max_params}", ("budget", "min_params"))
    space = Space(f.name, f.description, shape, tuple(ms), schedules, choices, rng, f.model, f.kernel,
                  f.in_channels, f.classes, b.max_params, b.min_params, str(ctx.path))
    for i, sched in enumerate(schedules):
        loc: Loc = ("schedules", i) if f.schedules is not None else ("pool",)
        try:
            smallest = min(space.layout(i, m, [space.min_channels] * len(sched)).param_count() for m in ms)
        except LayoutError as exc:
            raise ctx.error(str(exc), loc) from None
        if smallest > b.max_params and len(schedules) == 1:
            raise ctx.error(f"no layout fits the budget: the smallest has {smallest} parameters, over "
                            f"max_params={b.max_params}", ("budget", "max_params"))
    return space


def load_space(path: str | Path) -> Space:
    """Read and validate a search-space file."""
    data, lines = read_yaml(path)
    ctx = _Ctx(path, lines)
    return _space(_validate(_SpaceFile, data, ctx), ctx)


def load_any(path: str | Path) -> Task | Space | Layout:
    """Validate a task, space or layout file, telling which by its keys (``archsearch check``)."""
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise InputError(f"expected a mapping of keys, got {got}", path)
    keys = [str(k) for k in data]

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
