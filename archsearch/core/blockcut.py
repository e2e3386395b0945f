"""Min cuts of block layouts (ResNets, MobileNets): a bound on the separation rank, vectorised over
layouts and partitions. The rule, why it holds and what is assumed: ``docs/blocks.md``.

Every block is read as its convolutional arithmetic circuit (ConvAC) analogue: a convolution (k x k, 1 x 1
or depthwise) is the linear map it is, a sum over its window; a convolution of stride s is that map at
stride 1 followed by product pooling over s x s tiles (a strided convolution read as pooling: the
modelling choice); global average pooling is a sum; a shortcut is an addition. ReLU and BatchNorm have no
analogue (as in the paper, which reads max pooling as product pooling). Overlapping kernels make children
of one tile share inputs: Levine, Sharir, Cohen and Shashua (PRL 2019) make such a network a tree again by
duplicating the inputs, and every duplicate of a subtree has the same costs, so the leaves-up DP runs on
the network itself, each child counted in full:

* ``cost[q][s]``: log2 of a bound on the rank of the function computed at position q (its channel index
  on side s) across the partition; an input costs 0 on its own side and log2 M (the input channels) off it.
* ``linear`` (a sum over a window; an addition alike): ``log2 sum_c 2^cost_c[s]`` (the rank of a sum is at
  most the sum of the ranks; a linear map on the index never raises it).
* ``product`` over a tile, bond width r: ``min(sum_c cost_c[s], log2 r + sum_c min(cost_c[A], cost_c[B]))``
  (the rank of a product is at most the product of the ranks; or fix the shared channel, r values, and put
  each child on its cheaper side), as for today's layouts (:mod:`archsearch.core.mincut`).
* every node: cost 0 on side s when all its inputs lie on s (rank 1), and ``min(cost[s], log2 r +
  cost[other side])`` (moving an index of r values across costs r at most).

Each step is a rank inequality, so the result bounds the ConvAC's separation rank from above
(``tests/core/test_blockcut.py`` checks it against ranks measured by evaluating tiny ConvACs,
:mod:`archsearch.core.convac`, and today's layouts through :func:`layer_program` against today's cuts).
Only widths change across a space, so one pass runs a whole batch of layouts: every array carries a
leading axis of layouts, and each step's state is kept once per distinct choice of the slots read so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archsearch.core.blocks import BlockLayout
from archsearch.core.layout import Layout

__all__ = ["Step", "block_cuts", "block_output_cut", "block_program", "layer_program", "log2_cuts_many", "run_program"]


@dataclass(frozen=True)
class Step:
    """One step of a layout's program. ``linear``: a convolution (sum over its ``kernel`` window, zero
    padding ``pad``, stride 1), output width widths[``slot``]; ``product``: product pooling over tiles of
    ``kernel`` (stride = kernel; a grid that does not divide is padded at its end), bond width
    widths[``slot``]; ``save``: remember the stream (a block's input); ``add``: the stream plus the saved
    one, width widths[``slot``]; ``drop``: forget the saved stream. ``saved``: apply the step to the
    saved stream instead (a projection shortcut)."""

    op: str
    slot: int = -1
    kernel: tuple[int, int] = (1, 1)
    pad: tuple[int, int] = (0, 0)
    saved: bool = False


def _conv(k: int, s: int, slot: int, saved: bool = False) -> list[Step]:
    """A k x k convolution of stride s: linear at stride 1, then s x s product pooling (a strided
    convolution read as pooling)."""
    steps = [Step("linear", slot, (k, k), (k // 2, k // 2), saved)]
    return steps + ([Step("product", slot, (s, s), saved=saved)] if s > 1 else [])


def block_program(layout: BlockLayout) -> tuple[Step, ...]:
    """The steps of ``layout`` (module docstring); ``slot`` indexes :attr:`BlockLayout.widths`. The last
    step is global average pooling, a sum over the last grid."""
    steps: list[Step] = []
    slot = 0
    for b, sc in zip(layout.blocks, layout.shortcuts, strict=True):
        inner, out = (slot, slot + 1) if b.inner is not None else (-1, slot)
        slot = out + 1
        if b.kind == "conv":
            steps += _conv(b.kernel, b.stride, out)
            continue
        steps.append(Step("save"))
        if b.kind == "basic":
            steps += _conv(b.kernel, b.stride, inner) + _conv(b.kernel, 1, out)
        else:  # inverted residual: expand, depthwise, project
            steps += _conv(1, 1, inner) + _conv(b.kernel, b.stride, inner) + _conv(1, 1, out)
        if sc == "projection":
            steps += _conv(1, b.stride, out, saved=True)
        steps.append(Step("drop") if sc == "none" else Step("add", out))
    h, w = layout.grids()[-1]
    steps.append(Step("linear", slot - 1, (h, w)))  # global average pooling: a sum over the last grid
    return tuple(steps)


def _leaves(masks: np.ndarray, log_m: float) -> np.ndarray:
    """(1, P, H, W, 2): an input costs nothing on its own side and log2 M off it."""
    a = np.where(masks, 0.0, log_m)
    return np.stack([a, log_m - a], axis=-1)[None]


def _windows(x: np.ndarray, kernel: tuple[int, int], pad: tuple[int, int], stride: tuple[int, int],
             end_pad: tuple[int, int] = (0, 0)):
    """Every shifted view of ``x`` (axes 2, 3 the grid) a window of ``kernel`` reads, zero-padded."""
    (kh, kw), (ph, pw), (sh, sw) = kernel, pad, stride
    H, W = x.shape[2], x.shape[3]
    widths = [(0, 0)] * x.ndim
    widths[2], widths[3] = (ph, ph + end_pad[0]), (pw, pw + end_pad[1])
    padded = np.pad(x, widths) if any(widths[2] + widths[3]) else x
    ho, wo = (H + 2 * ph + end_pad[0] - kh) // sh + 1, (W + 2 * pw + end_pad[1] - kw) // sw + 1
    for dy in range(kh):
        for dx in range(kw):
            yield padded[:, :, dy:dy + sh * (ho - 1) + 1:sh, dx:dx + sw * (wo - 1) + 1:sw]


def _close(cost: np.ndarray, log_r: np.ndarray, touch: np.ndarray) -> np.ndarray:
    """Two caps every node obeys: moving its index (r values) across the cut costs log2 r at most; a node
    whose inputs all lie on one side costs nothing with its index on that side (rank 1)."""
    cost = np.where(touch[None], cost, 0.0)
    return np.minimum(cost, cost[..., ::-1] + log_r.reshape(-1, 1, 1, 1, 1))


def _touch(touch: np.ndarray, kernel, pad, stride, end_pad=(0, 0)) -> np.ndarray:
    """(P, H, W, 2): whether a node's inputs reach side B (index 0: it costs something on A) and side A."""
    out = None
    for view in _windows(touch[None], kernel, pad, stride, end_pad):
        out = view[0] if out is None else out | view[0]
    return out


def _apply(step: Step, cost: np.ndarray, touch: np.ndarray, log_r: np.ndarray):
    if step.op == "linear":  # a sum over the window: ranks add
        total = None
        for view in _windows(cost, step.kernel, step.pad, (1, 1)):
            total = view if total is None else np.logaddexp2(total, view)
        touch = _touch(touch, step.kernel, step.pad, (1, 1))
        return _close(total, log_r, touch), touch
    # product pooling: ranks multiply; or cut the window's bond (r) and put each child on its cheaper side
    end = tuple(-n % k for n, k in zip(cost.shape[2:4], step.kernel, strict=True))
    keep = low = None
    for view in _windows(cost, step.kernel, (0, 0), step.kernel, end):
        keep = view if keep is None else keep + view
        m = view.min(axis=-1)
        low = m if low is None else low + m
    touch = _touch(touch, step.kernel, (0, 0), step.kernel, end)
    cut = low + log_r.reshape(-1, 1, 1, 1)
    return _close(np.minimum(keep, cut[..., None]), log_r, touch), touch


def run_program(steps: Sequence[Step], masks: np.ndarray, log_m: float, log_widths: np.ndarray) -> np.ndarray:
    """(L, P, 2): the cost of the output with it on side A and on B, for L layouts (``log_widths`` (L, S),
    log2 of each slot's width) and P partitions (``masks`` (P, H, W), True = side A).

    The state after a step depends only on the slots read so far, so it is kept once per distinct choice
    of those slots (``rows``: each layout's row), and grows as steps read new slots: the early layers, on
    the largest grids, run for a handful of width choices rather than for every layout."""
    log_widths = np.atleast_2d(np.asarray(log_widths, dtype=np.float64))
    masks = np.asarray(masks, dtype=bool)
    cost = _leaves(masks, log_m)
    touch = np.stack([~masks, masks], axis=-1)  # an input on A reaches A only: costs nothing on A
    rows = np.zeros(len(log_widths), dtype=np.int64)  # each layout's row of the state
    read: list[int] = []
    saved = saved_touch = saved_rows = None
    for step in steps:
        if step.slot >= 0 and step.slot not in read:  # a new slot: one row per distinct choice so far
            read.append(step.slot)
            _, first, inverse = np.unique(log_widths[:, read], axis=0, return_index=True, return_inverse=True)
            cost = cost[rows[first]]
            rows = inverse.reshape(-1)
        log_r = log_widths[_rows_first(rows), step.slot] if step.slot >= 0 else None
        if step.op == "save":
            saved, saved_touch, saved_rows = cost, touch, rows
        elif step.op == "drop":
            saved = saved_touch = saved_rows = None
        elif step.op == "add":
            saved = saved[saved_rows[_rows_first(rows)]]
            touch = touch | saved_touch
            cost = _close(np.logaddexp2(cost, saved), log_r, touch)
            saved = saved_touch = saved_rows = None
        elif step.saved:  # the saved stream, on the current rows
            saved, saved_rows = saved[saved_rows[_rows_first(rows)]], rows
            saved, saved_touch = _apply(step, saved, saved_touch, log_r)
        else:
            cost, touch = _apply(step, cost, touch, log_r)
    return cost[rows].reshape(len(log_widths), cost.shape[1], 2)


def _rows_first(rows: np.ndarray) -> np.ndarray:
    """For each row of the state, one layout that uses it."""
    first = np.empty(rows.max() + 1, dtype=np.int64)
    first[rows[::-1]] = np.arange(len(rows))[::-1]
    return first


def _masks2d(layout: BlockLayout, masks: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks, dtype=bool)
    if masks.shape == tuple(layout.input_shape):
        masks = masks[None]
    if masks.shape[1:] != tuple(layout.input_shape):
        raise ValueError(f"masks must have shape (P, {layout.input_shape[0]}, {layout.input_shape[1]}) for this "
                         f"layout, got {masks.shape}")
    return masks


def block_cuts(layout: BlockLayout, masks: np.ndarray) -> np.ndarray:
    """log2 of the min cut (the rank bound) of ``layout`` for each partition in ``masks``, (P,).

    Examples
    --------
    >>> from archsearch.core.blocks import Block, BlockLayout
    >>> lay = BlockLayout((2, 2), (Block("conv", 4, kernel=1, stride=2),), in_channels=2)  # pools 2x2 to one
    >>> block_cuts(lay, np.array([[1, 1], [0, 0]], bool)).tolist()  # two inputs of 2 values each, or the bond of 4
    [2.0]
    """
    return log2_cuts_many([layout], masks)[0]


def block_output_cut(layout: BlockLayout) -> float:
    """log2 of the cheapest cut between every input and the output (all inputs on side A, the output on B)."""
    return float(log2_cuts_many([layout], np.zeros((0, *layout.input_shape), dtype=bool), output=True)[0, 0])


def log2_cuts_many(layouts: Sequence[BlockLayout], masks: np.ndarray, output: bool = False,
                   chunk: int = 4096) -> np.ndarray:
    """(L, P) log2 min cuts of many block layouts (``output``: one more column, the output cut). Layouts of
    one skeleton (the same program) run as one batch, ``chunk`` at a time."""
    if not layouts:
        return np.zeros((0, len(masks) + int(output)))
    masks = _masks2d(layouts[0], masks)
    if output:
        masks = np.concatenate([masks, np.ones((1, *masks.shape[1:]), dtype=bool)])
    groups: dict[tuple, list[int]] = {}
    programs: dict[tuple, tuple[Step, ...]] = {}
    for i, lay in enumerate(layouts):
        key = (lay.input_shape, lay.in_channels, tuple((b.kind, b.kernel, b.stride) for b in lay.blocks),
               lay.shortcuts)
        groups.setdefault(key, []).append(i)
        if key not in programs:
            programs[key] = block_program(lay)
    out = np.empty((len(layouts), len(masks)))
    for key, idx in groups.items():
        log_m = float(np.log2(key[1]))
        log_w = np.log2(np.array([layouts[i].widths for i in idx], dtype=np.float64))
        for s in range(0, len(idx), chunk):
            cost = run_program(programs[key], masks, log_m, log_w[s:s + chunk])
            res = cost.min(axis=2)
            if output:
                res[:, -1] = cost[:, -1, 1]
            out[idx[s:s + chunk]] = res
    return out


def layer_program(layout: Layout) -> tuple[Step, ...]:
    """Today's layouts (:class:`~archsearch.core.layout.Layout`, a 1D grid read as one row) as a program:
    one non-overlapping window per layer, slot l = layer l. Its costs are :func:`~archsearch.core.mincut.
    log2_mincut`'s (tests hold it so): the block rule extends today's, it does not replace it."""
    pools = [p if len(p) == 2 else (1, p[0]) for p in layout.pools]
    return tuple(Step("product", l, tuple(p)) for l, p in enumerate(pools))
