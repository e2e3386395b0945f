"""Task specs: which input partitions need correlations, how much each matters, and what to train on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from archsearch.core import partitions as parts
from archsearch.core.layout import MAX_INPUTS
from archsearch.formats.validate import (
    MAX_SEED,
    Count,
    Ctx,
    Name,
    Seed,
    Strict,
    did_you_mean,
    is_int,
    load_with,
    shape,
)

__all__ = ["MAX_DATA_VALUES", "DataSpec", "Partition", "Task", "load_task"]

#: most pixel values a data set may hold, its three splits together (4 GiB as float32)
MAX_DATA_VALUES = 1 << 30

Weight = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
#: a need in bits (log2 separation rank); 4096 bits is far above any cut a layout within the limits has
Need = Annotated[float, Field(ge=0, le=4096, allow_inf_nan=False)]


class PartitionFile(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    name: Annotated[str, Field(min_length=1, max_length=100)]
    weight: Weight = 1.0
    need: Need | None = None
    kind: str | None = None
    side_a: Annotated[list[int], Field(max_length=MAX_INPUTS)] | None = None


class DataFile(Strict):
    source: Literal["digits", "mnist", "npz", "mnist1d"]
    digit_size: int | None = None
    train: Count = 8000
    val: Count = 2000
    test: Count = 2000
    seed: Seed = 0
    path: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    scramble: Seed | None = None  #: mnist1d: permute the sequence positions by this seed's fixed permutation


class TaskFile(Strict):
    name: Name
    description: Annotated[str, Field(max_length=10_000)] = ""
    input_shape: list[int]
    partitions: Annotated[list[PartitionFile], Field(max_length=10_000)]
    data: DataFile | None = None


@dataclass(frozen=True)
class Partition:
    """A named partition of the inputs with its weight and, optionally, the correlation it needs (bits:
    the log2 separation rank); ``mask`` True = side A; ``level`` for canonical partitions."""

    name: str
    weight: float
    mask: np.ndarray = field(repr=False)
    kind: str = "explicit"
    need: float | None = None
    level: int | None = None


@dataclass(frozen=True)
class DataSpec:
    """What a training search trains on (used by the trainer; validated here): how many images each of
    the three splits holds (train, validation for ranking and selection, test for reporting)."""

    source: str
    digit_size: int | None
    train: int
    test: int
    seed: int
    path: Path | None
    val: int = 2000
    scramble: int | None = None


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

    @property
    def needs(self) -> np.ndarray:
        """Declared needs in bits, NaN where a partition states none."""
        return np.array([np.nan if p.need is None else p.need for p in self.partitions], dtype=float)

    @property
    def states_canonical(self) -> bool:
        """Whether the task lists canonical partitions itself (then the prior adds no floor of its own)."""
        return any(p.kind == "canonical" for p in self.partitions)


def _option(key: str, value: Any, grid: tuple[int, ...], ctx: Ctx, loc: tuple) -> None:
    """Type and range of a family option, checked before the family builds anything."""
    side = max(grid)
    if key in ("width", "size") and is_int(value):
        if not 1 <= value <= side:
            raise ctx.error(f"must lie in 1..{side} on the {list(grid)} input, got {value}", (*loc, key))
        return
    if key == "size" and isinstance(value, list):
        if len(value) != len(grid) or not all(is_int(v) and 1 <= v <= g for v, g in zip(value, grid, strict=False)):
            want = "[n]" if len(grid) == 1 else "[h, w]"
            raise ctx.error(f"expected an int or {want} of sizes within the {list(grid)} input, got {value!r}",
                            (*loc, key))
        return
    if key == "seed" and is_int(value):
        if not 0 <= value <= MAX_SEED:
            raise ctx.error(f"must lie in 0..{MAX_SEED}, got {value}", (*loc, key))
        return
    if key == "fraction" and isinstance(value, int | float) and not isinstance(value, bool):
        return  # the family checks 0 < fraction < 1
    if key == "which" and isinstance(value, str):
        return
    if key == "level" and (value == "all" or is_int(value)):
        return  # the family checks that the level exists on this grid
    if key == "pool" and (is_int(value) or (isinstance(value, list) and len(value) == len(grid)
                                             and all(is_int(v) for v in value))):
        if not all(1 <= v <= side for v in ([value] if is_int(value) else value)):
            raise ctx.error(f"must lie in 1..{side} on the {list(grid)} input, got {value}", (*loc, key))
        return
    raise ctx.error(f"wrong type for option '{key}', got {value!r}", (*loc, key))


def _partition(p: PartitionFile, grid: tuple[int, ...], ctx: Ctx, loc: tuple) -> list[Partition]:
    """The partition an entry states; ``kind: canonical, level: all`` states one per level."""
    extras = dict(p.model_extra or {})
    if (p.kind is None) == (p.side_a is None):
        raise ctx.error("give either 'kind' (a family) or 'side_a' (flat indices), not both or neither", loc)
    try:
        if p.side_a is not None:
            if extras:
                key = next(iter(extras))
                raise ctx.error(f"unknown key '{key}' for an explicit partition", loc, key=key)
            return [Partition(p.name, float(p.weight), parts.explicit(grid, p.side_a), "explicit", p.need)]
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
            _option(key, value, grid, ctx, loc)
        if p.kind == "canonical":
            pool = extras.get("pool", 2)
            levels = parts.canonical_levels(grid, pool) if extras.get("level") == "all" else [extras.get("level", 1)]
            if not levels:
                raise parts.PartitionError(f"pooling by {pool} on {list(grid)} has no canonical level", "pool")
            named = [(p.name if len(levels) == 1 else f"{p.name}-{k}", k) for k in levels]
            return [Partition(name, float(p.weight), parts.family_mask("canonical", grid, level=k, pool=pool),
                              "canonical", p.need, k) for name, k in named]
        mask = parts.family_mask(p.kind, grid, **extras)
    except parts.PartitionError as exc:
        raise ctx.error(str(exc), (*loc, exc.field) if exc.field else loc) from None
    return [Partition(p.name, float(p.weight), mask, p.kind, p.need)]


def _data(d: DataFile, grid: tuple[int, ...], ctx: Ctx, base: Path) -> DataSpec:
    loc: tuple = ("data",)
    images = d.train + d.val + d.test
    if images * math.prod(grid) > MAX_DATA_VALUES:
        raise ctx.error(f"train + val + test = {images} images of {math.prod(grid)} inputs would hold "
                        f"{images * math.prod(grid)} values, over the limit of {MAX_DATA_VALUES}", (*loc, "train"))
    if d.source in ("digits", "mnist"):
        if d.digit_size is None:
            raise ctx.error(f"missing required key 'digit_size' for source '{d.source}'", loc)
        if len(grid) != 2:
            raise ctx.error(f"source '{d.source}' needs a 2D input, got {list(grid)}", (*loc, "source"))
        if not 2 <= d.digit_size <= min(grid):
            raise ctx.error(f"digit_size {d.digit_size} does not fit the {list(grid)} canvas (2..{min(grid)})",
                            (*loc, "digit_size"))
    if d.source == "mnist1d":
        if len(grid) != 1 or not 8 <= grid[0] <= 512:
            raise ctx.error(f"source 'mnist1d' needs a 1D input of length 8..512, got {list(grid)}",
                            (*loc, "source"))
        if d.digit_size is not None or d.path is not None:
            raise ctx.error("source 'mnist1d' takes neither 'digit_size' nor 'path'", loc)
    elif d.scramble is not None:
        raise ctx.error(f"'scramble' goes with source 'mnist1d', not '{d.source}'", (*loc, "scramble"))
    path = None
    if d.source in ("mnist", "npz"):
        if d.path is None:
            raise ctx.error(f"missing required key 'path' for source '{d.source}'", loc)
        path = Path(d.path) if Path(d.path).is_absolute() else base / d.path
    return DataSpec(d.source, d.digit_size, d.train, d.test, d.seed, path, d.val, d.scramble)


def build_task(f: TaskFile, ctx: Ctx, base: Path) -> Task:
    grid = shape(f.input_shape, ctx, ("input_shape",))
    if not f.partitions:
        raise ctx.error("a task needs at least one partition", ("partitions",))
    seen: dict[str, int] = {}
    built: list[Partition] = []
    for i, p in enumerate(f.partitions):
        for one in _partition(p, grid, ctx, ("partitions", i)):
            if one.name in seen:
                raise ctx.error(f"duplicate partition name '{one.name}' (also partitions[{seen[one.name]}])",
                                ("partitions", i, "name"))
            seen[one.name] = i
            built.append(one)
    if sum(p.weight for p in built) <= 0:
        raise ctx.error("at least one partition needs a weight above 0", ("partitions",))
    data = _data(f.data, grid, ctx, base) if f.data is not None else None
    return Task(f.name, f.description, grid, tuple(built), data, str(ctx.path))


def load_task(path: str | Path, text: str | None = None) -> Task:
    """Read and validate a task spec (errors name the file, line and field); ``text``: its content, when
    it comes from elsewhere than the file (a study's stored copy: data paths still resolve beside ``path``)."""
    f, ctx = load_with(path, TaskFile, text)
    return build_task(f, ctx, Path(path).parent)

