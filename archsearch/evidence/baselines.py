"""The obvious rivals of the prior: task-blind rules that need no training and know nothing of the task.

A researcher's first question of any prior is whether it knows more than "spend the budget evenly and
never starve a layer". These are that rule's parts, each a score per layout (higher = predicted better):

* ``min-width``: log2 of the narrowest hidden layer (a starved layer is a bottleneck);
* ``balance``: minus the standard deviation of the hidden layers' log2 widths (an even spend);
* ``params`` and ``flops``: parameter count and multiply-accumulates of one forward pass;

and the **balanced rule** that combines them: layouts ordered by their narrowest layer's log2 width, then
by the smallest spread of log2 widths, then by parameter count (largest first). Zero trainings, no task.
As a predictor (``balanced``) its score is minus the rank in that order: a complete ranking, where
``min-width`` alone has a handful of distinct values.

The **bottleneck rule** (``bottleneck``) is a stronger one, found on the shipped tables (the accuracies
of layouts of one narrowest width fall with the number of layers that narrow): the narrowest layer's
log2 width, then the fewest layers at that width, then the balanced rule's tie-breaks.

The **leximin rule** (``leximin``) completes it: the narrowest layer widest, then the second-narrowest
widest, and so on up the sorted widths (fewer layers at the narrowest width follows), then the most
parameters: the fair-division order, found on the design tables of issue 23 (``digits-local-32``,
``digits-global-32``, ``mnist1d-32``) to rank above the bottleneck rule on all three. Pure numpy: no
torch, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archsearch.core.layout import Layout

__all__ = ["SCORES", "TASK_BLIND", "balance", "balanced", "balanced_order", "bottleneck", "bottleneck_order", "flops",
           "leximin", "leximin_order", "min_width", "narrowest_count", "params"]

#: the task-blind predictors, in the order reported
TASK_BLIND = ("min-width", "balance", "balanced", "bottleneck", "leximin", "params", "flops")


def _log_widths(layouts: Sequence[Layout]) -> list[np.ndarray]:
    return [np.log2(np.asarray(lay.channels, dtype=float)) for lay in layouts]


def min_width(layouts: Sequence[Layout]) -> np.ndarray:
    """log2 of each layout's narrowest hidden layer.

    >>> min_width([Layout.uniform((4,), 2, 8, [2, 2]), Layout.uniform((4,), 2, 2, [2, 2])]).tolist()
    [3.0, 1.0]
    """
    return np.array([w.min() for w in _log_widths(layouts)])


def balance(layouts: Sequence[Layout]) -> np.ndarray:
    """Minus the standard deviation of each layout's hidden log2 widths (0 for a uniform layout)."""
    return np.array([-float(w.std()) for w in _log_widths(layouts)])


def narrowest_count(layouts: Sequence[Layout]) -> np.ndarray:
    """How many hidden layers of each layout are as narrow as its narrowest (the count the ``narrowest``
    prior reads, :func:`~archsearch.prior.score.narrowest_count`).

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([4, 8, 4], [8, 8, 8])]
    >>> narrowest_count(lays).tolist()
    [2, 3]
    """
    from archsearch.prior.score import narrowest_count as count

    return np.array([int(count(np.asarray(lay.channels))) for lay in layouts])


def params(layouts: Sequence[Layout]) -> np.ndarray:
    return np.array([float(lay.param_count()) for lay in layouts])


def flops(layouts: Sequence[Layout]) -> np.ndarray:
    """Multiply-accumulates of one forward pass (:func:`~archsearch.core.layout.mac_count`)."""
    return np.array([float(lay.mac_count()) for lay in layouts])


def balanced(layouts: Sequence[Layout]) -> np.ndarray:
    """The balanced rule as a score: minus each layout's place in :func:`balanced_order` (0 for the first).

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([2, 8, 8], [4, 4, 8], [4, 4, 4])]
    >>> balanced(lays).tolist()
    [-2.0, -1.0, -0.0]
    """
    return _minus_rank(balanced_order(layouts))


def balanced_order(layouts: Sequence[Layout]) -> np.ndarray:
    """Indices of ``layouts`` in the balanced rule's order, best first: the narrowest layer widest, then
    the smallest spread of log2 widths, then the most parameters; remaining ties in the given order.

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([2, 8, 8], [4, 4, 8], [4, 4, 4])]
    >>> balanced_order(lays).tolist()  # [4, 4, 4]: narrowest 4, no spread; [4, 4, 8]: spread; [2, 8, 8]: starved
    [2, 1, 0]
    """
    lo, bal, size = min_width(layouts), balance(layouts), params(layouts)
    return np.lexsort((np.arange(len(layouts)), -size, -bal, -lo))


def _minus_rank(order: np.ndarray) -> np.ndarray:
    out = np.empty(len(order))
    out[order] = -np.arange(len(order), dtype=float)
    return out


def bottleneck(layouts: Sequence[Layout]) -> np.ndarray:
    """The bottleneck rule as a score: minus each layout's place in :func:`bottleneck_order`.

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([4, 4, 16], [4, 8, 8], [8, 8, 8])]
    >>> bottleneck(lays).tolist()  # [8, 8, 8] first; of the two narrowest at 4, the one with one 4 next
    [-2.0, -1.0, -0.0]
    """
    return _minus_rank(bottleneck_order(layouts))


def bottleneck_order(layouts: Sequence[Layout]) -> np.ndarray:
    """Indices of ``layouts`` in the bottleneck rule's order, best first: the narrowest layer widest, then
    the fewest layers that narrow, then the balanced rule's tie-breaks (least spread, most parameters);
    remaining ties in the given order."""
    lo, bal, size = min_width(layouts), balance(layouts), params(layouts)
    return np.lexsort((np.arange(len(layouts)), -size, -bal, narrowest_count(layouts), -lo))


def leximin(layouts: Sequence[Layout]) -> np.ndarray:
    """The leximin rule as a score: minus each layout's place in :func:`leximin_order`.

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([4, 4, 16], [4, 8, 8], [8, 8, 8])]
    >>> leximin(lays).tolist()  # [8, 8, 8]; then [4, 8, 8], whose second-narrowest (8) beats [4, 4, 16]'s (4)
    [-2.0, -1.0, -0.0]
    """
    return _minus_rank(leximin_order(layouts))


def leximin_order(layouts: Sequence[Layout]) -> np.ndarray:
    """Indices of ``layouts`` in the leximin rule's order, best first: the sorted log2 widths compared
    from the narrowest up (a layout with fewer layers counts its missing ones as unbounded), then the most
    parameters; remaining ties in the given order.

    >>> lays = [Layout.uniform((8,), 2, 4, [2, 2, 2]).with_channels(c) for c in ([16, 4, 4], [4, 4, 8], [8, 4, 16])]
    >>> leximin_order(lays).tolist()  # [8, 4, 16] sorts to (4, 8, 16); the other two to (4, 4, *): more params first
    [2, 0, 1]
    """
    widths = [np.sort(w) for w in _log_widths(layouts)]
    depth = max((len(w) for w in widths), default=0)
    srt = np.array([np.concatenate([w, np.full(depth - len(w), np.inf)]) for w in widths]).reshape(len(widths), depth)
    keys = [np.arange(len(layouts)), -params(layouts)] + [-srt[:, i] for i in range(depth - 1, -1, -1)]
    return np.lexsort(keys)


SCORES = {"min-width": min_width, "balance": balance, "balanced": balanced, "bottleneck": bottleneck,
          "leximin": leximin, "params": params, "flops": flops}
