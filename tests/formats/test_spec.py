"""Specs: the shipped files load; every malformed file is refused with one line naming file and field."""

from __future__ import annotations

import numpy as np
import pytest

from archsearch import cli
from archsearch.core.layout import paper_pair
from archsearch.formats.detect import load_any
from archsearch.formats.layout_file import layout_from_dict, load_layout
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.formats.yamlio import InputError
from tests.conftest import ROOT

MALFORMED = sorted((ROOT / "tests" / "malformed").glob("*.yaml"))


def test_the_corpus_is_large_enough():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_malformed_file_is_refused_with_one_line(path, capsys):
    expect = path.read_text().splitlines()[0].removeprefix("# expect: ")
    assert cli.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert str(path) in err and expect in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("path", sorted((ROOT / "tasks").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_tasks_load(path):
    task = load_task(path)
    assert len(task.partitions) >= 3
    for p in task.partitions:
        assert p.mask.shape == task.input_shape and p.mask.any() and not p.mask.all()


@pytest.mark.parametrize("path", sorted((ROOT / "search_spaces").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_spaces_load(path):
    from archsearch.formats.detect import load_any

    space = load_any(path)
    assert space.max_params > 0 and (space.schedules or space.model == "blocks")


@pytest.mark.parametrize("path", sorted((ROOT / "layouts").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_layouts_load(path):
    assert load_layout(path).param_count() > 0


def test_paper_space_budget_is_the_paper_pair_at_r16():
    space = load_space(ROOT / "search_spaces" / "paper-64x64.yaml")
    wb, wt = paper_pair((64, 64), 10, 16, [2] * 6)
    assert space.max_params == wb.param_count() == wt.param_count()
    assert space.schedules == (((2, 2),) * 6,)
    cpu = load_space(ROOT / "search_spaces" / "cpu-32x32.yaml")
    assert cpu.max_params == paper_pair((32, 32), 10, 8, [2] * 5)[0].param_count()


def test_explicit_partition_is_row_major(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("name: t\ninput_shape: [2, 3]\npartitions:\n  - {name: c, side_a: [0, 4]}\n")
    mask = load_task(f).partitions[0].mask
    np.testing.assert_array_equal(mask, [[True, False, False], [False, True, False]])


def test_layout_round_trips_through_its_dict():
    wb, _ = paper_pair((32, 32), 10, 8, [2] * 5)
    assert layout_from_dict(wb.to_dict()) == wb


def test_missing_file_names_it():
    with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
        load_any("nope.yaml")


def test_error_names_the_line(tmp_path):
    f = tmp_path / "l.yaml"
    f.write_text("input_shape: [8]\nM: 2\nlayers:\n  - {channels: 2, pool: 2}\n  - {channels: 2, pool: 3}\n")
    with pytest.raises(InputError) as exc:
        load_layout(f)
    assert exc.value.line == 5 and exc.value.field == "layers[1].pool"


def test_random_layouts_of_a_space_fit_it():
    space = load_space(ROOT / "search_spaces" / "sequence-256.yaml")
    lays = space.random_layouts(200, seed=1)
    assert len(lays) == 200
    assert lays == space.random_layouts(200, seed=1)  # seeded
    for lay in lays:
        assert space.fits(lay.param_count()) and lay.M in space.M and lay.pools in space.schedules
        assert set(lay.channels) <= set(space.channel_choices)
    assert {lay.pools for lay in lays} == set(space.schedules)  # both schedules drawn
    cpu = load_space(ROOT / "search_spaces" / "cpu-32x32.yaml")
    for lay in cpu.random_layouts(100):
        assert all(cpu.channel_range[0] <= c <= cpu.channel_range[1] for c in lay.channels)


def test_files_over_the_size_limit_are_refused_unread(tmp_path):
    from archsearch.formats.yamlio import MAX_FILE_BYTES

    f = tmp_path / "big.yaml"
    f.write_text("name: t\ninput_shape: [64, 64]\npartitions:\n  - name: x\n    side_a: [" +
                 ", ".join("0" for _ in range(MAX_FILE_BYTES // 3)) + "]\n")
    with pytest.raises(InputError, match=rf"big\.yaml: file of \d+ bytes, over the limit of {MAX_FILE_BYTES}"):
        load_task(f)


def test_special_files_are_read_bounded(tmp_path):
    with pytest.raises(InputError, match="over the limit"):
        load_any("/dev/zero")
