"""Params and MAdds (paper §4.1, Table 2).

MAdds = multiply-accumulates of conv and linear layers for one image, the convention
that gives GhostNet-1.0× 141M. ptflops' aten backend counts exactly those ops
(aten.convolution, mm/addmm/bmm). torch.utils.flop_counter is the independent
cross-check; it counts 2 FLOPs per MAC and ignores bias adds, which ptflops counts as
one MAC per output element of a biased conv (``bias_madds`` gives that share).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from ptflops import get_model_complexity_info
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Complexity:
    params: int
    madds: int


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_madds(model: nn.Module, resolution: int = 224, in_chans: int = 3) -> int:
    """MACs of conv and linear layers for one in_chans×R×R image (ptflops, aten backend)."""
    model.eval()
    with torch.no_grad():
        macs, _ = get_model_complexity_info(
            model, (in_chans, resolution, resolution), backend="aten", as_strings=False, print_per_layer_stat=False
        )
    return int(macs)


def count_madds_flop_counter(model: nn.Module, resolution: int = 224, in_chans: int = 3) -> int:
    """Independent count: torch.utils.flop_counter FLOPs / 2 (bias adds not included)."""
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, in_chans, resolution, resolution))
    return counter.get_total_flops() // 2


def bias_madds(model: nn.Module, resolution: int = 224, in_chans: int = 3) -> int:
    """Output elements of biased convs/linears: the one place the two counters differ."""
    total = 0

    def hook(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if getattr(module, "bias", None) is not None:
            total += output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, in_chans, resolution, resolution))
    for h in handles:
        h.remove()
    return total


def complexity(model: nn.Module, resolution: int = 224, in_chans: int = 3) -> Complexity:
    return Complexity(count_params(model), count_madds(model, resolution, in_chans))
