"""Building blocks of PokerNet (paper §3.1–3.2, Figs. 3 and 4).

The Ghost module and the Ghost bottleneck are reused from timm (its GhostNet is
the reference implementation PokerNet builds on); only the Poker module and the
Poker bottleneck, which no library has, are written here.
"""

from __future__ import annotations

import torch
from timm.layers import SEModule
from timm.models.ghostnet import GhostModule
from torch import nn

# SE as GhostNet defines it: reduction 4, reduced width rounded to a multiple of 4,
# hard-sigmoid gate. PokerNet follows GhostNet; the paper does not say otherwise.
SE_RATIO = 0.25
SE_DIVISOR = 4


def make_se(channels: int, ratio: float = SE_RATIO) -> nn.Module:
    return SEModule(channels, rd_ratio=ratio, rd_divisor=SE_DIVISOR, gate_layer="hard_sigmoid")


def conv_bn(
    in_chs: int, out_chs: int, kernel: int, stride: int = 1, groups: int = 1, act_layer: type[nn.Module] | None = None
) -> nn.Sequential:
    """Conv (no bias) + BatchNorm (+ activation): every conv of §4.2 is followed by BN."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_chs),
    ]
    if act_layer is not None:
        layers.append(act_layer(inplace=True))
    return nn.Sequential(*layers)


def permute_out_channels(conv: nn.Conv2d, order: torch.Tensor) -> None:
    """The conv now emits its output channels in ``order`` (in place)."""
    with torch.no_grad():
        conv.weight.copy_(conv.weight[order])
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[order])


def permute_in_channels(conv: nn.Conv2d, order: torch.Tensor) -> None:
    """The conv now reads its input channels in ``order`` (in place; ungrouped convs only)."""
    if conv.groups != 1:
        raise ValueError("cannot fold a channel permutation into a grouped conv's input")
    with torch.no_grad():
        conv.weight.copy_(conv.weight[:, order])


def permute_bn(bn: nn.BatchNorm2d, order: torch.Tensor) -> None:
    with torch.no_grad():
        for tensor in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
            tensor.copy_(tensor[order])


def expansion_factor(in_chs: int, exp_chs: int, name: str = "Poker module") -> int:
    """k = exp / in, which must be a whole number for the k parallel depthwise convs."""
    if in_chs <= 0 or exp_chs <= 0 or exp_chs % in_chs:
        raise ValueError(
            f"{name}: cannot expand {in_chs} -> {exp_chs} channels with depthwise convs: "
            f"the expansion factor k = {exp_chs}/{in_chs} must be a positive whole number"
        )
    return exp_chs // in_chs


class PokerModule(nn.Module):
    """Fig. 3: pointwise M->M (+BN+act), k parallel depthwise convs M->kM (+BN+act), SE on kM.

    The k parallel depthwise convs are stored as one grouped conv with channel
    multiplier k (groups=M, out=kM). Output channel i*k+b is branch b applied to input
    channel i; the literal k-branch concatenation orders it b*M+i. The two are the same
    operator up to that permutation (tests/test_poker_module.py proves it).
    """

    def __init__(
        self,
        in_chs: int,
        exp_chs: int,
        act_layer: type[nn.Module] = nn.ReLU6,
        dw_kernel: int = 3,
        use_se: bool = True,
        se_ratio: float = SE_RATIO,
        name: str = "Poker module",
    ):
        super().__init__()
        self.k = expansion_factor(in_chs, exp_chs, name)
        self.pointwise = conv_bn(in_chs, in_chs, 1, act_layer=act_layer)
        self.expand = conv_bn(in_chs, exp_chs, dw_kernel, groups=in_chs, act_layer=act_layer)
        self.se = make_se(exp_chs, se_ratio) if use_se else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(self.expand(self.pointwise(x)))

    def replace_expansion(self, expansion: nn.Module, order: torch.Tensor | None = None) -> None:
        """Inference rewrite: ``expansion`` replaces ``expand``; it emits the same channels in
        ``order`` (None: the original order). The SE is permuted to read them in that order,
        so this module's output comes in ``order`` too."""
        self.expand = expansion
        if order is None or isinstance(self.se, nn.Identity):
            return
        if not isinstance(self.se, SEModule):  # a per-channel gate is what makes the fold exact
            raise TypeError(f"cannot fold a channel order into a {type(self.se).__name__}")
        permute_in_channels(self.se.fc1, order)
        permute_out_channels(self.se.fc2, order)


def shortcut(in_chs: int, out_chs: int, stride: int, dw_kernel: int) -> nn.Module:
    """Fig. 4: identity when shapes match, else depthwise(stride) + BN + pointwise + BN."""
    if in_chs == out_chs and stride == 1:
        return nn.Identity()
    return nn.Sequential(
        conv_bn(in_chs, in_chs, dw_kernel, stride, groups=in_chs),
        conv_bn(in_chs, out_chs, 1),
    )


class PokerBottleneck(nn.Module):
    """Fig. 4 (a)-(c): Poker module expands, [depthwise stride-2 conv + BN], Ghost module
    (BN, no activation, §4.2) narrows; shortcut per :func:`shortcut`."""

    def __init__(
        self,
        in_chs: int,
        exp_chs: int,
        out_chs: int,
        stride: int = 1,
        act_layer: type[nn.Module] = nn.ReLU6,
        dw_kernel: int = 3,
        use_se: bool = True,
        se_ratio: float = SE_RATIO,
        name: str = "P-bneck",
    ):
        super().__init__()
        self.poker = PokerModule(in_chs, exp_chs, act_layer, use_se=use_se, se_ratio=se_ratio, name=name)
        self.downsample = conv_bn(exp_chs, exp_chs, dw_kernel, stride, groups=exp_chs) if stride > 1 else nn.Identity()
        self.ghost = GhostModule(exp_chs, out_chs, act_layer=nn.Identity)
        self.shortcut = shortcut(in_chs, out_chs, stride, dw_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ghost(self.downsample(self.poker(x))) + self.shortcut(x)

    def replace_expansion(self, expansion: nn.Module, order: torch.Tensor | None = None) -> None:
        """Inference rewrite: the Poker module's expansion becomes ``expansion``, which emits its
        channels in ``order``; the layers that read them (SE, downsample depthwise conv + BN,
        Ghost primary conv) are permuted to match, so the block's output is unchanged and no
        shuffle is paid at run time (tests/test_latency_variants.py checks the equality)."""
        self.poker.replace_expansion(expansion, order)
        if order is None:
            return
        if not isinstance(self.downsample, nn.Identity):
            conv, bn = self.downsample  # conv_bn: depthwise conv, BN
            permute_out_channels(conv, order)
            permute_bn(bn, order)
        permute_in_channels(self.ghost.primary_conv[0], order)
