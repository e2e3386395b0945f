"""Torch modules built from a layout: the paper's ConvNet (ReLU, max pooling) and the ConvAC itself
(linear 1x1 convs, product pooling). Both have exactly ``layout.param_count()`` parameters."""

from __future__ import annotations

import torch
from torch import nn

from archsearch.core.layout import Layout

__all__ = ["KINDS", "ConvAC", "ConvNet", "build_model"]


def _conv(nd: int, cin: int, cout: int, k: int, bias: bool) -> nn.Module:
    cls = nn.Conv1d if nd == 1 else nn.Conv2d
    return cls(cin, cout, k, padding=k // 2, bias=bias)


def _norm(nd: int, c: int) -> nn.Module:
    return nn.BatchNorm1d(c) if nd == 1 else nn.BatchNorm2d(c)


class ProductPool(nn.Module):
    """Product over non-overlapping windows, same channel: the ConvAC's pooling."""

    def __init__(self, window: tuple[int, ...]) -> None:
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *grid = x.shape
        split = [b, c]
        for g, w in zip(grid, self.window, strict=True):
            split += [g // w, w]
        x = x.reshape(split)
        for dim in range(x.dim() - 1, 2, -2):  # the window axes, last first so indices stay valid
            x = x.prod(dim=dim)
        return x


class _Net(nn.Module):
    def __init__(self, layout: Layout, pool: type | None) -> None:
        super().__init__()
        nd = len(layout.input_shape)
        self.layout = layout
        self.rep = _conv(nd, layout.in_channels, layout.M, layout.kernel, bias=True)
        blocks, prev = [], layout.M
        for layer in layout.layers:
            # a 1x1 conv without bias, then BatchNorm: its affine is the layer's per-channel shift
            parts = [_conv(nd, prev, layer.channels, 1, bias=False), _norm(nd, layer.channels)]
            if pool is None:
                parts.append(ProductPool(layer.pool))
            else:
                parts += [nn.ReLU(), pool(layer.pool)]
            blocks.append(nn.Sequential(*parts))
            prev = layer.channels
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(prev, layout.classes)


class ConvNet(_Net):
    """Representation conv -> ReLU, then per layer 1x1 conv -> BatchNorm -> ReLU -> max pool, dense."""

    def __init__(self, layout: Layout) -> None:
        nd = len(layout.input_shape)
        super().__init__(layout, nn.MaxPool1d if nd == 1 else nn.MaxPool2d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.rep(x))
        return self.head(self.blocks(x).flatten(1))


class ConvAC(_Net):
    """Convolutional arithmetic circuit: linear 1x1 convs and product pooling, made stable by the
    per-layer BatchNorm (an affine map per channel, so each window still multiplies its children)."""

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.rep(x)
        return self.head(self.blocks(x).flatten(1))


KINDS = {"convnet": ConvNet, "convac": ConvAC}


def build_model(layout: Layout, kind: str = "convnet", seed: int | None = None) -> nn.Module:
    """The torch module of ``layout``; ``kind`` is ``convnet`` or ``convac``. With ``seed`` the initial
    weights are reproducible."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind '{kind}' (choose {', '.join(KINDS)})")
    if seed is not None:
        torch.manual_seed(seed)
    return KINDS[kind](layout)
