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


def _timm(name: str):
    def build(num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.2) -> nn.Module:
        return timm.create_model(name, num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)

    register(name)(build)


def _mobilenetv2(name: str, width: float):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        model = tvm.mobilenet_v2(width_mult=width, num_classes=num_classes)
        return _replace_stem(model, "features.0.0", in_chans)

    register(name)(build)


def _shufflenetv2(name: str, factory: str):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        model = getattr(tvm, factory)(num_classes=num_classes)
        return _replace_stem(model, "conv1.0", in_chans)

    register(name)(build)


def _shufflenetv1(name: str, groups: int, width: float):
    def build(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
        return ShuffleNetV1(groups, width, num_classes, in_chans)

    register(name)(build)


# Their names, Table 2 rows, families and widths: pokernet.models.catalog.MODELS.
for _name in ("ghostnet_050", "ghostnet_100", "mobilenetv3_small_075", "mobilenetv3_large_075"):
    _timm(_name)
_shufflenetv2("shufflenetv2_050", "shufflenet_v2_x0_5")
_shufflenetv2("shufflenetv2_100", "shufflenet_v2_x1_0")
_mobilenetv2("mobilenetv2_035", 0.35)
_mobilenetv2("mobilenetv2_060", 0.6)
_shufflenetv1("shufflenetv1_050_g8", 8, 0.5)
_shufflenetv1("shufflenetv1_100_g3", 3, 1.0)


@register("mobilenetv1_050")
def mobilenetv1_050(num_classes: int = 1000, in_chans: int = 3) -> nn.Module:
    return MobileNetV1(0.5, num_classes, in_chans)
