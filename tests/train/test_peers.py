"""The training-free peers: NASWOT's kernel is the count of ReLU units on which two inputs agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from archsearch.core.layout import Layout
from archsearch.train.models import build_model
from archsearch.train.peers import naswot


def _codes(model: nn.Module, x: np.ndarray) -> torch.Tensor:
    codes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: codes.append((out.flatten(1) > 0).double()))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    return torch.cat(codes, dim=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_naswot_is_log_det_of_the_agreement_counts(seed):
    lay = Layout.uniform((8, 8), M=4, channels=6, pools=[2, 2, 2])
    x = np.random.default_rng(seed).standard_normal((12, 1, 8, 8)).astype(np.float32)
    c = _codes(build_model(lay, "convnet", seed=seed), x)
    agree = c @ c.T + (1 - c) @ (1 - c).T  # the definition, in float64
    assert agree.diagonal().eq(c.shape[1]).all()  # an input agrees with itself on every unit
    want = float(torch.linalg.slogdet(agree)[1])
    assert naswot(build_model(lay, "convnet", seed=seed), x) == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_naswot_of_identical_inputs_is_singular():
    lay = Layout.uniform((8, 8), M=4, channels=6, pools=[2, 2, 2])
    x = np.repeat(np.random.default_rng(0).standard_normal((1, 1, 8, 8)).astype(np.float32), 3, axis=0)
    assert naswot(build_model(lay, "convnet", seed=0), x) == -np.inf
