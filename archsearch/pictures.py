"""Pictures of layouts: where each min cut runs on the input grid, and the widths per layer. Below both
``search`` (the dashboard's layout cards) and ``evidence`` (reports, plots); matplotlib is imported lazily."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archsearch.core.layout import Layout
from archsearch.core.mincut import explain_mincut

__all__ = ["draw_cuts", "draw_widths", "panel_grid", "plain_log_ticks", "plot_cuts", "plot_layout_card", "plot_widths",
           "pyplot", "save_figure"]

if TYPE_CHECKING:
    from archsearch.formats.task import Task


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    # every text in a picture is plain: a task or partition named `$\\foo$` is drawn as written, never parsed
    # as mathtext (which fails on it)
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def plain_log_ticks(axis) -> None:
    """Plain numbers on a log (or symlog) axis: matplotlib writes their labels as mathtext, which is off here
    (every text is drawn as written), so they would show as ``$\\mathdefault{2^{5}}$``."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def save_figure(plt, fig, path: str | Path) -> Path:
    """Save the figure whole or not at all (a failure leaves no file), then close it."""
    from archsearch.formats.files import atomic_path

    path = Path(path)
    try:
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
    return path


def draw_cuts(axes: list, task: Task, layout: Layout, plt) -> None:
    """Draw each partition of ``task`` on its axis: side A / side B on the grid, and the receptive field
    of every bond the min cut crosses, outlined in its layer's colour."""
    from matplotlib.collections import PolyCollection

    ex = explain_mincut(layout, task.masks)
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, layout.depth + 1))
    field = [np.ones(len(layout.input_shape), int)]
    for pool in layout.pools:
        field.append(field[-1] * np.array(pool))
    for i, (part, ax) in enumerate(zip(task.partitions, axes, strict=False)):
        mask = part.mask if part.mask.ndim == 2 else part.mask[None, :]
        ax.imshow(mask, cmap="Pastel1", vmin=0, vmax=8, interpolation="nearest", aspect="auto")
        for k, win in enumerate(ex.cut_windows):
            cut = win[i] if win[i].ndim == 2 else win[i][None, :]
            fh, fw = (field[k] if len(field[k]) == 2 else (1, field[k][0]))
            rows, cols = np.nonzero(cut)
            if len(rows):  # one collection per layer: a 64x64 card has thousands of cut bonds
                x0, y0 = cols * fw - 0.5, rows * fh - 0.5
                boxes = np.stack([np.stack([x0, y0], 1), np.stack([x0 + fw, y0], 1), np.stack([x0 + fw, y0 + fh], 1),
                                  np.stack([x0, y0 + fh], 1)], axis=1)
                ax.add_collection(PolyCollection(boxes, facecolors="none", edgecolors=[colours[k]], linewidths=1.5))
        ax.set_title(f"{part.name}: log2 W = {ex.log2_mincut[i]:.1f}\n{ex.describe(i)}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])


def panel_grid(plt, n: int, cols: int, w: float, h: float):
    cols = max(1, min(n, cols))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows), squeeze=False)
    flat = [axes[j // cols][j % cols] for j in range(rows * cols)]
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def plot_cuts(task: Task, layout: Layout, path: str | Path) -> Path:
    """One panel per partition: side A / side B on the grid, and the receptive field of every bond the
    min cut crosses, outlined in its layer's colour."""
    plt = pyplot()
    fig, axes = panel_grid(plt, len(task.partitions), 3, 4.2, 4.6)
    draw_cuts(axes, task, layout, plt)
    fig.suptitle(f"{task.name}: min cuts of {layout.describe()}\n(outlines: receptive fields of cut bonds, "
                 "darker = lower layer)", fontsize=9)
    return save_figure(plt, fig, path)


def draw_widths(ax, layouts: list[Layout], labels: list[str]) -> None:
    """Channel widths per layer (M first), one group of bars per layout."""
    n = len(layouts)
    for k, (lay, label) in enumerate(zip(layouts, labels, strict=True)):
        widths = [lay.M, *lay.channels]
        x = np.arange(len(widths)) + (k - (n - 1) / 2) * 0.8 / max(n, 1)
        ax.bar(x, widths, width=0.8 / max(n, 1), label=label, alpha=0.85)
    depth = max(lay.depth for lay in layouts)
    ax.set_xticks(range(depth + 1), ["M"] + [str(l + 1) for l in range(depth)], fontsize=7)
    ax.set_xlabel("layer", fontsize=7)
    ax.set_ylabel("channels", fontsize=7)
    ax.set_yscale("log", base=2)
    plain_log_ticks(ax.yaxis)
    ax.set_ylim(bottom=1)
    if n > 1:
        ax.legend(fontsize=6, ncol=2)


def plot_layout_card(task: Task, layout: Layout, path: str | Path, title: str = "") -> Path:
    """One layout at a glance: its widths per layer, and where its min cut runs across each of the task's
    partitions (the picture each trained trial carries in optuna-dashboard)."""
    plt = pyplot()
    fig, axes = panel_grid(plt, len(task.partitions) + 1, 4, 3.2, 3.4)
    draw_widths(axes[0], [layout], [layout.describe()])
    axes[0].set_title(f"widths per layer\n{layout.param_count()} parameters", fontsize=8)
    draw_cuts(axes[1:], task, layout, plt)
    fig.suptitle(f"{title + ': ' if title else ''}{layout.describe()} on {task.name}", fontsize=9)
    return save_figure(plt, fig, path)


def plot_widths(layouts: list[Layout], labels: list[str], path: str | Path, title: str = "") -> Path:
    """The channel widths per layer of several layouts (a study's best, say), side by side."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * (max(lay.depth for lay in layouts) + 1)), 3.6))
    draw_widths(ax, layouts, labels)
    ax.set_title(title, fontsize=9)
    return save_figure(plt, fig, path)

