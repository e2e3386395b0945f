"""Channel layouts: the architecture that the prior scores and the trainer builds.

A layout fixes the input grid (1D ``[N]`` or 2D ``[H, W]``), the number ``M`` of representation
channels, and for each hidden layer its channel count and pooling window. Windows may differ per layer
but must tile the grid exactly, so that the last pooling is global (DESIGN.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_CHANNELS", "MAX_CLASSES", "MAX_INPUTS", "MAX_KERNEL", "MAX_LAYERS", "MAX_M", "Layer", "Layout",
    "LayoutError", "mac_count", "paper_pair", "param_count",
]

# Largest sizes a layout may have: far above anything these tiny networks train at, low enough that
# no check, mask or tensor built from a layout can ask for an absurd allocation.
MAX_INPUTS = 1 << 16  #: inputs on the grid (256 x 256)
MAX_CHANNELS = 4096  #: channels of one hidden layer
MAX_M = 1024  #: representation channels
MAX_LAYERS = 32  #: hidden layers
MAX_KERNEL = 31  #: representation kernel side
MAX_CLASSES = 10_000  #: outputs


class LayoutError(ValueError):
    """A layout that cannot exist; ``field`` names where (``layers[2].pool``)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _shape_str(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


@dataclass(frozen=True)
class Layer:
    """One hidden layer: a 1x1 conv to ``channels`` channels, then product (or max) pooling."""

    channels: int
    pool: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """A ConvAC / ConvNet architecture on a 1D or 2D input grid.

    ``kernel``, ``in_channels`` and ``classes`` only matter for training and the parameter count: the
    tensor network sees the representation layer only through ``M``.

    Examples
    --------
    >>> lay = Layout.uniform((8,), M=2, channels=4, pools=[2, 2, 2])
    >>> lay.channels, lay.grids()
    ((4, 4, 4), [(8,), (4,), (2,), (1,)])
    """

    input_shape: tuple[int, ...]
    M: int
    layers: tuple[Layer, ...]
    kernel: int = 3
    in_channels: int = 1
    classes: int = 10
    _grids: list[tuple[int, ...]] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.input_shape)
        object.__setattr__(self, "input_shape", shape)
        if len(shape) not in (1, 2):
            raise LayoutError(f"input_shape must be [N] or [H, W], got {list(shape)}", "input_shape")
        if any(s < 1 for s in shape):
            raise LayoutError(f"input_shape must be positive, got {list(shape)}", "input_shape")
        if math.prod(shape) > MAX_INPUTS:
            raise LayoutError(f"input_shape {list(shape)} has {math.prod(shape)} inputs, over the limit of "
                              f"{MAX_INPUTS}", "input_shape")
        limits = {"M": MAX_M, "kernel": MAX_KERNEL, "in_channels": MAX_CHANNELS, "classes": MAX_CLASSES}
        for name, most in limits.items():
            if not 1 <= int(getattr(self, name)) <= most:
                raise LayoutError(f"{name} must lie in 1..{most}, got {getattr(self, name)}", name)
        if self.kernel % 2 == 0:
            raise LayoutError(f"kernel must be odd (same padding), got {self.kernel}", "kernel")
        if not self.layers:
            raise LayoutError("a layout needs at least one hidden layer", "layers")
        if len(self.layers) > MAX_LAYERS:
            raise LayoutError(f"{len(self.layers)} hidden layers, over the limit of {MAX_LAYERS}", "layers")
        grid = shape
        grids = [grid]
        for i, layer in enumerate(self.layers):
            if not 1 <= layer.channels <= MAX_CHANNELS:
                raise LayoutError(
                    f"layer {i + 1} has {layer.channels} channels; channels must lie in 1..{MAX_CHANNELS}",
                    f"layers[{i}].channels",
                )
            if len(layer.pool) != len(shape) or any(w < 1 for w in layer.pool):
                raise LayoutError(
                    f"layer {i + 1} pools {list(layer.pool)}: a {len(shape)}D input needs "
                    f"{'an int' if len(shape) == 1 else '[h, w]'} of positive sizes",
                    f"layers[{i}].pool",
                )
            if any(g % w for g, w in zip(grid, layer.pool, strict=True)):
                raise LayoutError(
                    f"pooling windows must tile the input: layer {i + 1} pools {list(layer.pool)} "
                    f"over a {_shape_str(grid)} grid",
                    f"layers[{i}].pool",
                )
            grid = tuple(g // w for g, w in zip(grid, layer.pool, strict=True))
            grids.append(grid)
        if any(g != 1 for g in grid):
            raise LayoutError(
                f"the last pooling must be global: after layer {len(self.layers)} the grid is "
                f"{_shape_str(grid)}, not {_shape_str((1,) * len(shape))}",
                f"layers[{len(self.layers) - 1}].pool",
            )
        object.__setattr__(self, "_grids", grids)

    # -- derived views -------------------------------------------------------------------------
    @property
    def channels(self) -> tuple[int, ...]:
        """Channel counts r_0..r_{L-1} of the hidden layers."""
        return tuple(layer.channels for layer in self.layers)

    @property
    def pools(self) -> tuple[tuple[int, ...], ...]:
        return tuple(layer.pool for layer in self.layers)

    @property
    def n_inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def depth(self) -> int:
        return len(self.layers)

    def grids(self) -> list[tuple[int, ...]]:
        """Grid shape before each layer's pooling, then the final 1x..x1 grid."""
        return list(self._grids)

    def with_channels(self, channels: list[int] | tuple[int, ...]) -> Layout:
        """The same pooling schedule with other channel counts."""
        if len(channels) != self.depth:
            raise LayoutError(f"expected {self.depth} channel counts, got {len(channels)}", "layers")
        layers = tuple(Layer(int(c), ly.pool) for c, ly in zip(channels, self.layers, strict=True))
        return Layout(self.input_shape, self.M, layers, self.kernel, self.in_channels, self.classes)

    @classmethod
    def uniform(
        cls, input_shape: tuple[int, ...], M: int, channels: int, pools: list[Any], **kw: int
    ) -> Layout:
        """Every hidden layer with the same channel count; ``pools`` as in a layout file."""
        layers = tuple(Layer(channels, _as_window(p, len(input_shape))) for p in pools)
        return cls(tuple(input_shape), M, layers, **kw)

    def param_count(self) -> int:
        return param_count(self)

    def mac_count(self) -> int:
        return mac_count(self)

    def to_dict(self) -> dict[str, Any]:
        """The layout-file form (what :func:`archsearch.load_layout` reads)."""
        one_d = len(self.input_shape) == 1
        return {
            "input_shape": list(self.input_shape),
            "M": self.M,
            "kernel": self.kernel,
            "in_channels": self.in_channels,
            "classes": self.classes,
            "layers": [
                {"channels": ly.channels, "pool": ly.pool[0] if one_d else list(ly.pool)}
                for ly in self.layers
            ],
        }

    def describe(self) -> str:
        """Compact text: ``[10; 32, 32, 16 | pools 2x2 x6]``."""
        pools = {ly.pool for ly in self.layers}
        pool_txt = (
            f"pools {_shape_str(next(iter(pools)))} x{self.depth}"
            if len(pools) == 1
            else "pools " + ",".join(_shape_str(p) for p in self.pools)
        )
        return f"[{self.M}; {', '.join(map(str, self.channels))} | {pool_txt}]"


def _as_window(pool: Any, ndim: int) -> tuple[int, ...]:
    if isinstance(pool, int):
        return (pool,) * 1 if ndim == 1 else (pool, pool)
    return tuple(int(p) for p in pool)


def param_count(layout: Layout) -> int:
    """Trainable parameters of the model built from ``layout`` (``archsearch.build_model``).

    Representation conv (k*k*in*M weights + M biases), per hidden layer a bias-free 1x1 conv
    (r_{l-1}*r_l) and a per-channel scale and shift (2*r_l, the BatchNorm affine), then the dense
    classifier (r_{L-1}*Y + Y). Only the 1x1 convs and the classifier differ between layouts of one
    schedule; summed they give the paper's 31r^2 + 50r for its wide-base and wide-tip layouts.

    Examples
    --------
    >>> param_count(Layout.uniform((4,), M=2, channels=3, pools=[4], kernel=1))
    56
    """
    k2 = layout.kernel ** len(layout.input_shape)
    total = k2 * layout.in_channels * layout.M + layout.M
    prev = layout.M
    for r in layout.channels:
        total += prev * r + 2 * r
        prev = r
    total += prev * layout.classes + layout.classes
    return total


def mac_count(layout: Layout) -> int:
    """Multiply-accumulates of one forward pass of one input through the model built from ``layout``
    (either kind: ConvNet and ConvAC have the same convolutions): the representation conv at every input
    position (k^d * in * M each, "same" padding), each layer's 1x1 conv at every position of its grid
    before pooling (r_{l-1} * r_l each), and the classifier (r_{L-1} * Y). Biases, BatchNorm, activations
    and pooling are not multiply-accumulates and are not counted.

    Examples
    --------
    >>> mac_count(Layout.uniform((4,), M=2, channels=3, pools=[4], kernel=1))  # 4*1*2 + 4*2*3 + 3*10
    62
    """
    k = layout.kernel ** len(layout.input_shape)
    total = layout.n_inputs * k * layout.in_channels * layout.M
    prev = layout.M
    for grid, layer in zip(layout.grids(), layout.layers, strict=False):
        total += math.prod(grid) * prev * layer.channels
        prev = layer.channels
    return total + prev * layout.classes


def paper_pair(input_shape: tuple[int, ...], M: int, r: int, pools: list[Any], **kw: int) -> tuple[Layout, Layout]:
    """The paper's wide-base and wide-tip layouts for width ``r`` on ``pools``.

    The layers fall into three groups (as even as possible, lower groups larger) with 4r, 2r and r
    channels: 6 layers give [4r, 4r, 2r, 2r, r, r]; wide-tip is the reverse. When ``M`` equals the
    number of classes both have the same parameter count (31r^2 + 50r for the paper's six layers).

    Examples
    --------
    >>> wb, wt = paper_pair((64, 64), 10, 8, [2] * 6)
    >>> wb.channels, wt.channels, wb.param_count() == wt.param_count()
    ((32, 32, 16, 16, 8, 8), (8, 8, 16, 16, 32, 32), True)
    """
    d = len(pools)
    sizes = [d // 3 + (1 if i < d % 3 else 0) for i in range(3)]
    mult = [m for m, n in zip((4, 2, 1), sizes, strict=True) for _ in range(n)]
    base = Layout.uniform(tuple(input_shape), M, 1, pools, **kw)
    return base.with_channels([m * r for m in mult]), base.with_channels([m * r for m in mult[::-1]])
