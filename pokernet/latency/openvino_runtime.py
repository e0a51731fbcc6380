"""OpenVINO (CPU plugin) as a latency runtime, fed the same ONNX export as the ONNX Runtime row.

``openvino`` is imported inside the functions: without the package, the registry's
``runtime_spec`` gives the one-line error before anything here runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .onnx_export import export_onnx


def openvino_config(threads: int, profile: bool = False) -> dict[str, Any]:
    """The CPU plugin's settings for a batch-1 latency run on ``threads`` threads."""
    return {
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
        # Explicitly f32: on CPUs with AVX512-BF16 or AMX the CPU plugin defaults to bf16,
        # which would time a different (lower-precision) model than the other runtimes.
        "INFERENCE_PRECISION_HINT": "f32",
        # No pinning: the other runtimes let the OS place their threads, and two models
        # timed in turns must not sit on different cores of a shared machine.
        "ENABLE_CPU_PINNING": False,
        "PERF_COUNT": profile,
    }


def compile_openvino(model_bytes: bytes, threads: int, profile: bool = False):
    """The ONNX bytes compiled for the CPU device (per-layer counters on with ``profile``)."""
    import openvino as ov

    core = ov.Core()
    return core.compile_model(core.read_model(model_bytes), "CPU", openvino_config(threads, profile))


def openvino_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    """The builder of RUNTIME_SPECS["openvino"]: one infer request, reused for every run."""
    request = compile_openvino(export_onnx(module, x), threads).create_infer_request()
    feed = {0: np.ascontiguousarray(x.numpy())}

    def call() -> np.ndarray:
        return request.infer(feed, share_inputs=True)[0]

    return call


def _weight_shape(shape: list[int]) -> list[int]:
    """A conv weight in ONNX's [out, in/groups, kh, kw] layout; a grouped one (a
    "Convolution" node in the compiled graph too) holds [groups, out/groups, in/groups, kh, kw]."""
    if len(shape) == 5:
        groups, out_per_group, in_per_group, kh, kw = shape
        return [groups * out_per_group, in_per_group, kh, kw]
    return shape


def executed_node_info(compiled) -> dict[str, dict[str, Any]]:
    """Per node of the compiled (fused) graph: its layer type, the conv weight shape
    (ONNX layout) for a convolution, and the spatial size of its first input (1 if not 4-D)."""
    info: dict[str, dict[str, Any]] = {}
    for op in compiled.get_runtime_model().get_ordered_ops():
        layer_type = op.get_rt_info()["layerType"].astype(str)
        shapes = [
            [d.get_length() for d in port.get_partial_shape()]
            for port in op.inputs()
            if port.get_partial_shape().is_static
        ]
        weight = None
        if layer_type in ("Convolution", "GroupConvolution") and len(shapes) > 1:
            weight = _weight_shape(shapes[1])
        size = shapes[0][-1] if shapes and len(shapes[0]) == 4 else 1
        info[op.get_friendly_name()] = {"layer_type": layer_type, "weight": weight, "size": size}
    return info


def node_mean_us(request) -> dict[str, float]:
    """Per executed node: its mean time in µs over every inference of ``request`` so far.

    The CPU plugin keeps one running mean per node (each run truncated to whole µs), not the
    last run: mean_after × runs_after − mean_before × runs_before is the time in between."""
    means: dict[str, float] = {}
    for counter in request.get_profiling_info():
        if counter.status.name == "EXECUTED":
            means[counter.node_name] = counter.real_time.total_seconds() * 1e6
    return means
