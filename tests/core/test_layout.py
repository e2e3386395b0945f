from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.layout import Layer, Layout, LayoutError, paper_pair
from tests.conftest import layouts


@pytest.mark.parametrize("r", [1, 4, 8, 16, 32, 100])
def test_paper_pair_parameter_count_closed_form(r):
    """1x1 convs and classifier: 31r^2 + 50r; plus the shared representation conv (3*3*1*10 + 10),
    classifier bias (10) and BatchNorm affines (2 * 14r)."""
    wb, wt = paper_pair((64, 64), 10, r, [2] * 6)
    assert wb.channels == (4 * r, 4 * r, 2 * r, 2 * r, r, r)
    assert wt.channels == wb.channels[::-1]
    expect = 31 * r * r + 50 * r + 100 + 10 + 2 * 14 * r
    assert wb.param_count() == wt.param_count() == expect


@settings(max_examples=50, deadline=None)
@given(layouts(), st.integers(0, 3), st.integers(1, 50))
def test_param_count_grows_with_channels(lay, l, extra):
    l = min(l, lay.depth - 1)
    wider = lay.with_channels([c + extra * (i == l) for i, c in enumerate(lay.channels)])
    assert wider.param_count() > lay.param_count()


def test_windows_must_tile():
    with pytest.raises(LayoutError, match=r"layer 2 pools \[3, 3\] over a 4x4 grid") as exc:
        Layout((8, 8), 2, (Layer(2, (2, 2)), Layer(2, (3, 3))))
    assert exc.value.field == "layers[1].pool"


def test_last_pooling_must_be_global():
    with pytest.raises(LayoutError, match="the last pooling must be global"):
        Layout((8,), 2, (Layer(2, (2,)), Layer(2, (2,))))


def test_windows_may_differ_per_layer():
    lay = Layout((12, 8), 3, (Layer(4, (3, 2)), Layer(5, (2, 4)), Layer(6, (2, 1))))
    assert lay.grids() == [(12, 8), (4, 4), (2, 1), (1, 1)]
