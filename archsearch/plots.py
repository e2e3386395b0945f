"""Pictures: where each min cut runs on the input grid. matplotlib is imported only here."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archsearch.layout import Layout
from archsearch.mincut import explain_mincut

if TYPE_CHECKING:
    from archsearch.spec import Task


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_cuts(task: Task, layout: Layout, path: str | Path) -> Path:
    """One panel per partition: side A / side B on the grid, and the receptive field of every bond the
    min cut crosses, outlined in its layer's colour."""
    plt = _plt()
    from matplotlib.patches import Rectangle

    ex = explain_mincut(layout, task.masks)
    n = len(task.partitions)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.6 * rows), squeeze=False)
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, layout.depth + 1))
    field = [np.ones(len(layout.input_shape), int)]
    for pool in layout.pools:
        field.append(field[-1] * np.array(pool))
    for i, part in enumerate(task.partitions):
        ax = axes[i // cols][i % cols]
        mask = part.mask if part.mask.ndim == 2 else part.mask[None, :]
        ax.imshow(mask, cmap="Pastel1", vmin=0, vmax=8, interpolation="nearest", aspect="auto")
        for k, win in enumerate(ex.cut_windows):
            cut = win[i] if win[i].ndim == 2 else win[i][None, :]
            fh, fw = (field[k] if len(field[k]) == 2 else (1, field[k][0]))
            for r, c in zip(*np.nonzero(cut), strict=True):
                ax.add_patch(Rectangle((c * fw - 0.5, r * fh - 0.5), fw, fh, fill=False, lw=1.5,
                                       ec=colours[k]))
        ax.set_title(f"{part.name}: log2 W = {ex.log2_mincut[i]:.1f}\n{ex.describe(i)}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    fig.suptitle(f"{task.name}: min cuts of {layout.describe()}\n(outlines: receptive fields of cut bonds, "
                 "darker = lower layer)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
