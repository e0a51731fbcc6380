"""Ghost module padding for ONNX Runtime's blocked kernels (an inference rewrite of timm's
GhostModule, which this project does not own; exact, tested in tests/test_latency_variants.py)."""

from __future__ import annotations

import copy

import torch
from timm.models.ghostnet import GhostModule
from torch import nn

from .variants import fold_bn


class PaddedGhostModule(nn.Module):
    """A GhostModule whose primary conv (and so its cheap depthwise conv) is widened with
    zero channels to a multiple of ``multiple``; the padding is sliced off before the concat.

    Why: ONNX Runtime's blocked (NCHWc) kernels skip a depthwise conv whose channel count is
    not a multiple of 4 and run it on a slow generic path (PokerNet's 10- and 30-channel
    Ghost modules at 112² and 56²). Generic: it applies to any model's Ghost modules.
    """

    def __init__(self, ghost: GhostModule, multiple: int):
        super().__init__()
        conv1, bn1, act1 = ghost.primary_conv
        conv2, bn2, act2 = ghost.cheap_operation
        self.init, self.new, self.out = conv1.out_channels, conv2.out_channels, ghost.out_chs
        padded = -(-self.init // multiple) * multiple
        if conv2.groups != conv2.in_channels or conv2.out_channels != conv2.in_channels:
            raise ValueError("PaddedGhostModule needs a GhostModule with ratio 2 (depthwise cheap op)")
        self.primary = nn.Conv2d(conv1.in_channels, padded, conv1.kernel_size, conv1.stride, conv1.padding, bias=True)
        self.cheap = nn.Conv2d(padded, padded, conv2.kernel_size, conv2.stride, conv2.padding, groups=padded, bias=True)
        for conv, (weight, bias) in ((self.primary, fold_bn(conv1, bn1)), (self.cheap, fold_bn(conv2, bn2))):
            with torch.no_grad():
                conv.weight.zero_()
                conv.bias.zero_()
                conv.weight[: self.init] = weight
                conv.bias[: self.init] = bias
        self.act1, self.act2 = copy.deepcopy(act1), copy.deepcopy(act2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.act1(self.primary(x))
        x2 = self.act2(self.cheap(x1))
        out = torch.cat([x1[:, : self.init], x2[:, : self.new]], 1)
        return out if self.init + self.new == self.out else out[:, : self.out]


def pad_ghost_modules(model: nn.Module, multiple: int) -> int:
    """Replace, in place, every GhostModule whose primary width is not a multiple of
    ``multiple`` by a :class:`PaddedGhostModule`; returns how many were replaced."""
    if multiple <= 1:
        return 0
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if (
                isinstance(child, GhostModule)
                and child.primary_conv[0].out_channels % multiple
                and child.cheap_operation[0].groups == child.cheap_operation[0].in_channels
            ):
                setattr(parent, name, PaddedGhostModule(child, multiple))
                count += 1
    return count
