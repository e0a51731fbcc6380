"""PokerNet-α× (paper §3.3, Table 1): one block-config record read by one network class."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from timm.layers import make_divisible
from timm.models.ghostnet import GhostBottleneck
from torch import nn

from .layers import SE_RATIO, PokerBottleneck, conv_bn

# Activation schemes of Table 5: (activation of ReLU6 rows, activation of HS rows of Table 1).
ACT_SCHEMES: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "relu": (nn.ReLU, nn.ReLU),
    "relu6": (nn.ReLU6, nn.ReLU6),
    "relu6_hs": (nn.ReLU6, nn.Hardswish),
}

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


def scale(channels: int, width: float) -> int:
    """GhostNet's channel rounding: nearest multiple of 4, never below 90% of the target."""
    return make_divisible(channels * width, 4)


class PokerNet(nn.Module):
    """Stem conv 3x3/s2, the Table 1 body, conv 1x1 to 960·α, global pool, conv 1x1 to
    1280, dropout, classifier.

    Options the paper leaves open or ablates: ``se`` (SE in Poker modules, Table 4;
    the SE of the G-bnecks that Table 1 marks is kept), ``act`` (Table 5),
    ``dw_kernels`` and ``head_chs`` (architecture audit: all-3×3 depthwise kernels and a
    1280-wide head at every width, as GhostNet, are the adopted reading). For a Poker block, the
    expansion factor k = #exp/#in of Table 1 is kept at every width, so k stays whole.
    """

    def __init__(
        self,
        width: float = 1.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        se: bool = True,
        act: str = "relu6_hs",
        dw_kernels: str = "3",
        head_chs: int = 1280,
        drop_rate: float = 0.2,
        se_ratio: float = SE_RATIO,
        blocks: tuple[BlockConfig, ...] = TABLE1_BLOCKS,
    ):
        super().__init__()
        check_pokernet_options(
            width, se, act, dw_kernels, num_classes=num_classes, in_chans=in_chans, head_chs=head_chs
        )
        base_act, hs_act = ACT_SCHEMES[act]
        kernels = GHOSTNET_DW_KERNELS if dw_kernels == "ghostnet" else (int(dw_kernels),) * len(blocks)

        stem_chs = scale(STEM_CHS, width)
        self.stem = conv_bn(in_chans, stem_chs, 3, 2, act_layer=base_act)
        layers: list[nn.Module] = []
        prev = stem_chs
        for index, (cfg, kernel) in enumerate(zip(blocks, kernels), start=1):
            act_layer = hs_act if cfg.hard_swish else base_act
            out = scale(cfg.out_chs, width)
            layers.append(body_block(index, cfg, prev, out, width, kernel, act_layer, se=se, se_ratio=se_ratio))
            prev = out
        self.blocks = nn.Sequential(*layers)
        last_chs = scale(LAST_CONV_CHS, width)
        self.last_conv = conv_bn(prev, last_chs, 1, act_layer=hs_act)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Conv2d(last_chs, head_chs, 1, bias=True), base_act(inplace=True))
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Linear(head_chs, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_conv(self.blocks(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.pool(self.forward_features(x))).flatten(1)
        return self.classifier(self.dropout(x))


def check_pokernet_options(width: object, se: object, act: object, dw_kernels: object, **sizes: object) -> None:
    """ValueError naming the first PokerNet option that is out of range; ``sizes``: positive integers."""
    if problem := width_problem(width):
        raise ValueError(f"PokerNet width multiplier {problem}")
    if not isinstance(se, bool):
        raise ValueError(f"PokerNet se must be true or false, got {se!r}")
    if act not in ACT_SCHEMES:
        raise ValueError(f"unknown activation scheme {act!r}; choose from {sorted(ACT_SCHEMES)}")
    if dw_kernels not in DW_KERNEL_PLANS:
        raise ValueError(f"unknown dw_kernels {dw_kernels!r}; choose from {DW_KERNEL_PLANS}")
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"PokerNet {name} must be a positive integer, got {value!r}")


def body_block(
    index: int,
    cfg: BlockConfig,
    in_chs: int,
    out_chs: int,
    width: float,
    kernel: int,
    act_layer: type[nn.Module],
    *,
    se: bool,
    se_ratio: float,
) -> nn.Module:
    """Block ``index`` (from 1) of Table 1's body at width α: a P-bneck keeps Table 1's expansion
    factor #exp/#in when it is whole; a G-bneck is timm's GhostBottleneck, with SE where Table 1 marks it."""
    if cfg.kind == "P":
        whole_factor = cfg.exp_chs % cfg.in_chs == 0
        exp_chs = in_chs * (cfg.exp_chs // cfg.in_chs) if whole_factor else scale(cfg.exp_chs, width)
        return PokerBottleneck(
            in_chs,
            exp_chs,
            out_chs,
            cfg.stride,
            act_layer,
            kernel,
            use_se=se and cfg.se,
            se_ratio=se_ratio,
            name=f"block {index} (P-bneck)",
        )
    return GhostBottleneck(
        in_chs,
        scale(cfg.exp_chs, width),
        out_chs,
        kernel,
        cfg.stride,
        act_layer=act_layer,
        se_ratio=SE_RATIO if cfg.se else 0.0,
    )
