"""Training-free predictors that NAS users already know, computed on the same layouts as the prior:
NASWOT (Mellor et al. 2021: log-determinant of the ReLU activation-pattern kernel over a batch) and
SynFlow (Tanaka et al. 2020: sum of |theta * dR/dtheta| with absolute weights and an all-ones input).
Plain parameter count is the third baseline."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["meco", "naswot", "synflow"]


def naswot(model: nn.Module, x: np.ndarray, seed: int = 0) -> float:
    """log |det K|, K_ij = number of ReLU units on which inputs i and j agree (both on or both off)."""
    torch.manual_seed(seed)
    codes: list[torch.Tensor] = []

    def hook(_m, _i, out):
        codes.append((out.detach().flatten(1) > 0).float())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    model.train()  # batch statistics, as NASWOT uses at initialisation
    with torch.no_grad():
        model(torch.from_numpy(x))
    for h in handles:
        h.remove()
    if not codes:
        return float("nan")  # no ReLU (the ConvAC): undefined
    c = torch.cat(codes, dim=1)
    units = c.shape[1]
    # K = c c^T + (1 - c)(1 - c)^T = 2 c c^T - s 1^T - 1 s^T + N (s: each input's active units, N: units),
    # one product instead of two; float32 holds the integer counts exactly while they stay below 2^24
    c = c if units < 2**24 else c.double()
    s = c.sum(dim=1, dtype=torch.float64)
    k = 2 * (c @ c.T).double() - s[:, None] - s[None, :] + units
    return float(torch.linalg.slogdet(k)[1])


def synflow(model: nn.Module, input_shape: tuple[int, ...], in_channels: int = 1) -> float:
    """log of sum |theta * dR/dtheta|, R = sum of the outputs of the all-positive network on ones."""
    model = model.double().eval()
    signs = {}
    with torch.no_grad():
        for name, p in model.state_dict().items():
            signs[name] = torch.sign(p)
            p.abs_()
    model.zero_grad()
    out = model(torch.ones(1, in_channels, *input_shape, dtype=torch.float64))
    out.sum().backward()
    total = sum(float((p.detach() * p.grad).abs().sum()) for p in model.parameters() if p.grad is not None)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            p.mul_(signs[name])
    return float(np.log(total)) if total > 0 else float("-inf")


def meco(model: nn.Module, x: np.ndarray, seed: int = 0) -> float:
    """MeCo (Jiang, Wang and Bie, NeurIPS 2023): for one input, per hidden layer the Pearson correlation
    matrix of the channels (over spatial positions), its smallest eigenvalue, summed over layers. Label-
    and backprop-free. Layers with fewer than two positions have no such matrix and are skipped; a
    channel constant over positions correlates with nothing (its row and column are zero), and a layer
    with more channels than positions has a singular matrix (smallest eigenvalue 0)."""
    torch.manual_seed(seed)
    maps: list[torch.Tensor] = []

    def hook(_m, _i, out):
        maps.append(out.detach()[0].flatten(1).double())  # (channels, positions)

    layers = list(getattr(model, "blocks", []))  # each hidden layer's output (after its pooling)
    handles = [m.register_forward_hook(hook) for m in layers]
    model.train()  # batch statistics, as at initialisation (and as NASWOT does)
    with torch.no_grad():
        model(torch.from_numpy(x[:1]))
    for h in handles:
        h.remove()
    total = 0.0
    for f in maps:
        if f.shape[1] < 2 or f.shape[0] < 2:
            continue
        corr = torch.nan_to_num(torch.corrcoef(f), nan=0.0)
        total += float(torch.linalg.eigvalsh(corr)[0])
    return total
