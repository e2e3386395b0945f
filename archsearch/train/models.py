"""Torch modules built from a layout: the paper's ConvNet (ReLU, max pooling) and the ConvAC itself
(linear 1x1 convs, product pooling), and a block layout's network (:class:`BlockNet`: ResNet and MobileNet
blocks). Each has exactly ``layout.param_count()`` parameters."""

from __future__ import annotations

import torch
from torch import nn

from archsearch.core.blocks import Block, BlockLayout
from archsearch.core.layout import Layout

__all__ = ["KINDS", "BlockNet", "ConvAC", "ConvNet", "build_model"]


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


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    parts = [nn.Conv2d(cin, cout, k, stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*parts, nn.ReLU(inplace=True)) if relu else nn.Sequential(*parts)


class _Block(nn.Module):
    """One block of :mod:`archsearch.core.blocks`: its body, its shortcut, and (``basic``) the ReLU after
    the sum."""

    def __init__(self, b: Block, cin: int, shortcut: str) -> None:
        super().__init__()
        self.kind = b.kind
        if b.kind == "conv":
            self.body = _conv_bn(cin, b.width, b.kernel, b.stride)
        elif b.kind == "basic":
            self.body = nn.Sequential(_conv_bn(cin, b.inner, b.kernel, b.stride),
                                      _conv_bn(b.inner, b.width, b.kernel, relu=False))
        else:
            self.body = nn.Sequential(_conv_bn(cin, b.inner, 1),
                                      _conv_bn(b.inner, b.inner, b.kernel, b.stride, groups=b.inner),
                                      _conv_bn(b.inner, b.width, 1, relu=False))
        self.shortcut = shortcut
        self.project = _conv_bn(cin, b.width, 1, b.stride, relu=False) if shortcut == "projection" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.shortcut == "identity":
            y = y + x
        elif self.project is not None:
            y = y + self.project(x)
        return torch.relu(y) if self.kind == "basic" else y


class BlockNet(nn.Module):
    """A block layout's network: the blocks, global average pooling, a linear classifier."""

    def __init__(self, layout: BlockLayout) -> None:
        super().__init__()
        self.layout = layout
        widths = [layout.in_channels] + [b.width for b in layout.blocks]
        self.blocks = nn.Sequential(*(_Block(b, cin, sc) for b, cin, sc in zip(layout.blocks, widths,
                                                                                 layout.shortcuts, strict=False)))
        self.head = nn.Linear(widths[-1], layout.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x).mean(dim=(2, 3)))


KINDS = {"convnet": ConvNet, "convac": ConvAC}


def build_model(layout: Layout | BlockLayout, kind: str = "convnet", seed: int | None = None) -> nn.Module:
    """The torch module of ``layout``; ``kind`` is ``convnet`` or ``convac`` (a block layout builds its
    :class:`BlockNet` whatever the kind). With ``seed`` the initial weights are reproducible."""
    if seed is not None:
        torch.manual_seed(seed)
    if isinstance(layout, BlockLayout):  # a block layout is its own kind of network
        return BlockNet(layout)
    if kind not in KINDS:
        raise ValueError(f"unknown model kind '{kind}' (choose {', '.join(KINDS)})")
    return KINDS[kind](layout)
