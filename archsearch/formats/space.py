"""Search spaces: pooling schedules, channel and M choices, the model kind and the parameter budget."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from archsearch.core.layout import MAX_CHANNELS, MAX_LAYERS, MAX_M, Layer, Layout, LayoutError
from archsearch.formats.validate import Ctx, Strict, check_name, is_int, shape, validate, window
from archsearch.formats.yamlio import read_yaml

__all__ = ["MAX_PARAMS", "Space", "load_space"]

#: largest parameter budget
MAX_PARAMS = 10**10

Channels = Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
Params = Annotated[int, Field(ge=0, le=MAX_PARAMS)]


class ChannelsFile(Strict):
    choices: Annotated[list[Channels], Field(min_length=1, max_length=1000)] | None = None
    low: Channels | None = None
    high: Channels | None = None
    log: bool = True


class BudgetFile(Strict):
    max_params: Annotated[int, Field(ge=1, le=MAX_PARAMS)]
    min_params: Params = 0


class SpaceFile(Strict):
    name: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""
    input_shape: list[int]
    M: Any = 10
    pool: Any = None
    schedules: Annotated[list[Annotated[list[Any], Field(max_length=MAX_LAYERS)]], Field(max_length=64)] | None = None
    channels: ChannelsFile
    model: Literal["convnet", "convac"] = "convnet"
    kernel: int = 3
    in_channels: int = 1
    classes: int = 10
    budget: BudgetFile


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

    def layout_of(self, entry: Any) -> Layout:
        """The layout of a table's entry or row (its ``schedule``, ``M`` and ``channels``)."""
        return self.layout(entry.schedule, entry.M, entry.channels)

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


def _repeat_pool(win: tuple[int, ...], grid: tuple[int, ...], ctx: Ctx) -> tuple[tuple[int, ...], ...]:
    out = []
    while any(g > 1 for g in grid):
        if any(w < 2 or g % w for g, w in zip(grid, win, strict=True)):
            raise ctx.error(
                f"pooling windows must tile the input: {list(win)} repeated does not reach 1 from "
                f"a {'x'.join(map(str, grid))} grid", ("pool",))
        grid = tuple(g // w for g, w in zip(grid, win, strict=True))
        out.append(win)
    return tuple(out)


def _check_budget(space: Space, ctx: Ctx, per_schedule: bool) -> None:
    """Every schedule must hold a layout within [min_params, max_params] as far as its extremes tell
    (parameter count grows with every channel count and with M): else a search could only ever
    propose layouts it must reject."""
    for i, sched in enumerate(space.schedules):
        loc = ("schedules", i) if per_schedule else ("pool",)
        try:
            small = min(space.layout(i, m, [space.min_channels] * len(sched)).param_count() for m in space.M)
            large = max(space.layout(i, m, [space.max_channels] * len(sched)).param_count() for m in space.M)
        except LayoutError as exc:
            raise ctx.error(str(exc), loc) from None
        which = f" (schedule {i})" if per_schedule else ""
        if small > space.max_params:
            raise ctx.error(f"no layout fits the budget{which}: the smallest has {small} parameters, over "
                            f"max_params={space.max_params}", ("budget", "max_params"))
        if large < space.min_params:
            raise ctx.error(f"no layout fits the budget{which}: the largest has {large} parameters, under "
                            f"min_params={space.min_params}", ("budget", "min_params"))


def build_space(f: SpaceFile, ctx: Ctx) -> Space:
    grid = shape(f.input_shape, ctx, ("input_shape",))
    if f.name:
        check_name(f.name, "a space name", ctx.path, "name")
    if (f.pool is None) == (f.schedules is None):
        raise ctx.error("give either 'pool' (one window, repeated to a global pool) or 'schedules'", ())
    if f.pool is not None:
        schedules = (_repeat_pool(window(f.pool, len(grid), ctx, ("pool",)), grid, ctx),)
    else:
        if not f.schedules:
            raise ctx.error("needs at least one schedule", ("schedules",))
        schedules = tuple(
            tuple(window(w, len(grid), ctx, ("schedules", i, j)) for j, w in enumerate(s))
            for i, s in enumerate(f.schedules)
        )
    ms = f.M if isinstance(f.M, list) else [f.M]
    if not ms or len(ms) > 1000 or not all(is_int(m) and 1 <= m <= MAX_M for m in ms):
        raise ctx.error(f"expected an int in 1..{MAX_M} or a list of them, got {f.M!r}"[:200], ("M",))
    ch = f.channels
    choices, rng = None, None
    if ch.choices is not None:
        if ch.low is not None or ch.high is not None:
            raise ctx.error("give either 'choices' or 'low'/'high', not both", ("channels",))
        choices = tuple(sorted(set(ch.choices)))
    else:
        if ch.low is None or ch.high is None:
            raise ctx.error("give 'choices: [...]' or both 'low' and 'high'", ("channels",))
        if ch.high < ch.low:
            raise ctx.error(f"low <= high must hold, got low={ch.low}, high={ch.high}", ("channels", "high"))
        rng = (ch.low, ch.high, ch.log)
    b = f.budget
    if b.min_params > b.max_params:
        raise ctx.error(f"min_params <= max_params must hold, got min_params={b.min_params}, "
                        f"max_params={b.max_params}", ("budget", "min_params"))
    try:  # kernel, in_channels, classes: the layout's own checks, on the smallest layout of schedule 0
        Layout(grid, ms[0], tuple(Layer(1, p) for p in schedules[0]), f.kernel, f.in_channels, f.classes)
    except LayoutError as exc:
        field = exc.field if exc.field in ("kernel", "in_channels", "classes") else None
        if field:
            raise ctx.error(str(exc), (field,)) from None
    space = Space(f.name, f.description, grid, tuple(ms), schedules, choices, rng, f.model, f.kernel,
                  f.in_channels, f.classes, b.max_params, b.min_params, str(ctx.path))
    _check_budget(space, ctx, per_schedule=f.schedules is not None)
    return space


def load_space(path: str | Path, text: str | None = None) -> Space:
    """Read and validate a search-space file (``text``: its content, when it comes from elsewhere). A block
    space (``kind: blocks``) is refused in one line: searches and scores take layer spaces; block spaces
    are read by the benchmark tables (:func:`~archsearch.formats.task_space.load_task_space`)."""
    data, lines = read_yaml(path, text)
    ctx = Ctx(path, lines)
    if isinstance(data, dict) and data.get("kind") == "blocks":
        raise ctx.error("a block space (kind: blocks): searching and scoring take layer spaces so far; block "
                        "spaces are read by `bench import` and `bench eval`", ("kind",))
    return build_space(validate(SpaceFile, data, ctx), ctx)
