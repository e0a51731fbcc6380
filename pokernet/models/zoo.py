"""Registered PokerNet variants (paper Table 2)."""
from __future__ import annotations

from torch import nn

from .pokernet import PokerNet
from .registry import register


def _pokernet(default_width: float):
    def build(width: float = default_width, num_classes: int = 1000, in_chans: int = 3,
              se: bool = True, act: str = "relu6_hs", dw_kernels: str = "3",
              head_chs: int = 1280, drop_rate: float = 0.2) -> nn.Module:
        return PokerNet(width, num_classes, in_chans, se, act, dw_kernels, head_chs, drop_rate)
    return build


pokernet_050 = register("pokernet_050", "PokerNet 0.5×", "pokernet (this package)")(_pokernet(0.5))
pokernet_100 = register("pokernet_100", "PokerNet 1.0×", "pokernet (this package)")(_pokernet(1.0))
