"""The grouped conv with channel multiplier k equals k parallel depthwise convs (Fig. 3)."""

import pytest
import torch
from torch import nn

from pokernet.models.layers import PokerBottleneck, PokerModule, expansion_factor


class LiteralKBranchExpansion(nn.Module):
    """The paper's picture, taken literally: k separate depthwise convs, outputs concatenated."""

    def __init__(self, channels: int, k: int, kernel: int = 3):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False) for _ in range(k)
        )

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


@pytest.mark.parametrize("channels, k", [(4, 2), (8, 3), (5, 4), (16, 6)])
def test_grouped_conv_equals_k_branches_up_to_channel_order(channels, k):
    torch.manual_seed(0)
    grouped = nn.Conv2d(channels, channels * k, 3, padding=1, groups=channels, bias=False)
    literal = LiteralKBranchExpansion(channels, k)
    with torch.no_grad():
        # grouped output channel i*k + b  <->  literal branch b, channel i (output b*M + i)
        weight = grouped.weight.view(channels, k, 1, 3, 3)
        for b, branch in enumerate(literal.branches):
            branch.weight.copy_(weight[:, b])
    x = torch.randn(2, channels, 9, 9)
    order = torch.tensor([i * k + b for b in range(k) for i in range(channels)])
    torch.testing.assert_close(literal(x), grouped(x)[:, order])
    # and the permutation is not the identity: the channel order really differs
    if k > 1:
        assert not torch.allclose(literal(x), grouped(x))


def test_poker_module_shapes_and_k():
    module = PokerModule(40, 240)
    assert module.k == 6
    assert module.pointwise[0].weight.shape == (40, 40, 1, 1)
    assert module.expand[0].weight.shape == (240, 1, 3, 3) and module.expand[0].groups == 40
    assert module(torch.randn(1, 40, 8, 8)).shape == (1, 240, 8, 8)


def test_non_integer_expansion_names_the_layer_and_channels():
    with pytest.raises(ValueError, match=r"block 7 \(P-bneck\).*40 -> 100.*whole number"):
        PokerBottleneck(40, 100, 40, name="block 7 (P-bneck)")
    with pytest.raises(ValueError, match="0 -> 8"):
        expansion_factor(0, 8)


@pytest.mark.parametrize("in_chs, out_chs, stride", [(16, 16, 1), (16, 24, 1), (16, 24, 2)])
def test_the_three_bottleneck_cases(in_chs, out_chs, stride):
    block = PokerBottleneck(in_chs, in_chs * 3, out_chs, stride).eval()
    x = torch.randn(1, in_chs, 8, 8)
    assert block(x).shape == (1, out_chs, 8 // stride, 8 // stride)
    identity = in_chs == out_chs and stride == 1
    assert isinstance(block.shortcut, nn.Identity) == identity
    assert isinstance(block.downsample, nn.Identity) == (stride == 1)
    if not identity:
        dw, pw = block.shortcut
        assert dw[0].groups == in_chs and dw[0].stride == (stride, stride) and pw[0].kernel_size == (1, 1)
