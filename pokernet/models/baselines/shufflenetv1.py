"""ShuffleNetV1 (Zhang et al., CVPR 2018).

Written by hand: neither torchvision nor timm ships ShuffleNetV1. Channel widths
follow the authors' reference configuration (stem 24 at 1.0×; 16 for g=8 and 12 for
g=3 at 0.5×), stages of 4/8/4 units, bottleneck width out/4, no group conv in the first
pointwise conv of the first unit.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.shufflenetv2 import channel_shuffle

STAGE_REPEATS = (4, 8, 4)
# (stem, stage2, stage3, stage4) output channels by (groups, width).
STAGE_CHANNELS = {
    (3, 0.5): (12, 120, 240, 480),
    (3, 1.0): (24, 240, 480, 960),
    (8, 0.5): (16, 192, 384, 768),
    (8, 1.0): (24, 384, 768, 1536),
}


class ShuffleUnit(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, groups: int, stride: int, first_group_conv: bool):
        super().__init__()
        self.stride = stride
        self.groups = groups
        mid = out_chs // 4
        branch_out = out_chs - in_chs if stride == 2 else out_chs
        g1 = groups if first_group_conv else 1
        self.reduce = nn.Sequential(
            nn.Conv2d(in_chs, mid, 1, groups=g1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True)
        )
        self.depthwise = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid))
        self.expand = nn.Sequential(
            nn.Conv2d(mid, branch_out, 1, groups=groups, bias=False), nn.BatchNorm2d(branch_out)
        )
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.reduce(x)
        if self.groups > 1:
            out = channel_shuffle(out, self.groups)
        out = self.expand(self.depthwise(out))
        if self.pool is not None:
            return torch.cat([self.pool(x), torch.relu(out)], 1)
        return torch.relu(x + out)


class ShuffleNetV1(nn.Module):
    def __init__(self, groups: int, width: float, num_classes: int = 1000, in_chans: int = 3):
        super().__init__()
        if (groups, width) not in STAGE_CHANNELS:
            raise ValueError(
                f"ShuffleNetV1 has no configuration for groups={groups}, width={width}; known: {sorted(STAGE_CHANNELS)}"
            )
        stem, *stages = STAGE_CHANNELS[(groups, width)]
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, stem, 3, 2, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        units: list[nn.Module] = []
        prev = stem
        for stage_index, (out, repeats) in enumerate(zip(stages, STAGE_REPEATS)):
            for i in range(repeats):
                units.append(
                    ShuffleUnit(
                        prev, out, groups, 2 if i == 0 else 1, first_group_conv=not (stage_index == 0 and i == 0)
                    )
                )
                prev = out
        self.features = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(self.stem(x))).flatten(1))
