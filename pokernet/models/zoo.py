"""Registered PokerNet variants (paper Table 2): PokerNet with its width bound."""

from __future__ import annotations

from functools import partial

from .pokernet import PokerNet
from .registry import register

for _width, _name in ((0.5, "pokernet_050"), (1.0, "pokernet_100")):
    register(_name, f"PokerNet {_width:.1f}×", "pokernet (this package)", "pokernet", _width)(
        partial(PokerNet, width=_width)
    )
