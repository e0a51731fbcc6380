"""Speed levers for the GPU study's fused step, prepared for a GPU window
(``benchmarks/gpu_throughput.py`` measures each one's ratio; none is on in the study until a
window has measured it and the equivalence below has passed on the GPU):

- ``bf16``: the step under ``torch.autocast(dtype=torch.bfloat16)`` (weights, momentum and the
  SGD update stay fp32; convolutions, matmuls run in bf16; the loss is fp32, as autocast does);
- ``channels_last``: every member's batch laid out channels-last (N x B x C x H x W with C the
  fastest dimension), so each member's slice is a channels-last image batch;
- ``compile``: the step compiled by ``torch.compile`` (inductor fuses BN, activations, SE).

Equivalence: one step with the levers against the plain fp32 step from the same state, as the
relative difference of the weight updates (``update_difference``); the tolerances are stated in
``TOLERANCE`` and tested on the CPU (bf16 autocast and compile run there too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from pokernet.train.fused import FusedRuns


@dataclass(frozen=True)
class Levers:
    bf16: bool = False
    channels_last: bool = False
    compile: bool = False

    def __str__(self) -> str:
        names = [name for name in ("bf16", "channels_last", "compile") if getattr(self, name)]
        return " + ".join(names) or "fp32"


# Relative difference of one step's weight update from the fp32 eager step's, at most: bf16 keeps
# 8 mantissa bits (~0.4% per rounding) and a deep net's gradients gather several roundings; fp32
# levers only reorder float sums.
TOLERANCE = {"bf16": 0.05, "fp32": 1e-3}


def members_channels_last(x: torch.Tensor) -> torch.Tensor:
    """N x B x C x H x W with C the fastest dimension: every member's B x C x H x W slice is
    channels-last (the 5-D channels_last_3d format would treat B as the channels)."""
    return x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def lever_step(fused: FusedRuns, levers: Levers) -> Callable[[torch.Tensor, torch.Tensor], None]:
    """``fused.step`` with the levers applied (set it as ``fused.step`` before capturing a graph)."""
    step = torch.compile(fused.step) if levers.compile else fused.step

    def run(x: torch.Tensor, labels: torch.Tensor) -> None:
        if levers.channels_last:
            x = members_channels_last(x)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=levers.bf16):
            step(x, labels)

    return run


def update_difference(fused: FusedRuns, x: torch.Tensor, labels: torch.Tensor, levers: Levers) -> float:
    """‖Δw(levers) − Δw(fp32)‖ / ‖Δw(fp32)‖ over all members' weights for one step from the
    same state and the same dropout masks (the state is restored afterwards)."""
    saved = fused.snapshot()
    before = [p.detach().clone() for p in fused.param_list]

    def update(step: Callable[[torch.Tensor, torch.Tensor], None]) -> torch.Tensor:
        fused.restore(saved)
        with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(0)  # the same dropout masks in both steps
            step(x, labels)
        return torch.cat([(p.detach() - b).flatten().double() for p, b in zip(fused.param_list, before)])

    plain = update(fused.step)
    levered = update(lever_step(fused, levers))
    fused.restore(saved)
    return float((levered - plain).norm() / plain.norm())
