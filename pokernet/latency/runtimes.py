"""The runtimes a model is timed in (a registry: RUNTIME_SPECS), and a model made ready to run in one of them.

* ``eager``       PyTorch eager under ``torch.inference_mode``; Conv+BN folded with
                  ``torch.fx.experimental.optimization.fuse``.
* ``torchscript`` ``torch.jit.trace`` + ``torch.jit.freeze`` (freeze folds BN into convs).
* ``onnxruntime`` ``torch.onnx.export`` -> ONNX Runtime, CPU execution provider, all graph
                  optimizations; the ONNX output must equal PyTorch's before it is timed.
* ``openvino``    the same ONNX export -> OpenVINO's CPU plugin, latency hint, f32
                  (:mod:`.openvino_runtime`).
* ``xnnpack``     ``torch.export`` -> ExecuTorch's XNNPACK delegate (:mod:`.xnnpack_runtime`);
                  an optional extra (``.[xnnpack]``), so not part of ``--runtime all``.
* ``paper_parallel`` the paper's protocol (§4.1): TorchScript with the k depthwise branches of
                  each Poker module run concurrently on the inter-op pool (:mod:`.paper_parallel`).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .equivalence import check_equal
from .onnx_export import export_onnx, quiet
from .openvino_runtime import openvino_call
from .paper_parallel import MIN_THREADS as PAPER_PARALLEL_MIN_THREADS
from .paper_parallel import paper_parallel_call
from .prepare import prepare_module
from .xnnpack_runtime import xnnpack_call

# Threads of ORT's process-wide pool when this process uses one (see use_ort_global_pool).
_ORT_GLOBAL_THREADS: int | None = None


def use_ort_global_pool(threads: int) -> None:
    """Make every ORT session of this (fresh) process share one pool of ``threads`` threads.

    Why: each session otherwise owns a pool whose idle workers spin; with two sessions
    timed in turns on a 2-core machine, one session's spinning workers take the cores the
    other needs (measured 2-4× slower). Must run before the first session is created."""
    global _ORT_GLOBAL_THREADS
    import onnxruntime.capi._pybind_state as ort_c

    ort_c.set_global_thread_pool_sizes(threads, 1)
    _ORT_GLOBAL_THREADS = threads


def ort_session(model_bytes: bytes, threads: int, profile_prefix: str | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if _ORT_GLOBAL_THREADS is not None:
        if threads != _ORT_GLOBAL_THREADS:
            raise ValueError(
                f"this process runs ORT with a global pool of {_ORT_GLOBAL_THREADS} threads, not {threads}"
            )
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def ort_global_threads() -> int | None:
    """The threads of this process's shared ORT pool, or None when sessions own their pools."""
    return _ORT_GLOBAL_THREADS


@dataclass
class Runner:
    """One model ready to run in one runtime at one thread count."""

    model: str
    runtime: str
    threads: int
    call: Callable[[], Any]
    notes: dict[str, Any] = field(default_factory=dict)


def _eager_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    def call() -> torch.Tensor:
        with torch.inference_mode():
            return module(x.contiguous(memory_format=fmt))

    return call


def _torchscript_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    with quiet(), torch.no_grad():
        scripted = torch.jit.freeze(torch.jit.trace(module.eval(), x.contiguous(memory_format=fmt)))

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return scripted(x.contiguous(memory_format=fmt))

    return call


def _onnxruntime_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    session = ort_session(export_onnx(module, x), threads)
    feed = {session.get_inputs()[0].name: x.numpy()}

    def call() -> np.ndarray:
        return session.run(None, feed)[0]

    return call


@dataclass(frozen=True)
class RuntimeSpec:
    """How one runtime turns a prepared module into a no-argument callable.

    ``build(module, x, threads, memory_format)``; ``package`` is the pip package it needs
    beyond torch (a missing one is a one-line error naming it); ``in_all``: part of
    ``--runtime all`` (False for a runtime of an optional extra); ``min_threads``: the fewest
    threads it runs with (measure skips smaller counts, saying so). A builder may attach
    ``notes`` (a dict) to its callable: make_runner records them."""

    name: str
    build: Callable[[nn.Module, torch.Tensor, int, torch.memory_format], Callable[[], Any]]
    package: str | None = None
    in_all: bool = True
    min_threads: int = 1
    install: str | None = None  # how to install ``package`` when not `pip install <package>` (a pinned extra)


# The registry: a new runtime is one builder function (in its own module) and one entry here.
RUNTIME_SPECS: dict[str, RuntimeSpec] = {
    spec.name: spec
    for spec in (
        RuntimeSpec("eager", _eager_call),
        RuntimeSpec("torchscript", _torchscript_call),
        RuntimeSpec("onnxruntime", _onnxruntime_call, "onnxruntime"),
        RuntimeSpec("openvino", openvino_call, "openvino"),
        RuntimeSpec("paper_parallel", paper_parallel_call, min_threads=PAPER_PARALLEL_MIN_THREADS),
        RuntimeSpec("xnnpack", xnnpack_call, "executorch", in_all=False, install='pip install -e ".[xnnpack]"'),
    )
}
RUNTIMES = tuple(RUNTIME_SPECS)
ALL_RUNTIMES = tuple(name for name, spec in RUNTIME_SPECS.items() if spec.in_all)  # --runtime all


def runtime_spec(runtime: str) -> RuntimeSpec:
    """The spec of ``runtime``; ValueError naming the choices, or the package to install."""
    if runtime not in RUNTIME_SPECS:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    spec = RUNTIME_SPECS[runtime]
    if spec.package and importlib.util.find_spec(spec.package.replace("-", "_")) is None:
        raise ValueError(
            f"runtime {runtime!r} needs the Python package {spec.package!r}, which is not "
            f"installed ({spec.install or 'pip install ' + spec.package})"
        )
    return spec


def build_call(
    runtime: str, module: nn.Module, x: torch.Tensor, threads: int, memory_format: str = "contiguous"
) -> Callable[[], Any]:
    """A no-argument callable that runs ``module`` on ``x`` in ``runtime``.

    The input conversion to channels_last, when used, is inside the call (it is paid)."""
    fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    return runtime_spec(runtime).build(module, x, threads, fmt)


def make_runner(
    name: str,
    model: nn.Module,
    runtime: str,
    threads: int,
    x: torch.Tensor,
    reference: torch.Tensor,
    optimize: bool = True,
    options: dict[str, Any] | None = None,
    choice: dict | None = None,
) -> Runner:
    """Prepare ``model`` for ``runtime`` and check its output equals ``reference``
    (raises :class:`OutputMismatch` otherwise: a wrong model is not timed)."""
    runtime_spec(runtime)
    module, notes = prepare_module(name, model, runtime, threads, x.shape[-1], optimize, options, choice)
    call = build_call(runtime, module, x, threads, notes.get("memory_format", "contiguous"))
    check_equal(f"{name} ({runtime})", call(), reference)
    return Runner(name, runtime, threads, call, {**notes, **getattr(call, "notes", {})})


@contextlib.contextmanager
def torch_threads(threads: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
