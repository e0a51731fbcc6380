"""``paper_parallel``: the paper's latency protocol (§4.1) as a runtime.

§4.1: "we just make the k groups of depthwise convolutions in parallel by using
multithreading". Here every Poker expansion runs as its k depthwise branches (the exact
``split`` rewrite of :mod:`.variants`; the Poker bottleneck folds its channel order b·M+i
into the SE, downsample and Ghost weights): k-1 branches are forked onto PyTorch's inter-op
pool (``torch.jit.fork`` in a scripted module) while the calling thread runs the first, and
the k outputs are concatenated. Everything else is the ``torchscript`` runtime (trace +
freeze, the memory format and Ghost padding recorded for TorchScript) with the same intra-op
threads, so a model without Poker modules (GhostNet) runs exactly as in ``torchscript``.

Threads: ``threads`` = T means T intra-op threads, as in every runtime, and an inter-op pool
of T threads for the forked branches. The pool size can be set once per process, before any
inter-op work, so this runtime is timed in a child process that sets it
(measure.py's PER_PROCESS_SETUP). With 1 thread no branch can run beside another: the
runtime is not timed there (``min_threads`` of its registry entry; measure says so).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .onnx_export import quiet
from .runtime_table import RUNTIME_SPECS
from .variants import Expansion, SplitExpansion, make_expansion, poker_modules

RUNTIME = "paper_parallel"
MIN_THREADS = RUNTIME_SPECS[RUNTIME].min_threads  # the one value: runtime_table
EXPANSION_VARIANT = "split"  # the k separate depthwise branches the forks run

# Inter-op pool size this process was started with (see use_interop_threads), else None.
_INTEROP_THREADS: int | None = None


class _ForkedBranches(nn.Module):
    """Scripted, so that the forks run on the inter-op pool (eager ``fork`` runs inline)."""

    def __init__(self, branches: nn.ModuleList):
        super().__init__()
        self.branches = branches

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        futures: list[torch.jit.Future[torch.Tensor]] = []
        for index, branch in enumerate(self.branches):
            if index > 0:
                futures.append(torch.jit.fork(branch, x))
        outputs = [self.branches[0](x)]
        for future in futures:
            outputs.append(torch.jit.wait(future))
        return torch.cat(outputs, 1)


class ForkedExpansion(Expansion):
    """A ``split`` expansion whose k branches run concurrently: same weights, same output."""

    def __init__(self, split: SplitExpansion):
        super().__init__(split.act)
        self.order, self.restore = split.order, split.restore
        self.k = len(split.branches)
        with quiet():  # torch.jit.script is deprecated in favour of torch.compile, which has no fork
            self.forked = torch.jit.script(_ForkedBranches(split.branches).eval())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(self.forked(x))


def fork_branches(module: nn.Module) -> list[int]:
    """Fork the branches of every Poker expansion of ``module``, in place; the k of each.

    A prepared model brings split expansions (their channel order folded into the block);
    a model as built (``--direct``) is split here, un-permuting its output at run time."""
    ks: list[int] = []
    for _, _, poker in list(poker_modules(module)):
        split = poker.expand
        if not isinstance(split, SplitExpansion):
            split = make_expansion(poker.expand, EXPANSION_VARIANT, restore_order=True)
        poker.replace_expansion(ForkedExpansion(split))
        ks.append(len(split.branches))
    return ks


def trace_and_freeze(module: nn.Module, x: torch.Tensor) -> torch.jit.ScriptModule:
    """As the torchscript runtime; the scripted forks stay forks in the frozen graph."""
    with quiet(), torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(module.eval(), x, check_trace=False))


def threads_error(threads: int) -> str:
    return (
        f"runtime {RUNTIME!r} runs the k branches of each Poker module concurrently: it needs "
        f"at least {MIN_THREADS} threads, not {threads}"
    )


def paper_parallel_call(
    module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format
) -> Callable[[], Any]:
    """The runtime's builder (RuntimeSpec.build): forks the branches, then trace + freeze.

    The callable carries ``notes`` (branches and threads), which make_runner records."""
    if threads < MIN_THREADS:
        raise ValueError(threads_error(threads))
    module = copy.deepcopy(module)  # the model as built (--direct) is the caller's own
    ks = fork_branches(module)
    scripted = trace_and_freeze(module, x.contiguous(memory_format=fmt))

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return scripted(x.contiguous(memory_format=fmt))

    call.notes = {
        "paper_parallel": {  # type: ignore[attr-defined]
            "poker_modules": len(ks),
            "branches_per_module": ks,
            "forked_per_module": [k - 1 for k in ks],
            "intra_op_threads": threads,
            "inter_op_threads": torch.get_num_interop_threads(),
            "base": "torchscript (trace + freeze)",
        }
    }
    return call


def interop_threads() -> int | None:
    """The inter-op pool size this process set for the runtime, or None (not set here)."""
    return _INTEROP_THREADS


def use_interop_threads(threads: int) -> None:
    """Size the inter-op pool (once per process, before any inter-op work)."""
    global _INTEROP_THREADS
    torch.set_num_interop_threads(threads)
    _INTEROP_THREADS = threads
