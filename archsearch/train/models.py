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
    """Product over non-overlapping windows, same channel: the ConvAC's pooling, computed stably.

    A product of many factors under- or overflows float32 within a few layers (seen: 1e-18 at the top of
    a five-layer network at initialisation, so the classifier saw only its bias). So the product is taken
    in log space, as a sign and a sum of log-magnitudes, and each channel is divided by a positive
    constant: the geometric mean of its magnitudes (in training over the batch and positions; in
    evaluation a running mean, fixed, as BatchNorm does). A fixed positive constant per channel folds
    into the next layer's weights, so the network evaluated is exactly a ConvAC: linear 1x1 convs,
    per-channel affine maps, products over the windows, nothing else. No parameters are added.
    """

    def __init__(self, window: tuple[int, ...], channels: int, momentum: float = 0.1, eps: float = 1e-6) -> None:
        super().__init__()
        self.window, self.momentum, self.eps = window, momentum, eps
        self.register_buffer("running_log_scale", torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *grid = x.shape
        split = [b, c]
        for g, w in zip(grid, self.window, strict=True):
            split += [g // w, w]
        axes = tuple(range(3, 2 + 2 * len(grid) + 1, 2))  # the window axes
        x = x.reshape(split)
        log_mag = torch.log(x.abs() + self.eps).sum(dim=axes)
        sign = torch.sign(x)
        for dim in reversed(axes):  # prod takes one axis at a time; last first so indices stay valid
            sign = sign.prod(dim=dim)
        if self.training:
            scale = log_mag.detach().transpose(0, 1).reshape(c, -1).mean(dim=1)
            with torch.no_grad():
                self.running_log_scale.lerp_(scale.to(self.running_log_scale.dtype), self.momentum)
        else:
            scale = self.running_log_scale
        # clamp: a product far above its channel's typical size saturates instead of overflowing
        return sign * torch.exp((log_mag - scale.view((1, c) + (1,) * len(grid))).clamp(max=30.0))


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
                parts.append(ProductPool(layer.pool, layer.channels))
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
    """Convolutional arithmetic circuit: linear 1x1 convs and product pooling. Each layer's BatchNorm
    (an affine map per channel: each window still multiplies its children) keeps the factors near a
    fixed scale, and the pooling works in log space (:class:`ProductPool`), so no depth under- or
    overflows."""

    #: each layer's BatchNorm shift starts here: every factor of a product is then about 4 +- 1, so a
    #: window's product is close to 4^w (1 + sum of noise / 4), nearly a sum, and gradients reach every
    #: factor. Zero-centred factors make the product a parity of signs at the start, and the network did
    #: not learn (seen: loss stuck at ln 10, 0.073 accuracy on every run).
    FACTOR_SHIFT = 4.0

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout, None)
        for block in self.blocks:
            nn.init.constant_(block[1].bias, self.FACTOR_SHIFT)

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
