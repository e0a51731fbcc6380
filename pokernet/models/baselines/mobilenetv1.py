"""MobileNetV1 (Howard et al., 2017) at any width multiplier.

Written by hand: torchvision has no MobileNetV1 and timm builds it only at 1.0×/1.25×
through a private generator. Layout: conv 3x3/s2 to 32α, 13 depthwise-separable
layers, global average pool, classifier; every channel count is int(c·α) as in the paper.
"""

from __future__ import annotations

import torch
from torch import nn

# (output channels at 1.0×, stride) of the 13 depthwise-separable layers.
LAYERS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def _conv_bn_relu(in_chs: int, out_chs: int, kernel: int, stride: int, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_chs),
        nn.ReLU(inplace=True),
    ]


class MobileNetV1(nn.Module):
    def __init__(self, width: float = 1.0, num_classes: int = 1000, in_chans: int = 3):
        super().__init__()
        prev = int(32 * width)
        layers = _conv_bn_relu(in_chans, prev, 3, 2)
        for out, stride in LAYERS:
            out = int(out * width)
            layers += _conv_bn_relu(prev, prev, 3, stride, groups=prev) + _conv_bn_relu(prev, out, 1, 1)
            prev = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))
