"""A block layout read from a torch module (``archsearch layout from-torch``): the module is traced with
``torch.fx`` and its graph matched, node by node, against the supported blocks (:mod:`archsearch.core.blocks`):

* ``conv``: Conv2d (no bias, padding k // 2) -> BatchNorm2d -> ReLU;
* ``inverted-residual``: 1 x 1 conv -> BN -> ReLU -> depthwise k x k conv -> BN -> ReLU -> 1 x 1 conv -> BN,
  plus the block's input when it is added;
* ``basic``: k x k conv -> BN -> ReLU -> k x k conv -> BN, plus the input or a 1 x 1 conv -> BN of it, then
  ReLU (a basic block with no shortcut is two ``conv`` blocks: the same network, read back as such);
* the head: global average pooling (``mean`` over H, W or AdaptiveAvgPool2d(1)), a flatten, one Linear.

Anything else is refused in one line that names the graph node where matching stopped. A depthwise conv
of one channel is an ordinary conv (the graph cannot tell them apart), so an inverted-residual block reads
back as such only when its expanded width is at least 2.
"""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from archsearch.core.blocks import Block, BlockLayout
from archsearch.errors import InputError

__all__ = ["layout_from_module"]

_RELU = {torch.relu, torch.nn.functional.relu, "relu"}
_ADD = {operator.add, torch.add, "add"}


class _Graph:
    """The traced graph, with each node's users and a way to name what it is."""

    def __init__(self, module: nn.Module) -> None:
        try:
            self.gm = fx.symbolic_trace(module)
        except Exception as exc:  # noqa: BLE001 - whatever torch.fx cannot trace
            raise InputError(f"torch.fx cannot trace the module: {str(exc).splitlines()[0][:160]}",
                             field="module") from None
        self.modules = dict(self.gm.named_modules())

    def users(self, node: fx.Node) -> list[fx.Node]:
        return list(node.users)

    def module(self, node: fx.Node) -> nn.Module | None:
        return self.modules.get(node.target) if node.op == "call_module" else None

    def is_(self, node: fx.Node, kind: type) -> bool:
        return isinstance(self.module(node), kind)

    def is_relu(self, node: fx.Node) -> bool:
        return (self.is_(node, nn.ReLU) or (node.op == "call_function" and node.target in _RELU)
                or (node.op == "call_method" and node.target in _RELU))

    def is_add(self, node: fx.Node) -> bool:
        return (node.op == "call_function" and node.target in _ADD) or (node.op == "call_method" and
                                                                         node.target in _ADD)

    def refuse(self, node: fx.Node, why: str) -> InputError:
        what = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
        return InputError(f"node '{node.name}' ({node.op} {what}): {why}", field="module")


def _only_user(g: _Graph, node: fx.Node) -> fx.Node:
    users = g.users(node)
    if len(users) != 1:
        raise g.refuse(node, f"used {len(users)} times where a supported block uses it once")
    return users[0]


def _conv_bn(g: _Graph, node: fx.Node, cin: int) -> tuple[fx.Node, nn.Conv2d]:
    """``node`` is a Conv2d of ``cin`` inputs (no bias, padding k // 2, square) followed by BatchNorm2d; the
    BN node and the conv."""
    conv = g.module(node)
    if not isinstance(conv, nn.Conv2d):
        raise g.refuse(node, "expected a Conv2d here")
    k, s = conv.kernel_size[0], conv.stride[0]
    if (conv.bias is not None or conv.kernel_size[1] != k or conv.stride[1] != s or conv.padding != (k // 2, k // 2)
            or conv.dilation != (1, 1) or conv.in_channels != cin or k % 2 == 0):
        raise g.refuse(node, "a supported conv is square, odd, without bias or dilation, padded k // 2, and takes "
                             "the stream's channels")
    bn = _only_user(g, node)
    if not (g.is_(bn, nn.BatchNorm2d) and g.module(bn).num_features == conv.out_channels):
        raise g.refuse(bn, "a conv is followed by its BatchNorm2d")
    return bn, conv


def _relu_after(g: _Graph, node: fx.Node) -> fx.Node:
    nxt = _only_user(g, node)
    if not g.is_relu(nxt):
        raise g.refuse(nxt, "expected a ReLU here")
    return nxt


def _block(g: _Graph, cur: fx.Node, cin: int) -> tuple[Block, fx.Node]:
    """The block that starts at the stream node ``cur`` (``cin`` channels) and the stream node it ends at."""
    convs = [u for u in g.users(cur) if g.is_(u, nn.Conv2d)]
    adds = [u for u in g.users(cur) if g.is_add(u)]
    if not convs:
        raise g.refuse(cur, "no convolution reads the stream here: not a supported block")
    # a projection shortcut is the 1x1 conv whose BN output feeds an add; the body is the other conv
    body = next((c for c in convs if not _feeds_add(g, c)), convs[0])
    first_bn, first = _conv_bn(g, body, cin)
    a = _relu_after(g, first_bn)
    after = g.users(a)
    nxt = after[0] if len(after) == 1 else None  # a block's inner stream has one reader; a conv block's end, any
    second = g.module(nxt) if nxt is not None else None
    if (first.kernel_size[0] == 1 and first.groups == 1 and isinstance(second, nn.Conv2d)
            and second.groups == second.in_channels == first.out_channels and second.groups > 1):
        dw_bn, dw = _conv_bn(g, nxt, first.out_channels)
        project_bn, project = _conv_bn(g, _only_user(g, _relu_after(g, dw_bn)), dw.out_channels)
        if project.kernel_size[0] != 1:
            raise g.refuse(project_bn, "an inverted-residual block ends in a 1 x 1 conv")
        end, shortcut = _maybe_add(g, project_bn, cur)
        blk = Block("inverted-residual", project.out_channels, dw.kernel_size[0], dw.stride[0], first.out_channels,
                    "identity" if shortcut else "none")
        return blk, end
    if isinstance(second, nn.Conv2d) and second.groups == 1 and _second_is_residual(g, nxt):
        bn2, conv2 = _conv_bn(g, nxt, first.out_channels)
        add = _only_user(g, bn2)
        other = next(x for x in add.args if isinstance(x, fx.Node) and x is not bn2)
        if other is cur:
            shortcut = "identity"
        else:
            p_bn, p_conv = _conv_bn(g, other.args[0], cin) if other.op == "call_module" and \
                g.is_(other, nn.BatchNorm2d) else (None, None)
            if p_conv is None or p_conv.kernel_size[0] != 1 or other.args[0].args[0] is not cur:
                raise g.refuse(other, "a basic block's shortcut is its input, or a 1 x 1 conv and BN of it")
            shortcut = "projection"
        end = _relu_after(g, add)
        return Block("basic", conv2.out_channels, first.kernel_size[0], first.stride[0], first.out_channels,
                     shortcut), end
    if adds:
        raise g.refuse(adds[0], "an addition that matches no supported block")
    return Block("conv", first.out_channels, first.kernel_size[0], first.stride[0]), a


def _feeds_add(g: _Graph, conv: fx.Node) -> bool:
    users = g.users(conv)
    return len(users) == 1 and g.is_(users[0], nn.BatchNorm2d) and any(g.is_add(u) for u in g.users(users[0]))


def _second_is_residual(g: _Graph, conv: fx.Node) -> bool:
    """Whether the conv after a first conv-BN-ReLU ends in BN -> add (a basic block with a shortcut)."""
    users = g.users(conv)
    if len(users) != 1 or not g.is_(users[0], nn.BatchNorm2d):
        return False
    after = g.users(users[0])
    return len(after) == 1 and g.is_add(after[0])


def _maybe_add(g: _Graph, bn: fx.Node, cur: fx.Node) -> tuple[fx.Node, bool]:
    users = g.users(bn)
    if len(users) == 1 and g.is_add(users[0]) and cur in users[0].args:
        return users[0], True
    return bn, False


def _head(g: _Graph, cur: fx.Node, cin: int) -> int:
    """Global average pooling, a flatten, one Linear from ``cin`` features, the output: its classes."""
    node = _only_user(g, cur)
    pooled = (g.is_(node, nn.AdaptiveAvgPool2d) and g.module(node).output_size in (1, (1, 1))) or (
        node.op == "call_method" and node.target == "mean") or (node.op == "call_function" and node.target is
                                                                   torch.mean) or (
        node.op == "call_function" and node.target is torch.nn.functional.adaptive_avg_pool2d
        and (node.args[1:2] or [node.kwargs.get("output_size")])[0] in (1, (1, 1)))
    if not pooled:
        raise g.refuse(node, "expected the blocks to end in global average pooling")
    node = _only_user(g, node)
    while (node.op == "call_method" and node.target in ("flatten", "view", "reshape", "squeeze")) or (
            node.op == "call_function" and node.target is torch.flatten) or g.is_(node, nn.Flatten):
        node = _only_user(g, node)
    lin = g.module(node)
    if not isinstance(lin, nn.Linear) or lin.in_features != cin or lin.bias is None:
        raise g.refuse(node, "expected one Linear (with bias) from the pooled features to the classes")
    out = _only_user(g, node)
    if out.op != "output":
        raise g.refuse(out, "the Linear's output is the module's output")
    return lin.out_features


def layout_from_module(module: nn.Module, input_shape: tuple[int, int, int]) -> BlockLayout:
    """The block layout of ``module`` for inputs of ``input_shape`` (C, H, W) (module docstring)."""
    c, h, w = input_shape
    g = _Graph(module)
    inputs = [n for n in g.gm.graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise InputError(f"the module takes {len(inputs)} inputs; a supported network takes one image batch",
                         field="module")
    cur, cin, blocks = inputs[0], c, []
    while True:
        users = g.users(cur)
        if any(g.is_(u, nn.Conv2d) for u in users) or not users:
            blk, cur = _block(g, cur, cin)
            blocks.append(blk)
            cin = blk.width
            continue
        classes = _head(g, cur, cin)
        break
    # a shortcut that is what ``auto`` means for the block is written as auto (the form a layout file uses)
    widths = [c] + [b.width for b in blocks]
    blocks = [b if b.kind == "conv" or Block(b.kind, b.width, b.kernel, b.stride, b.inner).resolved_shortcut(cin)
              != b.shortcut else Block(b.kind, b.width, b.kernel, b.stride, b.inner)
              for b, cin in zip(blocks, widths, strict=False)]
    try:
        return BlockLayout((h, w), tuple(blocks), c, classes)
    except ValueError as exc:
        raise InputError(str(exc), field="module") from None

