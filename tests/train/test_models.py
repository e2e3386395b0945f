from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.layout import Layout
from archsearch.train.models import ProductPool, build_model
from tests.conftest import ROOT, layouts


@settings(max_examples=25, deadline=None)
@given(layouts(max_inputs=64, max_window=4, max_channels=9))
def test_parameter_count_equals_the_prior(lay):
    for kind in ("convnet", "convac"):
        model = build_model(lay, kind)
        assert sum(p.numel() for p in model.parameters()) == lay.param_count()
        out = model.eval()(torch.rand(2, lay.in_channels, *lay.input_shape))
        assert out.shape == (2, lay.classes) and torch.isfinite(out).all()


@settings(max_examples=25, deadline=None)
@given(layouts(max_inputs=64, max_window=4, max_channels=9))
def test_mac_count_equals_the_torch_modules(lay):
    """Multiply-accumulates counted from the modules as they run (forward hooks on every conv and linear
    layer: output elements x inputs each one reads), for both kinds, equal the closed form."""
    for kind in ("convnet", "convac"):
        model = build_model(lay, kind).eval()
        counted = []

        def hook(mod, inputs, out, counted=counted):
            if isinstance(mod, torch.nn.Linear):
                counted.append(out.shape[-1] * mod.in_features)
            else:  # a convolution: every output element reads in_channels x the kernel's taps
                counted.append(out[0].numel() * mod.in_channels * math.prod(mod.kernel_size) // mod.groups)

        for m in model.modules():
            if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Linear):
                m.register_forward_hook(hook)
        model(torch.rand(1, lay.in_channels, *lay.input_shape))
        assert sum(counted) == lay.mac_count()


def test_product_pool_multiplies_each_window():
    """Evaluation mode, unit scales: each output is exactly its window's product (non-square windows)."""
    x = torch.arange(1.0, 1 + 2 * 4 * 6, dtype=torch.float64).reshape(1, 2, 4, 6) * (-1) ** torch.arange(48.0).reshape(
        1, 2, 4, 6)
    pool = ProductPool((2, 3), channels=2).eval()
    y = pool(x)
    assert y.shape == (1, 2, 2, 2)
    assert y[0, 1, 1, 0].item() == pytest.approx(torch.prod(x[0, 1, 2:4, 0:3]).item(), rel=1e-4)
    pool.running_log_scale.fill_(2.0)  # a fixed positive constant per channel: exp(-2) here
    assert pool(x)[0, 1, 1, 0].item() == pytest.approx(torch.prod(x[0, 1, 2:4, 0:3]).item() * math.exp(-2), rel=1e-4)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model(Layout.uniform((4,), 2, 2, [4]), "resnet")


def test_product_pooling_stays_in_range_at_depth():
    """Five layers of products at initialisation: every value finite and the top on unit scale (the plain
    product underflowed to 1e-18 there, so the classifier saw only its bias)."""
    from archsearch.core.layout import paper_pair

    wb, _ = paper_pair((32, 32), 10, 8, [2] * 5)
    model = build_model(wb, "convac", seed=0)
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 10:18, 12:20] = torch.rand(64, 1, 8, 8)  # a digit-sized patch on an empty canvas
    h = model.blocks(model.rep(x))
    assert torch.isfinite(h).all()
    assert 0.1 < h.abs().mean() < 10
    logits = model.head(h.flatten(1))
    assert logits.std(0).mean() > 1e-3  # the output depends on the input, not only on the bias


def test_product_pool_is_a_product_up_to_one_positive_constant_per_channel():
    """Training mode: each channel is its true products divided by one positive number (the batch's
    geometric mean), the same for every sample and position, so signs and ratios are the true ones."""
    x = torch.randn(3, 5, 4, 4, dtype=torch.float64) * 3
    out = ProductPool((2, 2), channels=5)(x)
    true = x.reshape(3, 5, 2, 2, 2, 2).prod(dim=5).prod(dim=3)
    ratio = (out / true).transpose(0, 1).reshape(5, -1)
    assert (ratio > 0).all()
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-4, atol=0)


@pytest.mark.slow
def test_convac_learns_well_above_chance():
    """The ConvAC trains: raw 8x8 digits, three 2x2 product poolings, 12 epochs on 2,000 images."""
    from archsearch.core.layout import Layout
    from archsearch.formats.task import DataSpec
    from archsearch.train.data import load_data
    from archsearch.train.loop import TrainConfig, train

    data = load_data(DataSpec("digits", 8, 2000, 400, 0, None), (8, 8), None)
    lay = Layout.uniform((8, 8), M=10, channels=16, pools=[2, 2, 2])
    out = train(build_model(lay, "convac", seed=0), data, TrainConfig(epochs=12, seed=0, device="cpu"))
    assert out["val_accuracy"] > 0.5 and out["test_accuracy"] > 0.5  # chance is about 0.1


# -- block layouts ---------------------------------------------------------------------------------------
def _torch_counts(model: torch.nn.Module, shape: tuple[int, int, int]) -> tuple[int, int]:
    """Parameters, and multiply-accumulates counted from the modules as they run: every conv's and linear's
    weights times the positions of its output."""
    macs = [0]

    def hook(mod, inputs, out):
        if isinstance(mod, torch.nn.Conv2d):
            macs[0] += out.shape[2] * out.shape[3] * mod.weight.numel()
        elif isinstance(mod, torch.nn.Linear):
            macs[0] += mod.weight.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, *shape))
    for h in handles:
        h.remove()
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    return sum(p.numel() for p in model.parameters()), macs[0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["conv", "basic", "inverted-residual"]), st.integers(1, 10),
                          st.sampled_from([1, 3, 5]), st.sampled_from([1, 2]), st.integers(1, 10),
                          st.sampled_from(["auto", "none"])), min_size=1, max_size=4),
       st.integers(1, 3), st.sampled_from([8, 11, 16]))
def test_a_block_layouts_network_has_exactly_its_counts(spec, cin, side):
    from archsearch.core.blocks import Block, BlockLayout

    blocks = tuple(Block(k, w, kern, s, None if k == "conv" else inner, "auto" if k == "conv" else sc)
                   for k, w, kern, s, inner, sc in spec)
    lay = BlockLayout((side, side), blocks, cin, 10)
    assert _torch_counts(build_model(lay, seed=0), (cin, side, side)) == (lay.param_count(), lay.mac_count())


@pytest.mark.parametrize("name", ["cbm-mobilenet", "cbm-resnet"])
def test_the_channel_bench_macro_networks_build_with_their_counts(name):
    from archsearch.formats.blocks_file import load_block_space

    space = load_block_space(ROOT / "search_spaces" / f"{name}.yaml")
    for pick in (min, max):
        lay = space.layout([pick(c) for c in space.slots.values()])
        assert _torch_counts(build_model(lay, seed=0), (3, 32, 32)) == (lay.param_count(), lay.mac_count())
