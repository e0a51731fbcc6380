"""Registered PokerNet variants (paper Table 2): PokerNet with its width bound, one builder per
PokerNet entry of ``catalog.MODELS``."""

from __future__ import annotations

from functools import partial

from .catalog import MODELS
from .pokernet import PokerNet
from .registry import register

for _info in MODELS:
    if _info.module == __name__:
        register(_info.name)(partial(PokerNet, width=_info.width))
