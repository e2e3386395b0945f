"""Block-structured layouts: the networks people design (ResNets, MobileNets) as a sequence of blocks on a
2D image, then global average pooling and a classifier. Pure: shapes, exact parameter and multiply-
accumulate counts, no torch (``archsearch.train.models.build_model`` builds the module, with exactly these
counts: the tests hold it so).

Blocks (every convolution without bias, followed by BatchNorm; padding k // 2, so a stride-s block maps
H to ceil(H / s)):

* ``conv``: a k x k convolution to ``width`` channels, BatchNorm, ReLU.
* ``basic`` (ResNet's basic block): k x k conv to ``inner`` channels, BN, ReLU, k x k conv to ``width``,
  BN; then the shortcut is added and a ReLU follows (post-activation, as the original ResNet). The
  shortcut: ``identity`` (the input as is), ``projection`` (a 1 x 1 conv with the block's stride, then
  BN), ``none`` (no addition), or ``auto``: identity when width and stride leave the shape unchanged,
  else projection.
* ``inverted-residual`` (MobileNetV2's): 1 x 1 conv to ``inner`` (the expanded width), BN, ReLU; k x k
  depthwise conv with the stride, BN, ReLU; 1 x 1 conv to ``width``, BN (linear); the input is added when
  the shortcut is ``identity`` (``auto``: when the shape is unchanged; otherwise none, MobileNetV2's rule).

Parameters count conv weights, BatchNorm's weight and bias (2 per channel) and the classifier's weights
and biases; multiply-accumulates count every conv's and the classifier's weights times the positions
they are applied at (no BN, no biases, no additions): the conventions of Channel-Bench-Macro's ``params``
and ``flops``, which these counts reproduce for all 2 x 16,384 of its networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BLOCK_KINDS", "SHORTCUTS", "Block", "BlockLayout"]

BLOCK_KINDS = ("conv", "basic", "inverted-residual")
SHORTCUTS = ("auto", "identity", "projection", "none")


@dataclass(frozen=True)
class Block:
    """One block (module docstring): ``kind``, output ``width``, ``kernel``, ``stride``, ``inner`` width
    (``basic``: between its two convs; ``inverted-residual``: the expanded width) and ``shortcut``."""

    kind: str
    width: int
    kernel: int = 3
    stride: int = 1
    inner: int | None = None
    shortcut: str = "auto"

    def __post_init__(self) -> None:
        if self.kind not in BLOCK_KINDS:
            raise ValueError(f"unknown block kind '{self.kind}' (choose {', '.join(BLOCK_KINDS)})")
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"unknown shortcut '{self.shortcut}' (choose {', '.join(SHORTCUTS)})")
        if self.width < 1 or self.kernel < 1 or self.kernel % 2 == 0 or self.stride < 1:
            raise ValueError(f"a block needs width >= 1, an odd kernel and stride >= 1, got {self}")
        if (self.kind == "conv") != (self.inner is None):
            raise ValueError(f"'inner' goes with blocks of kind basic and inverted-residual, got {self}")
        if self.inner is not None and self.inner < 1:
            raise ValueError(f"inner width must be >= 1, got {self.inner}")
        if self.kind == "conv" and self.shortcut != "auto":
            raise ValueError("a conv block has no shortcut")

    def resolved_shortcut(self, in_width: int) -> str:
        """``identity``, ``projection`` or ``none``: what ``auto`` means for this block's input width."""
        if self.kind == "conv":
            return "none"
        same = in_width == self.width and self.stride == 1
        if self.shortcut == "auto":
            return "identity" if same else ("projection" if self.kind == "basic" else "none")
        if self.shortcut == "identity" and not same:
            raise ValueError(f"an identity shortcut needs the block to keep its input's width and size "
                             f"({in_width} -> {self.width}, stride {self.stride})")
        if self.shortcut == "projection" and self.kind == "inverted-residual":
            raise ValueError("an inverted-residual block's shortcut is identity or none")
        return self.shortcut


def _out(side: int, kernel: int, stride: int) -> int:
    return (side + 2 * (kernel // 2) - kernel) // stride + 1


@dataclass(frozen=True)
class BlockLayout:
    """A network of blocks on an image of ``input_shape`` (H, W) with ``in_channels``, classifying into
    ``classes``: the blocks in order, then global average pooling and a linear classifier."""

    input_shape: tuple[int, int]
    blocks: tuple[Block, ...]
    in_channels: int = 3
    classes: int = 10
    shortcuts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.input_shape) != 2 or min(self.input_shape) < 1:
            raise ValueError(f"a block layout takes a 2D input, got {list(self.input_shape)}")
        if not self.blocks:
            raise ValueError("a block layout needs at least one block")
        widths = [self.in_channels] + [b.width for b in self.blocks]
        object.__setattr__(self, "shortcuts",
                           tuple(b.resolved_shortcut(w) for b, w in zip(self.blocks, widths, strict=False)))

    @property
    def depth(self) -> int:
        return len(self.blocks)

    @property
    def widths(self) -> tuple[int, ...]:
        """Every width a layout chooses, in order: per block its ``inner`` width (if any), then its width."""
        out: list[int] = []
        for b in self.blocks:
            out += ([b.inner] if b.inner is not None else []) + [b.width]
        return tuple(out)

    @property
    def channels(self) -> tuple[int, ...]:
        """The hidden widths (every conv's output width, :attr:`widths`): what the task-blind rules read."""
        return self.widths

    def grids(self) -> list[tuple[int, int]]:
        """The (H, W) of each block's output."""
        h, w = self.input_shape
        out = []
        for b in self.blocks:
            h, w = _out(h, b.kernel, b.stride), _out(w, b.kernel, b.stride)
            out.append((h, w))
        return out

    def param_count(self) -> int:
        """Conv weights, BatchNorm weight and bias, the classifier's weights and biases (module docstring)."""
        total, cin = 0, self.in_channels
        for b, sc in zip(self.blocks, self.shortcuts, strict=True):
            k2 = b.kernel * b.kernel
            if b.kind == "conv":
                total += k2 * cin * b.width + 2 * b.width
            elif b.kind == "basic":
                total += k2 * cin * b.inner + 2 * b.inner + k2 * b.inner * b.width + 2 * b.width
            else:  # inverted-residual: expand, depthwise, project
                total += cin * b.inner + 2 * b.inner + k2 * b.inner + 2 * b.inner + b.inner * b.width + 2 * b.width
            if sc == "projection":
                total += cin * b.width + 2 * b.width
            cin = b.width
        return total + cin * self.classes + self.classes

    def mac_count(self) -> int:
        """Multiply-accumulates of one forward pass of one image: every conv's weights times the positions
        of its output, and the classifier's weights (module docstring)."""
        total, cin = 0, self.in_channels
        h, w = self.input_shape
        for b, sc, (ho, wo) in zip(self.blocks, self.shortcuts, self.grids(), strict=True):
            k2, out = b.kernel * b.kernel, ho * wo
            if b.kind == "conv":
                total += out * k2 * cin * b.width
            elif b.kind == "basic":
                total += out * k2 * cin * b.inner + out * k2 * b.inner * b.width
            else:  # the expansion runs at the input's size, the depthwise and projection at the output's
                total += h * w * cin * b.inner + out * k2 * b.inner + out * b.inner * b.width
            if sc == "projection":
                total += out * cin * b.width
            cin, h, w = b.width, ho, wo
        return total + cin * self.classes

    def with_widths(self, widths: list[int] | tuple[int, ...]) -> BlockLayout:
        """The same blocks with the widths :attr:`widths` lists replaced, in that order."""
        it = iter(widths)
        blocks = []
        for b in self.blocks:
            inner = next(it) if b.inner is not None else None
            blocks.append(Block(b.kind, next(it), b.kernel, b.stride, inner, b.shortcut))
        rest = list(it)
        if rest:
            raise ValueError(f"{len(widths)} widths for a layout that chooses {len(self.widths)}")
        return BlockLayout(self.input_shape, tuple(blocks), self.in_channels, self.classes)

    def to_dict(self) -> dict[str, Any]:
        """The block-layout file form (``kind: blocks``)."""
        def block(b: Block) -> dict[str, Any]:
            d: dict[str, Any] = {"kind": b.kind, "width": b.width, "kernel": b.kernel, "stride": b.stride}
            if b.inner is not None:
                d["inner"] = b.inner
            if b.shortcut != "auto":
                d["shortcut"] = b.shortcut
            return d
        return {"kind": "blocks", "input_shape": list(self.input_shape), "in_channels": self.in_channels,
                "classes": self.classes, "blocks": [block(b) for b in self.blocks]}

    def describe(self) -> str:
        """Compact text: ``[conv 128/2; ir 768>128; ... | 716,234 params]``."""
        short = {"conv": "conv", "basic": "rs", "inverted-residual": "ir"}
        parts = []
        for b in self.blocks:
            inner = f"{b.inner}>" if b.inner is not None else ""
            parts.append(f"{short[b.kind]} {inner}{b.width}" + (f"/{b.stride}" if b.stride > 1 else ""))
        return f"[{'; '.join(parts)}]"

