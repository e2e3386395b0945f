from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st

from archsearch.core.layout import Layer, Layout

ROOT = Path(__file__).resolve().parent.parent

#: a space of 16x16 inputs small enough to search and train in seconds (the search and worker tests)
TINY_SPACE = """name: tiny
input_shape: [16, 16]
M: 6
pool: [2, 2]
channels: {choices: [2, 4, 8, 16]}
budget: {max_params: 900}
"""


@pytest.fixture
def root() -> Path:
    return ROOT


def run_cli(argv: list[str]) -> int:
    """``archsearch ARGV`` in process; the exit status, usage errors (argparse's SystemExit) included."""
    from archsearch import cli

    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@st.composite
def layouts(draw, max_inputs: int = 256, min_window: int = 2, max_window: int = 8, max_channels: int = 12,
            ndim: int | None = None, depth: int | None = None, channel_set=None, m_set=None,
            max_tensor: int | None = None):
    """Random layouts: 1D or 2D, 1-4 layers, windows up to ``max_window`` per axis."""
    nd = draw(st.sampled_from([1, 2])) if ndim is None else ndim
    L = draw(st.integers(1, 4)) if depth is None else depth
    pools = [tuple(draw(st.integers(min_window if nd == 1 else 1, max_window)) for _a in range(nd))
             for _ in range(L)]
    shape = tuple(int(np.prod([p[a] for p in pools])) for a in range(nd))
    assume(2 <= int(np.prod(shape)) <= max_inputs)
    ch = (lambda: draw(st.sampled_from(channel_set))) if channel_set else (lambda: draw(st.integers(1, max_channels)))
    M = draw(st.sampled_from(m_set or channel_set)) if (m_set or channel_set) else draw(st.integers(1, 10))
    if max_tensor is not None:
        assume(M ** int(np.prod(shape)) <= max_tensor)
    return Layout(shape, M, tuple(Layer(ch(), p) for p in pools))


@st.composite
def layouts_and_masks(draw, n_masks: int = 3, **kw):
    lay = draw(layouts(**kw))
    n = lay.n_inputs
    masks = []
    for _ in range(n_masks):
        bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        bits[0], bits[-1] = True, False  # both sides non-empty
        masks.append(np.array(bits).reshape(lay.input_shape))
    return lay, np.stack(masks)


def table_of_runs(runs: list[tuple[int, int, float]]):
    """A minimal :class:`~archsearch.evidence.table.Table` holding ``runs`` (layout id, seed, validation
    accuracy; test accuracy the same), with one-layer layouts 0..max id: for statistics over runs."""
    from archsearch.evidence.table import BenchSettings, Table
    from archsearch.formats.table import LayoutEntry, RunRow, SpaceEntry, TaskEntry

    n = max(i for i, _, _ in runs) + 1
    return Table(format="archsearch-bench-table/1", archsearch_version="test", created="now",
                 task=TaskEntry(name="t", file="t.yaml", input_shape=[8]),
                 space=SpaceEntry(name="s", file="s.yaml", schedules=[[[8]]], max_params=10**6, band=0.5,
                                  complete_grid=False),
                 settings=BenchSettings(), device="cpu",
                 layouts=[LayoutEntry(id=i, label="grid", schedule=0, M=1, channels=[1], params=1) for i in range(n)],
                 runs=[RunRow(layout=i, seed=s, val_accuracy=v, test_accuracy=v) for i, s, v in runs])


def grid_layouts(space):
    """Every layout of the tiny space within its budget (schedule 0, M 4), with its channels."""
    import itertools

    for ch in itertools.product(space.channel_choices, repeat=4):
        lay = space.layout(0, 4, list(ch))
        if space.fits(lay.param_count()):
            yield ch, lay


#: a tiny 1D task and its 4-layer grid space (odd-even and left-right; widths 2..16): samplers and replays
TINY_1D_TASK = ("name: tiny\ninput_shape: [16]\npartitions:\n  - {name: oe, kind: odd-even}\n"
             "  - {name: lr, kind: left-right}\n")
TINY_1D_SPACE = ("name: tiny-grid\ninput_shape: [16]\nM: 4\npool: 2\nchannels: {choices: [2, 4, 8, 16]}\n"
              "budget: {max_params: 700, min_params: 300}\n")


@pytest.fixture
def tiny_1d_files(tmp_path):
    """``task.yaml`` and ``space.yaml`` (:data:`TINY_1D_TASK`, :data:`TINY_1D_SPACE`) in a fresh folder."""
    (tmp_path / "task.yaml").write_text(TINY_1D_TASK)
    (tmp_path / "space.yaml").write_text(TINY_1D_SPACE)
    return tmp_path


def grid_table(files, accuracy):
    """A complete-grid table of the tiny 1D space in ``files`` (:func:`tiny_1d_files`) whose 'trained'
    accuracies are a known function of the channels (one seed)."""
    import json
    from dataclasses import asdict

    import numpy as np

    from archsearch.evidence.table import BenchSettings, Table
    from archsearch.formats.space import load_space
    from archsearch.formats.table import FORMAT

    space = load_space(files / "space.yaml")
    layouts, runs = [], []
    for i, (ch, lay) in enumerate(grid_layouts(space)):
        layouts.append({"id": i, "label": "grid", "schedule": 0, "M": 4, "channels": list(ch),
                        "params": lay.param_count()})
        acc = float(accuracy(np.array(ch)))
        runs.append({"layout": i, "seed": 0, "val_accuracy": acc, "test_accuracy": acc - 0.01})
    table = {"format": FORMAT, "archsearch_version": "test", "created": "now", "device": "cpu",
             "task": {"name": "tiny", "file": str(files / "task.yaml"), "input_shape": [16]},
             "space": {"name": "tiny-grid", "file": str(files / "space.yaml"), "complete_grid": True,
                       "schedules": [[[2]] * 4], "max_params": 700, "band": 0.4},
             "settings": asdict(BenchSettings()), "layouts": layouts, "runs": runs}
    (files / "t.json").write_text(json.dumps(table))
    return Table.load(files / "t.json")


def tiny_prior(folder):
    """The tiny 1D space in ``folder`` (:func:`tiny_1d_files`) and its task's prior."""
    from archsearch.formats.space import load_space
    from archsearch.formats.task import load_task
    from archsearch.prior.score import Prior

    space = load_space(folder / "space.yaml")
    return space, Prior.for_task(load_task(folder / "task.yaml"), space)
