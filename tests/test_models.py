from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from archsearch.core.layout import Layout
from archsearch.train.models import ProductPool, build_model
from tests.conftest import layouts


@settings(max_examples=25, deadline=None)
@given(layouts(max_inputs=64, max_window=4, max_channels=9))
def test_parameter_count_equals_the_prior(lay):
    for kind in ("convnet", "convac"):
        model = build_model(lay, kind)
        assert sum(p.numel() for p in model.parameters()) == lay.param_count()
        out = model.eval()(torch.rand(2, lay.in_channels, *lay.input_shape))
        assert out.shape == (2, lay.classes) and torch.isfinite(out).all()


def test_product_pool_multiplies_each_window():
    x = torch.arange(1.0, 1 + 2 * 4 * 6).reshape(1, 2, 4, 6)
    y = ProductPool((2, 3))(x)
    assert y.shape == (1, 2, 2, 2)
    assert y[0, 1, 1, 0] == pytest.approx(torch.prod(x[0, 1, 2:4, 0:3]).item())


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model(Layout.uniform((4,), 2, 2, [4]), "resnet")
