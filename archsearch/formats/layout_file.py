"""Layout files (what ``archsearch score`` reads and ``export`` writes): YAML -> :class:`Layout`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from archsearch.core.layout import MAX_LAYERS, Layer, Layout, LayoutError
from archsearch.formats.validate import Ctx, Strict, loc_of, shape, validate, window
from archsearch.formats.yamlio import read_yaml

__all__ = ["layout_from_dict", "load_layout"]


class LayerFile(Strict):
    channels: int
    pool: Any


class LayoutFile(Strict):
    input_shape: list[int]
    M: int
    layers: Annotated[list[LayerFile], Field(max_length=MAX_LAYERS)]
    kernel: int = 3
    in_channels: int = 1
    classes: int = 10


def build_layout(f: LayoutFile, ctx: Ctx, loc: tuple = ()) -> Layout:
    """The :class:`Layout` of a validated file; the layout's own checks become one-line errors."""
    grid = shape(f.input_shape, ctx, (*loc, "input_shape"))
    layers = tuple(
        Layer(ly.channels, window(ly.pool, len(grid), ctx, (*loc, "layers", i, "pool")))
        for i, ly in enumerate(f.layers)
    )
    try:
        return Layout(grid, f.M, layers, f.kernel, f.in_channels, f.classes)
    except LayoutError as exc:
        raise ctx.error(str(exc), (*loc, *loc_of(exc.field))) from None


def layout_from_dict(data: Any, source: str = "<layout>") -> Layout:
    """A layout from its file form (a dict), validated like a file (``source`` names it in errors)."""
    ctx = Ctx(source, {})
    return build_layout(validate(LayoutFile, data, ctx), ctx)


def load_layout(path: str | Path) -> Layout:
    """Read and validate a layout file.

    Raises :class:`~archsearch.formats.yamlio.InputError` naming the file, line and field on bad input.
    """
    data, lines = read_yaml(path)
    ctx = Ctx(path, lines)
    return build_layout(validate(LayoutFile, data, ctx), ctx)
