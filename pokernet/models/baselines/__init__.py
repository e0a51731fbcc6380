"""Baselines of Table 2, registered in the pokernet registry.

Library implementations are used where they match the published model: timm for
GhostNet and MobileNetV3 (timm keeps the MobileNetV3 head at 1024/1280 channels for
multipliers < 1, as the MobileNetV3 paper does; torchvision's ``width_mult`` narrows it),
torchvision for MobileNetV2 (any width, head kept at 1280) and ShuffleNetV2.
ShuffleNetV1 and MobileNetV1 are written here (no library has them at these widths).
"""

from __future__ import annotations

import timm
import torchvision.models as tvm
from torch import nn

from ..registry import register
from .mobilenetv1 import MobileNetV1
from .shufflenetv1 import ShuffleNetV1


def _replace_stem(model: nn.Module, path: str, in_chans: int) -> nn.Module:
    """torchvision models take no ``in_chans``: swap the first conv for one that does."""
    if in_chans == 3:
        return model
    parent_path, _, attr = path.rpartition(".")
    parent = model.get_submodule(parent_path)
    old: nn.Conv2d = getattr(parent, attr)
    setattr(
        parent,
        attr,
        nn.Conv2d(in_chans, old.out_channels, old.kernel_size, old.stride, old.padding, bias=old.bias is not None),
    )
    return model


def _timm(name: str, paper_row: str, family: str, width: float):
    def build(num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.2) -> nn.Module:
        return timm.create_model(name, num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)

    register(name, paper_row, f"timm {timm.__version__} ({name})", family, width)(build)


def _mobilenetv2(name: str, width: float, paper_row: str):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        model = tvm.mobilenet_v2(width_mult=width, num_classes=num_classes)
        return _replace_stem(model, "features.0.0", in_chans)

    register(name, paper_row, f"torchvision mobilenet_v2(width_mult={width})", "mobilenetv2", width)(build)


def _shufflenetv2(name: str, factory: str, paper_row: str, width: float):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        model = getattr(tvm, factory)(num_classes=num_classes)
        return _replace_stem(model, "conv1.0", in_chans)

    register(name, paper_row, f"torchvision {factory}", "shufflenetv2", width)(build)


def _shufflenetv1(name: str, groups: int, width: float, paper_row: str):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        return ShuffleNetV1(groups, width, num_classes, in_chans)

    register(name, paper_row, "pokernet.models.baselines.shufflenetv1 (hand-written)", "shufflenetv1", width)(build)


_timm("ghostnet_050", "GhostNet 0.5×", "ghostnet", 0.5)
_timm("ghostnet_100", "GhostNet 1.0×", "ghostnet", 1.0)
_timm("mobilenetv3_small_075", "MobileNetV3 Small 0.75×", "mobilenetv3_small", 0.75)
_timm("mobilenetv3_large_075", "MobileNetV3 Large 0.75×", "mobilenetv3_large", 0.75)
_shufflenetv2("shufflenetv2_050", "shufflenet_v2_x0_5", "ShuffleNetV2 0.5×", 0.5)
_shufflenetv2("shufflenetv2_100", "shufflenet_v2_x1_0", "ShuffleNetV2 1.0×", 1.0)
_mobilenetv2("mobilenetv2_035", 0.35, "MobileNetV2 0.35×")
_mobilenetv2("mobilenetv2_060", 0.6, "MobileNetV2 0.6×")
_shufflenetv1("shufflenetv1_050_g8", 8, 0.5, "ShuffleNetV1 0.5× (g=8)")
_shufflenetv1("shufflenetv1_100_g3", 3, 1.0, "ShuffleNetV1 1.0× (g=3)")


@register(
    "mobilenetv1_050", "MobileNetV1 0.5×", "pokernet.models.baselines.mobilenetv1 (hand-written)", "mobilenetv1", 0.5
)
def mobilenetv1_050(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
    return MobileNetV1(0.5, num_classes, in_chans)
