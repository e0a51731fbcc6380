"""A model made ready for a runtime: every model gets the same generic treatment (BN folding,
the memory format and Ghost padding recorded fastest for it); a model with Poker modules also
gets the Poker expansion recorded fastest (:func:`pokernet.latency.variants.optimize_for_inference`).
``optimize=False`` leaves the model as built ("direct")."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .choice import model_choice
from .ghost_padding import PaddedGhostModule, pad_ghost_modules
from .variants import Expansion, optimize_for_inference

# Runtimes whose Poker expansion is fixed by what they are, not by a measured choice:
# paper_parallel runs the k branches of the paper's protocol (forked by .paper_parallel).
FIXED_EXPANSION = {"paper_parallel": "split"}


def prepare_module(
    name: str,
    model: nn.Module,
    runtime: str,
    threads: int,
    resolution: int,
    optimize: bool = True,
    options: dict[str, Any] | None = None,
    choice: dict | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """The eval-mode module to run in ``runtime`` and a record of what was done to it.

    ``options`` (memory_format, ghost_pad) overrides the recorded whole-model choice."""
    model = model.eval()
    notes: dict[str, Any] = {"optimized": optimize}
    if not optimize:
        return model, notes
    options = {
        "memory_format": "contiguous",
        "ghost_pad": 1,
        **(options if options is not None else model_choice(name, runtime, threads, choice)),
    }
    fmt = options["memory_format"] if runtime in ("eager", "torchscript", "paper_parallel") else "contiguous"
    model, used = optimize_for_inference(
        model, runtime, threads, resolution, variant=FIXED_EXPANSION.get(runtime), choice=choice, memory_format=fmt
    )
    if used:
        notes["poker_expansion"] = used
    padded = pad_ghost_modules(model, int(options.get("ghost_pad", 1)))
    notes["ghost_pad"] = {"multiple": int(options.get("ghost_pad", 1)), "modules": padded}
    notes["memory_format"] = fmt
    if fmt == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    if runtime == "eager":
        try:
            model = fold_bn_eager(model)
            notes["bn_folded"] = True
        except Exception as error:  # a model fx cannot trace runs unfused
            notes["bn_folded"] = f"no ({type(error).__name__})"
    return model, notes


def fold_bn_eager(model: nn.Module) -> nn.Module:
    """Conv+BN folded for eager runs (torch.fx), keeping SE modules and Poker expansions
    as modules so that the per-layer profile can still find them."""
    from timm.layers import SEModule
    from timm.models._efficientnet_blocks import SqueezeExcite
    from torch.fx.experimental.optimization import fuse

    leaves = (SEModule, SqueezeExcite, Expansion, PaddedGhostModule)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return isinstance(m, leaves) or super().is_leaf_module(m, qualname)

    graph = torch.fx.GraphModule(model, Tracer().trace(model))
    return fuse(graph, no_trace=True)
