"""The other ways to run a Poker expansion's k branches that ``benchmarks/paper_parallel.py``
compares the ``paper_parallel`` runtime with: per whole model (:func:`model_forms`) and per
Poker layer (:func:`expansion_forms`). Diagnostics, not runtimes: ``pokernet latency`` never
uses them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model

from .choice import model_choice
from .equivalence import check_equal
from .ghost_padding import pad_ghost_modules
from .paper_parallel import ForkedExpansion, trace_and_freeze
from .prepare import fold_bn_eager
from .runtimes import make_runner
from .variants import Expansion, make_expansion, optimize_for_inference, poker_modules

_POOL: list[ThreadPoolExecutor] = []  # outside the module: fx deep-copies modules, not pools


class EmptyForks(nn.Module):
    """k-1 forks of a task that only returns its input, then the waits: the protocol's overhead."""

    def __init__(self, forks: int):
        super().__init__()
        self.forks = forks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        futures: list[torch.jit.Future[torch.Tensor]] = []
        for _ in range(self.forks):
            futures.append(torch.jit.fork(torch.clone, x))
        for future in futures:
            x = torch.jit.wait(future)
        return x


def _branch_in_inference_mode(branch: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():  # a pool thread does not inherit the caller's mode
        return branch(x)


class PooledExpansion(Expansion):
    """Branches 1..k-1 on a Python thread pool (workers at 1 intra-op thread), branch 0 here."""

    def __init__(self, split: nn.Module):
        super().__init__(split.act)
        self.order, self.restore, self.branches = split.order, split.restore, split.branches

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        futures = [_POOL[0].submit(_branch_in_inference_mode, b, x) for b in list(self.branches)[1:]]
        return self._finish(torch.cat([self.branches[0](x)] + [f.result() for f in futures], 1))


def _eager_split(model: nn.Module, threads: int, wrap) -> nn.Module:
    """The eager runtime's preparation with split expansions, each wrapped by ``wrap``."""
    options = model_choice("pokernet_100", "eager", threads)
    module, _ = optimize_for_inference(
        model, "eager", threads, 224, variant="split", memory_format=options["memory_format"]
    )
    pad_ghost_modules(module, int(options["ghost_pad"]))
    for _, _, poker in list(poker_modules(module)):
        poker.replace_expansion(wrap(poker.expand))
    return fold_bn_eager(module.to(memory_format=torch.channels_last))


def _inference_call(module: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    def call():
        with torch.inference_mode():
            return module(x)

    return call


def _free_expansion_call(model: nn.Module, threads: int, x: torch.Tensor) -> Callable[[], Any]:
    """A probe, not a runtime: PokerNet in torchscript with every expansion's conv removed (only
    the copy of the input into kM channels is left), so no expansion scheme can be faster."""
    options = model_choice("pokernet_100", "torchscript", threads)
    module, _ = optimize_for_inference(
        model, "torchscript", threads, 224, variant="tile", memory_format=options["memory_format"]
    )
    pad_ghost_modules(module, int(options["ghost_pad"]))
    for _, _, poker in poker_modules(module):
        poker.expand.conv = nn.Identity()
    fmt = torch.channels_last if options["memory_format"] == "channels_last" else torch.contiguous_format
    xf = x.contiguous(memory_format=fmt)
    return _inference_call(trace_and_freeze(module.to(memory_format=fmt), xf), xf)


def _model_forms(threads: int, x: torch.Tensor) -> dict[str, Callable[[], Any]]:
    calls = {}
    for width in ("050", "100"):
        poker, ghost = create_model(f"pokernet_{width}").eval(), create_model(f"ghostnet_{width}").eval()
        with torch.no_grad():
            reference, ghost_reference = poker(x), ghost(x)
        for runtime in ("paper_parallel", "torchscript"):
            calls[f"pokernet_{width} · {runtime}"] = make_runner(
                f"pokernet_{width}", poker, runtime, threads, x, reference
            ).call
        calls[f"pokernet_{width} · torchscript, expansion convs free (bound)"] = _free_expansion_call(poker, threads, x)
        calls[f"ghostnet_{width} · torchscript (= paper_parallel)"] = make_runner(
            f"ghostnet_{width}", ghost, "torchscript", threads, x, ghost_reference
        ).call
    calls["pokernet_100 · eager"] = make_runner("pokernet_100", poker, "eager", threads, x, reference).call
    xl = x.contiguous(memory_format=torch.channels_last)
    for label, wrap in (
        ("eager + forked branches (scripted torch.jit.fork)", ForkedExpansion),
        ("eager + Python thread pool (1 intra-op thread per worker)", PooledExpansion),
    ):
        calls[f"pokernet_100 · {label}"] = _inference_call(_eager_split(poker, threads, wrap), xl)
        check_equal(label, calls[f"pokernet_100 · {label}"](), reference)
    return calls


@contextmanager
def model_forms(threads: int, x: torch.Tensor) -> Iterator[dict[str, Callable[[], Any]]]:
    """Every whole-model form the paper_parallel study compares, as callables, outputs checked
    (except the bound's): PokerNet in paper_parallel, torchscript, torchscript with free
    expansions (a bound), eager, eager with forked or thread-pooled branches; GhostNet in
    torchscript. The pooled form's thread pool lives while the context is open."""
    _POOL[:] = [ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,))]
    try:
        yield _model_forms(threads, x)
    finally:
        _POOL.pop().shutdown()


EXPANSION_FORMS = ("tile", "split", "forked", "one branch", "fork+wait only")


def expansion_forms(layer: dict) -> dict[str, nn.Module]:
    """The forms of one Poker expansion (a :func:`.api.poker_layers` row): ``tile`` (one
    depthwise conv over kM), ``split`` (k convs in a row), ``forked`` (k-1 of them forked),
    ``one branch`` alone, and ``fork+wait only`` (k-1 forks of a copy)."""
    split = make_expansion(layer["expand"], "split", restore_order=False)
    return {
        "tile": make_expansion(layer["expand"], "tile", restore_order=False),
        "split": split,
        "forked": ForkedExpansion(split),
        "one branch": split.branches[0],
        "fork+wait only": EmptyForks(layer["k"] - 1),
    }
