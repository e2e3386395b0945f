"""Block-structured layouts and spaces as files (``kind: blocks``): YAML -> :class:`~archsearch.core.blocks.BlockLayout`
and :class:`BlockSpace`, validated like every other file (one line naming the file, line and field).

A block layout file::

    kind: blocks
    input_shape: [32, 32]
    in_channels: 3
    classes: 10
    blocks:
      - {kind: conv, kernel: 3, stride: 2, width: 128}
      - {kind: inverted-residual, kernel: 3, inner: 768, width: 128}
      - {kind: basic, kernel: 3, stride: 2, inner: 256, width: 256, shortcut: projection}

A block space names the widths a search chooses (``widths``: a slot name and its choices) and uses the
names where a layout file has numbers; a layout of the space is one choice per slot, in the slots' order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from archsearch.core.blocks import Block, BlockLayout
from archsearch.core.layout import MAX_CHANNELS
from archsearch.formats.validate import Ctx, Strict, load_with, shape, validate

__all__ = ["BlockSpace", "block_layout_from_dict", "is_blocks_file", "load_block_layout", "load_block_space"]

#: most blocks in one layout, and most width slots in one space
MAX_BLOCKS, MAX_SLOTS = 256, 64
Width = Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
Side = Annotated[int, Field(ge=1, le=31)]
SlotName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")]


class BlockFile(Strict):
    kind: Literal["conv", "basic", "inverted-residual"]
    width: Width | SlotName
    kernel: Side = 3
    stride: Annotated[int, Field(ge=1, le=8)] = 1
    inner: Width | SlotName | None = None
    shortcut: Literal["auto", "identity", "projection", "none"] = "auto"


class BlockLayoutFile(Strict):
    kind: Literal["blocks"]
    name: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""
    input_shape: list[int]
    in_channels: Annotated[int, Field(ge=1, le=64)] = 3
    classes: Annotated[int, Field(ge=2, le=100_000)] = 10
    blocks: Annotated[list[BlockFile], Field(min_length=1, max_length=MAX_BLOCKS)]


class BlockSpaceFile(BlockLayoutFile):
    widths: Annotated[dict[SlotName, Annotated[list[Width], Field(min_length=1, max_length=64)]],
                      Field(min_length=1, max_length=MAX_SLOTS)]
    model: Literal["blocks"] = "blocks"


def _blocks(f: BlockLayoutFile, ctx: Ctx, slots: dict[str, int] | None = None) -> BlockLayout:
    """The layout of a validated file; slot names replaced by ``slots`` (a space's choice)."""
    grid = shape(f.input_shape, ctx, ("input_shape",))
    if len(grid) != 2:
        raise ctx.error(f"a block layout takes a 2D input [H, W], got {list(grid)}", ("input_shape",))
    blocks = []
    for i, b in enumerate(f.blocks):
        values = {}
        for key in ("width", "inner"):
            v = getattr(b, key)
            if isinstance(v, str):
                if slots is None:
                    raise ctx.error(f"'{v}' names a width slot: only a space's blocks may (give a number)",
                                    ("blocks", i, key))
                if v not in slots:
                    raise ctx.error(f"no width slot '{v}' (the space's: {', '.join(slots)})", ("blocks", i, key))
                v = slots[v]
            values[key] = v
        try:
            blocks.append(Block(b.kind, values["width"], b.kernel, b.stride, values["inner"], b.shortcut))
        except ValueError as exc:
            raise ctx.error(str(exc).replace("Block(", "(").split(", got")[0], ("blocks", i)) from None
    try:
        return BlockLayout(grid, tuple(blocks), f.in_channels, f.classes)
    except ValueError as exc:
        raise ctx.error(str(exc), ("blocks",)) from None


def is_blocks_file(data: Any) -> bool:
    """Whether a file's mapping declares ``kind: blocks``."""
    return isinstance(data, dict) and data.get("kind") == "blocks"


def block_layout_from_dict(data: Any, source: str = "<layout>") -> BlockLayout:
    """A block layout from its file form (a dict), validated like a file (``source`` names it in errors)."""
    ctx = Ctx(source, {})
    return _blocks(validate(BlockLayoutFile, data, ctx), ctx)


def load_block_layout(path: str | Path, text: str | None = None) -> BlockLayout:
    """Read and validate a block layout file (one :class:`~archsearch.errors.InputError` otherwise)."""
    f, ctx = load_with(path, BlockLayoutFile, text)
    return _blocks(f, ctx)


@dataclass(frozen=True)
class BlockSpace:
    """A space of block layouts: one skeleton, a choice of width per slot. ``layout(widths)`` builds one
    (widths in the slots' order); ``max_params`` is the largest layout's size (the space's whole range is
    the band: a table of it is complete)."""

    name: str
    description: str
    input_shape: tuple[int, int]
    slots: dict[str, tuple[int, ...]]
    skeleton: Any  #: the validated file (its blocks name the slots)
    in_channels: int
    classes: int
    source: str = ""
    model: str = "blocks"

    @property
    def size(self) -> int:
        return math.prod(len(c) for c in self.slots.values())

    @property
    def schedules(self) -> tuple:
        return ()

    def layout(self, widths: list[int] | tuple[int, ...]) -> BlockLayout:
        if len(widths) != len(self.slots):
            raise ValueError(f"{len(widths)} widths for a space of {len(self.slots)} slots")
        return _blocks(self.skeleton, Ctx(self.source, {}), dict(zip(self.slots, map(int, widths), strict=True)))

    def layout_of(self, entry: Any) -> BlockLayout:
        """The layout of a table's entry or row (its ``channels`` are the slots' widths)."""
        return self.layout(entry.channels)

    def holds(self, widths: list[int]) -> bool:
        return len(widths) == len(self.slots) and all(w in c for w, c in zip(widths, self.slots.values(),
                                                                               strict=True))

    def all_widths(self) -> Iterator[tuple[int, ...]]:
        """Every choice of widths, the first slot slowest."""
        return itertools.product(*self.slots.values())

    @property
    def max_params(self) -> int:
        return self.layout([max(c) for c in self.slots.values()]).param_count()


def load_block_space(path: str | Path, text: str | None = None) -> BlockSpace:
    """Read and validate a block space file: every block's slots exist, and its smallest and largest
    layouts build (one :class:`~archsearch.errors.InputError` otherwise)."""
    f, ctx = load_with(path, BlockSpaceFile, text)
    slots = {k: tuple(v) for k, v in f.widths.items()}
    for pick in (min, max):  # every slot a block names exists, and the extremes build
        _blocks(f, ctx, {k: pick(v) for k, v in slots.items()})
    used = {getattr(b, key) for b in f.blocks for key in ("width", "inner") if isinstance(getattr(b, key), str)}
    unused = [k for k in slots if k not in used]
    if unused:
        raise ctx.error(f"width slot '{unused[0]}' is used by no block", ("widths", unused[0]))
    return BlockSpace(f.name or Path(path).stem, f.description, tuple(f.input_shape), slots, f, f.in_channels,
                      f.classes, str(path))

