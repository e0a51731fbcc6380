"""The models as data, without torch: the registered names with their Table 2 row, family,
width and implementation (``MODELS``), and PokerNet's Table 1 (``TABLE1_BLOCKS``) and option
ranges. A leaf: the command line's parser and the workflow's parse read it without importing
torch or timm (issue 26); the builders live in the files ``ModelInfo.module`` names.

Adding a PokerNet width is one ``pokernet_entry`` line in ``MODELS``; its reference arm is the
GhostNet of the same width (``pokernet.models.variant``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Activation schemes of Table 5 (their layers: ``pokernet.models.pokernet.ACT_SCHEMES``).
ACT_SCHEME_NAMES = ("relu", "relu6", "relu6_hs")

# Kernel of the stride-2 depthwise conv and of the shortcut depthwise conv, which
# Table 1 does not give. "ghostnet" takes GhostNet's kernel at the same position
# (5 in the stages that end in 40 and 160 channels, else 3). See the architecture audit.
GHOSTNET_DW_KERNELS = (3, 3, 3, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5)
DW_KERNEL_PLANS = ("ghostnet", "3", "5")


@dataclass(frozen=True)
class BlockConfig:
    """One row of Table 1's body, at width 1.0."""

    kind: str  # "P" (Poker bottleneck) or "G" (Ghost bottleneck)
    in_chs: int
    exp_chs: int
    out_chs: int
    se: bool
    stride: int
    hard_swish: bool


# Table 1, body rows in order: kind, #in, #exp, #out, SE, stride, HS.
TABLE1_BLOCKS: tuple[BlockConfig, ...] = tuple(
    BlockConfig(*row)
    for row in (
        ("G", 20, 20, 20, False, 1, False),
        ("G", 20, 40, 20, False, 2, False),
        ("G", 20, 60, 20, False, 1, False),
        ("G", 20, 120, 40, False, 2, False),
        ("P", 40, 120, 40, True, 1, False),
        ("P", 40, 240, 80, True, 2, False),
        ("P", 80, 160, 80, True, 1, False),
        ("G", 80, 160, 80, True, 1, False),
        ("G", 80, 160, 80, True, 1, False),
        ("P", 80, 240, 120, True, 1, False),
        ("P", 120, 480, 120, True, 1, False),
        ("P", 120, 720, 160, True, 2, False),
        ("P", 160, 960, 160, True, 1, True),
        ("P", 160, 960, 160, True, 1, True),
        ("P", 160, 960, 160, True, 1, True),
        ("P", 160, 960, 160, True, 1, True),
    )
)
STEM_CHS = 20
LAST_CONV_CHS = 960


# Below 0.1, the 20-channel layers of Table 1 (stem, first blocks) round to fewer than 4
# channels and floor at 4, so two widths build the same layers; 4 is a sane top (16x the MAdds).
WIDTH_RANGE = (0.1, 4.0)


def width_problem(width: object, given: str | None = None) -> str | None:
    """What is wrong with a width multiplier α, or None; ``given``: the text it was read from,
    quoted as given (0.0999999999 is below 0.1, though ``:g`` shows it as 0.1)."""
    if isinstance(width, bool) or not isinstance(width, (int, float)):
        return f"must be a number, got {width!r}"
    shown = given if given is not None else f"{width:g}"
    if not math.isfinite(width):
        return f"must be a finite number, got {shown}"
    if not width > 0:
        return f"must be > 0, got {shown}"
    low, high = WIDTH_RANGE
    if width < low:
        return (
            f"must be at least {low:g}, got {shown} (below {low:g} the {STEM_CHS}-channel layers of "
            f"Table 1 floor at 4 channels, so the model stops scaling with the width)"
        )
    if width > high:
        return f"must be at most {high:g}, got {shown}"
    return None


def width_label(width: float) -> str:
    """A width as the paper prints it, exactly: 0.5×, 1.0×, 0.75×, 0.35×."""
    text = f"{width:.1f}" if round(width, 1) == width else f"{width:g}"
    return f"{text}×"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    paper_row: str  # the row label of Table 2
    source: str  # where the implementation comes from
    family: str  # the architecture family (pokernet, ghostnet, mobilenetv2, ...)
    width: float | None  # the width multiplier the name stands for
    module: str  # the module that registers its builder


ZOO = "pokernet.models.zoo"
BASELINES = "pokernet.models.baselines"


def pokernet_entry(width: float) -> ModelInfo:
    """PokerNet at one width: ``pokernet_050`` is 0.5× (the name is the width in hundredths)."""
    return ModelInfo(
        f"pokernet_{round(width * 100):03d}",
        f"PokerNet {width_label(width)}",
        "pokernet (this package)",
        "pokernet",
        width,
        ZOO,
    )


def _library(name: str, family: str, width: float, label: str, source: str) -> ModelInfo:
    return ModelInfo(name, f"{label} {width_label(width)}", source, family, width, BASELINES)


# The registered models in Table 2's order (PokerNet first): ``list_models()``.
MODELS: tuple[ModelInfo, ...] = (
    pokernet_entry(0.5),
    pokernet_entry(1.0),
    _library("ghostnet_050", "ghostnet", 0.5, "GhostNet", "timm (ghostnet_050)"),
    _library("ghostnet_100", "ghostnet", 1.0, "GhostNet", "timm (ghostnet_100)"),
    _library("mobilenetv3_small_075", "mobilenetv3_small", 0.75, "MobileNetV3 Small", "timm (mobilenetv3_small_075)"),
    _library("mobilenetv3_large_075", "mobilenetv3_large", 0.75, "MobileNetV3 Large", "timm (mobilenetv3_large_075)"),
    _library("shufflenetv2_050", "shufflenetv2", 0.5, "ShuffleNetV2", "torchvision shufflenet_v2_x0_5"),
    _library("shufflenetv2_100", "shufflenetv2", 1.0, "ShuffleNetV2", "torchvision shufflenet_v2_x1_0"),
    _library("mobilenetv2_035", "mobilenetv2", 0.35, "MobileNetV2", "torchvision mobilenet_v2(width_mult=0.35)"),
    _library("mobilenetv2_060", "mobilenetv2", 0.6, "MobileNetV2", "torchvision mobilenet_v2(width_mult=0.6)"),
    ModelInfo(
        "shufflenetv1_050_g8",
        "ShuffleNetV1 0.5× (g=8)",
        "pokernet.models.baselines.shufflenetv1 (hand-written)",
        "shufflenetv1",
        0.5,
        BASELINES,
    ),
    ModelInfo(
        "shufflenetv1_100_g3",
        "ShuffleNetV1 1.0× (g=3)",
        "pokernet.models.baselines.shufflenetv1 (hand-written)",
        "shufflenetv1",
        1.0,
        BASELINES,
    ),
    _library(
        "mobilenetv1_050", "mobilenetv1", 0.5, "MobileNetV1", "pokernet.models.baselines.mobilenetv1 (hand-written)"
    ),
)
