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
from pokernet.models.pokernet import TABLE1_BLOCKS

MODEL = "pokernet_050"  # the stage sizes depend on the strides only, not on the width


@dataclass(frozen=True)
class Stage:
    """A stage as Table 1 has it: blocks up to and including a stride-2 one (§3.3: the last layer of each
    stage downsamples, except in the last stage), with the measured sizes of its maps."""

    index: int
    first: int  # 1-based block numbers, as in Table 1's body
    last: int
    size: tuple[int, int]  # (height, width) of the maps its blocks take
    out: tuple[int, int]  # of the maps its last block outputs
    kinds: str  # one letter per block: P (Poker bottleneck), G (Ghost bottleneck)

    def text(self) -> str:
        sizes = f"{self.size[0]}×{self.size[1]}" + (f"→{self.out[0]}×{self.out[1]}" if self.out != self.size else "")
        return f"stage {self.index} (blocks {self.first}–{self.last}: {' '.join(self.kinds)}) {sizes}"


def _block_sizes(resolution: int) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """(kind, input size, output size) of every block, from forward hooks on the built model."""
    model = create_model(MODEL).eval()
    seen: list[tuple[str, tuple[int, int], tuple[int, int]]] = []

    def record(module, inputs, output) -> None:
        kind = "P" if isinstance(module, PokerBottleneck) else "G"
        seen.append((kind, tuple(inputs[0].shape[-2:]), tuple(output.shape[-2:])))

    hooks = [block.register_forward_hook(record) for block in model.blocks]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, resolution, resolution))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


@cache
def pokernet_stages(resolution: int) -> tuple[Stage, ...]:
    """Table 1's stages (each closed by its stride-2 block) with the sizes measured at ``resolution``."""
    blocks = _block_sizes(resolution)
    if [kind for kind, _, _ in blocks] != [b.kind for b in TABLE1_BLOCKS]:
        raise ValueError(f"{MODEL}'s blocks do not follow Table 1 (pokernet.models.pokernet.TABLE1_BLOCKS)")
    ends = [i for i, b in enumerate(TABLE1_BLOCKS) if b.stride == 2 and i < len(TABLE1_BLOCKS) - 1]
    stages, first = [], 0
    for last in [*ends, len(blocks) - 1]:
        group = blocks[first : last + 1]
        kinds = "".join(kind for kind, _, _ in group)
        stages.append(Stage(len(stages) + 1, first + 1, last + 1, group[0][1], group[-1][2], kinds))
        first = last + 1
    return tuple(stages)


def stages_line(resolution: int) -> str:
    stages = pokernet_stages(resolution)
    poker = [s for s in stages if "P" in s.kinds]
    smallest = min(poker, key=lambda s: s.out[0] * s.out[1]) if poker else None
    tail = f"; the smallest map a Poker stage outputs is {smallest.out[0]}×{smallest.out[1]}" if smallest else ""
    return (
        f"- feature maps at {resolution}×{resolution} (PokerNet's stages as Table 1 numbers its blocks; sizes "
        "measured with forward hooks; GhostNet has the same strides): " + ", ".join(s.text() for s in stages) + tail
    )
