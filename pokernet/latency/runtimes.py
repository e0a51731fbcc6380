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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .equivalence import check_equal
from .onnx_export import export_onnx, quiet
from .prepare import prepare_module
from .runtime_table import runtime_spec

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


def eager_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    def call() -> torch.Tensor:
        with torch.inference_mode():
            return module(x.contiguous(memory_format=fmt))

    return call


def torchscript_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    with quiet(), torch.no_grad():
        scripted = torch.jit.freeze(torch.jit.trace(module.eval(), x.contiguous(memory_format=fmt)))

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return scripted(x.contiguous(memory_format=fmt))

    return call


def onnxruntime_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    session = ort_session(export_onnx(module, x), threads)
    feed = {session.get_inputs()[0].name: x.numpy()}

    def call() -> np.ndarray:
        return session.run(None, feed)[0]

    return call


def build_call(
    runtime: str, module: nn.Module, x: torch.Tensor, threads: int, memory_format: str = "contiguous"
) -> Callable[[], Any]:
    """A no-argument callable that runs ``module`` on ``x`` in ``runtime``.

    The input conversion to channels_last, when used, is inside the call (it is paid)."""
    fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    return runtime_spec(runtime).builder()(module, x, threads, fmt)


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
