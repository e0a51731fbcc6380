"""The feature-map size of each PokerNet stage at a given input resolution, measured with
forward hooks on the blocks of the built model (not computed by hand): at a proxy
resolution the last stages may shrink to 2×2 or 1×1, where a 3×3 depthwise expansion is
little more than a per-channel scale and SE pools a single pixel."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from pokernet.models import create_model
from pokernet.models.layers import PokerBottleneck

MODEL = "pokernet_050"  # the stage sizes depend on the strides only, not on the width


@dataclass(frozen=True)
class Stage:
    index: int
    size: tuple[int, int]  # (height, width) of the stage's output maps
    kinds: str  # one letter per block: P (Poker bottleneck), G (Ghost bottleneck)

    def text(self) -> str:
        return f"stage {self.index} {self.size[0]}×{self.size[1]} ({' '.join(self.kinds)})"


@cache
def pokernet_stages(resolution: int) -> tuple[Stage, ...]:
    """Consecutive blocks whose outputs have one spatial size form a stage."""
    model = create_model(MODEL).eval()
    seen: list[tuple[str, tuple[int, int]]] = []
    hooks = [
        block.register_forward_hook(
            lambda module, _, output: seen.append(
                ("P" if isinstance(module, PokerBottleneck) else "G", tuple(output.shape[-2:]))
            )
        )
        for block in model.blocks
    ]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, resolution, resolution))
    finally:
        for hook in hooks:
            hook.remove()
    stages: list[Stage] = []
    for kind, size in seen:
        if stages and stages[-1].size == size:
            last = stages[-1]
            stages[-1] = Stage(last.index, size, last.kinds + kind)
        else:
            stages.append(Stage(len(stages) + 1, size, kind))
    return tuple(stages)


def stages_line(resolution: int) -> str:
    stages = pokernet_stages(resolution)
    poker = [s for s in stages if "P" in s.kinds]
    smallest = min(poker, key=lambda s: s.size[0] * s.size[1]) if poker else None
    tail = f"; the smallest map a Poker stage outputs is {smallest.size[0]}×{smallest.size[1]}" if smallest else ""
    return (
        f"- feature maps at {resolution}×{resolution} (PokerNet's block outputs, measured with forward "
        f"hooks; GhostNet has the same strides): " + ", ".join(s.text() for s in stages) + tail
    )
