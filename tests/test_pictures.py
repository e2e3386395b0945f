"""Layout pictures: every cut bond drawn (one collection per layer, not a patch per bond), and tick labels
as plain numbers (mathtext is off, so a log axis would otherwise show its labels' markup)."""

from __future__ import annotations

import numpy as np

from archsearch.core.mincut import explain_mincut
from archsearch.formats.layout_file import load_layout
from archsearch.formats.task import load_task
from archsearch.pictures import draw_cuts, draw_widths, pyplot
from tests.conftest import ROOT


def test_every_cut_bond_is_drawn_once_in_its_layers_collection():
    task = load_task(ROOT / "tasks" / "digits-local.yaml")
    lay = load_layout(ROOT / "layouts" / "wide-base-64x64-r8.yaml")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(task.partitions))
    draw_cuts(list(axes), task, lay, plt)
    ex = explain_mincut(lay, task.masks)
    for i, ax in enumerate(axes):
        drawn = sum(len(c.get_paths()) for c in ax.collections)
        assert drawn == sum(int(np.count_nonzero(w[i])) for w in ex.cut_windows) > 0
        assert not ax.patches  # no patch per bond (a 64x64 card had 3,392 of them)
    plt.close(fig)


def test_log_axes_show_plain_numbers():
    plt = pyplot()
    fig, ax = plt.subplots()
    draw_widths(ax, [load_layout(ROOT / "layouts" / "wide-base-64x64-r8.yaml")], ["wb"])
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("$" not in t and "mathdefault" not in t for t in labels), labels
    assert "32" in labels
    plt.close(fig)
