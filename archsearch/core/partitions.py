"""Partitions of the input grid as boolean masks (True = side A), from named families or index lists.

Each family is a function ``(shape, **options) -> mask``; :data:`FAMILIES` maps the ``kind`` used in
task files to it, with the options it accepts, so that specs can validate options before any work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "FAMILIES", "PartitionError", "canonical", "canonical_levels", "explicit", "family_mask", "family_options",
    "tree_windows",
]


class PartitionError(ValueError):
    """A partition that cannot be built on this grid; ``field`` names the option at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Row and column index arrays, treating a 1D input as one row."""
    h, w = (1, shape[0]) if len(shape) == 1 else shape
    rows, cols = np.indices((h, w))
    return rows, cols, h, w


def _need_2d(shape: tuple[int, ...], kind: str) -> None:
    if len(shape) != 2:
        raise PartitionError(f"'{kind}' needs a 2D input, got input_shape {list(shape)}", "kind")


def _positive(value: int, name: str) -> None:
    if value < 1:
        raise PartitionError(f"{name} must be >= 1, got {value}", name)


def left_right(shape: tuple[int, ...]) -> np.ndarray:
    """Left half of the columns against the right half (1D: first half against second)."""
    rows, cols, h, w = _grid(shape)
    return (cols < w // 2).reshape(shape)


def top_bottom(shape: tuple[int, ...]) -> np.ndarray:
    """Top half of the rows against the bottom half."""
    _need_2d(shape, "top-bottom")
    rows, cols, h, w = _grid(shape)
    return rows < h // 2


def odd_even(shape: tuple[int, ...]) -> np.ndarray:
    """Even flat (row-major) indices against odd ones: 1D interleaving; columns when W is even."""
    return (np.arange(int(np.prod(shape))) % 2 == 0).reshape(shape)


def rows(shape: tuple[int, ...], width: int = 1) -> np.ndarray:
    """Alternating horizontal stripes of ``width`` rows."""
    _need_2d(shape, "rows")
    _positive(width, "width")
    r, c, h, w = _grid(shape)
    return (r // width) % 2 == 0


def columns(shape: tuple[int, ...], width: int = 1) -> np.ndarray:
    """Alternating vertical stripes of ``width`` columns (1D: alternating blocks)."""
    _positive(width, "width")
    r, c, h, w = _grid(shape)
    return ((c // width) % 2 == 0).reshape(shape)


def checkerboard(shape: tuple[int, ...]) -> np.ndarray:
    """Single-cell checkerboard: every 2x2 window split two-and-two."""
    _need_2d(shape, "checkerboard")
    r, c, h, w = _grid(shape)
    return (r + c) % 2 == 0


def tiles(shape: tuple[int, ...], size: int = 2) -> np.ndarray:
    """Checkerboard of ``size`` x ``size`` tiles (1D: alternating blocks of ``size``)."""
    _positive(size, "size")
    r, c, h, w = _grid(shape)
    if len(shape) == 1:
        return ((c // size) % 2 == 0).reshape(shape)
    return (r // size + c // size) % 2 == 0


_QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right", "diagonal")


def quadrants(shape: tuple[int, ...], which: str = "top-left") -> np.ndarray:
    """One quadrant against the other three, or ``diagonal``: top-left + bottom-right against the rest."""
    _need_2d(shape, "quadrants")
    if which not in _QUADRANTS:
        raise PartitionError(f"which must be one of {', '.join(_QUADRANTS)}; got '{which}'", "which")
    r, c, h, w = _grid(shape)
    top, left = r < h // 2, c < w // 2
    return {
        "top-left": top & left,
        "top-right": top & ~left,
        "bottom-left": ~top & left,
        "bottom-right": ~top & ~left,
        "diagonal": top == left,
    }[which]


def centre_surround(shape: tuple[int, ...], size: int | Sequence[int] | None = None) -> np.ndarray:
    """A centred block (default half of each side) against everything around it."""
    r, c, h, w = _grid(shape)
    if size is None:
        sh, sw = (1, w // 2) if len(shape) == 1 else (h // 2, w // 2)
    elif isinstance(size, int):
        sh, sw = (1, size) if len(shape) == 1 else (size, size)
    else:
        sh, sw = (1, size[0]) if len(shape) == 1 else (int(size[0]), int(size[1]))
    if sh < 1 or sw < 1 or sh > h or sw > w:
        raise PartitionError(f"size {size} does not fit the {list(shape)} input", "size")
    top, left = (h - sh) // 2, (w - sw) // 2
    inside = (r >= top) & (r < top + sh) & (c >= left) & (c < left + sw)
    return inside.reshape(shape)


def random(shape: tuple[int, ...], seed: int = 0, fraction: float = 0.5) -> np.ndarray:
    """Each input on side A with probability ``fraction`` (seeded, reproducible)."""
    if not 0.0 < fraction < 1.0:
        raise PartitionError(f"fraction must lie strictly between 0 and 1, got {fraction}", "fraction")
    rng = np.random.default_rng(seed)
    return rng.random(shape) < fraction


def _pool_window(pool: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    win = (int(pool),) * ndim if isinstance(pool, int) else tuple(int(p) for p in pool)
    if len(win) != ndim or any(w < 1 for w in win):
        raise PartitionError(f"pool must be a positive int or {ndim} positive sizes, got {pool!r}", "pool")
    return win


def canonical_levels(shape: Sequence[int], pool: int | Sequence[int] = 2) -> list[int]:
    """Levels k >= 1 of a pooling by ``pool`` per axis whose windows (pool^k) tile the grid with more than
    one window: the canonical partitions the grid has."""
    shape = tuple(int(s) for s in shape)
    win = _pool_window(pool, len(shape))
    if all(w == 1 for w in win):
        return []
    levels, k = [], 1
    while True:
        side = tuple(w ** k for w in win)
        if any(g % s for g, s in zip(shape, side, strict=True)) or side == shape:
            return levels
        levels.append(k)
        k += 1


def canonical(shape: tuple[int, ...], level: int = 1, pool: int | Sequence[int] = 2) -> np.ndarray:
    """The canonical partition of the pooling tree at ``level``: a window of the level-th pooling by
    ``pool`` per axis (its receptive field, pool^level per axis) against the rest. The window at the
    origin stands for all of them: on a layout that pools by ``pool`` every window's subtree is the same,
    so each has the same min cut (the profile averages the data over windows instead)."""
    win = _pool_window(pool, len(shape))
    if level < 1 or level not in canonical_levels(shape, win):
        levels = canonical_levels(shape, win)
        raise PartitionError(f"level {level} does not exist for pooling by {list(win)} on {list(shape)}; "
                             f"levels: {', '.join(map(str, levels)) or 'none'}", "level")
    mask = np.zeros(shape, dtype=bool)
    mask[tuple(slice(0, w ** level) for w in win)] = True
    return mask


def tree_windows(shape: Sequence[int], pools: Sequence[Sequence[int]]) -> np.ndarray:
    """The canonical partitions of a layout's own pooling tree: for each level k = 1 .. depth-1, the window
    at the origin of the k-th pooling (the product of the first k windows per axis) against the rest.
    Shape (depth - 1, *shape)."""
    shape = tuple(int(s) for s in shape)
    side = [1] * len(shape)
    masks = []
    for pool in list(pools)[:-1]:
        side = [s * int(p) for s, p in zip(side, pool, strict=True)]
        m = np.zeros(shape, dtype=bool)
        m[tuple(slice(0, s) for s in side)] = True
        masks.append(m)
    return np.stack(masks) if masks else np.zeros((0, *shape), dtype=bool)


FAMILIES: dict[str, Callable[..., np.ndarray]] = {
    "canonical": canonical,
    "left-right": left_right,
    "top-bottom": top_bottom,
    "odd-even": odd_even,
    "interleaved": odd_even,
    "rows": rows,
    "columns": columns,
    "checkerboard": checkerboard,
    "tiles": tiles,
    "blocks": tiles,
    "quadrants": quadrants,
    "centre-surround": centre_surround,
    "center-surround": centre_surround,
    "random": random,
}


def family_options(kind: str) -> dict[str, inspect.Parameter]:
    """The options (besides the shape) that family ``kind`` accepts."""
    params = inspect.signature(FAMILIES[kind]).parameters
    return {k: p for k, p in params.items() if k != "shape"}


def family_mask(kind: str, shape: Sequence[int], **options: object) -> np.ndarray:
    """Mask of family ``kind`` on ``shape``; refuses a mask with an empty side.

    Examples
    --------
    >>> family_mask("odd-even", [6]).astype(int).tolist()
    [1, 0, 1, 0, 1, 0]
    >>> family_mask("checkerboard", [2, 2]).astype(int).tolist()
    [[1, 0], [0, 1]]
    """
    if kind not in FAMILIES:
        raise PartitionError(f"unknown partition kind '{kind}'", "kind")
    mask = np.asarray(FAMILIES[kind](tuple(int(s) for s in shape), **options), dtype=bool)
    _check_sides(mask)
    return mask


def explicit(shape: Sequence[int], side_a: Sequence[int]) -> np.ndarray:
    """Mask whose side A is the given flat row-major indices."""
    n = int(np.prod(shape))
    bad = [i for i in side_a if not 0 <= int(i) < n]  # Python ints: no overflow before the check
    if bad:
        raise PartitionError(
            f"index {int(bad[0])} is out of range for input_shape {list(shape)} (0..{n - 1})", "side_a"
        )
    idx = np.asarray(list(side_a), dtype=np.int64)
    if len(set(idx.tolist())) != idx.size:
        raise PartitionError("side_a lists an index twice", "side_a")
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    mask = mask.reshape(tuple(shape))
    _check_sides(mask, "side_a")
    return mask


def _check_sides(mask: np.ndarray, field: str = "kind") -> None:
    if not mask.any():
        raise PartitionError("side A is empty: every input is on side B", field)
    if mask.all():
        raise PartitionError("side B is empty: every input is on side A", field)
