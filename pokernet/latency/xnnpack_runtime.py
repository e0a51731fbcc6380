"""XNNPACK (the CPU kernels phones run) as a latency runtime, through ExecuTorch's XNNPACK delegate.

``torch.export`` -> ``to_edge_transform_and_lower`` with the XNNPACK partitioner (which folds
BN into the convs) -> an ExecuTorch program, run by ExecuTorch's Python runtime. Every
convolution must end up inside the XNNPACK delegate (the Poker expansion, a grouped conv with
channel multiplier k, included): a conv left to ExecuTorch's portable kernels would be timed in
another runtime, so it is refused.

``executorch`` is an optional extra (``pip install -e ".[xnnpack]"``) imported inside the
functions: without it, the registry's ``runtime_spec`` gives the one-line error first.
Lowering is slow (about 2 min per 224×224 model on a loaded 2-core machine), so a program is
kept per module content and input shape for the life of the process (the thread counts of one
``pokernet latency`` run reuse it).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .onnx_export import quiet

# Lowered programs of this process: module fingerprint -> (program bytes, delegation summary).
_PROGRAMS: dict[str, tuple[bytes, dict[str, Any]]] = {}


def fingerprint(module: nn.Module, x: torch.Tensor) -> str:
    """The module's structure, its parameters and buffers, and the input shape, hashed."""
    digest = hashlib.sha256(repr(module).encode() + repr(tuple(x.shape)).encode())
    for key, value in module.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def strip_aliases(program) -> int:
    """Remove ``aten.alias`` nodes of an exported program (no-op views: timm's GhostModule
    slices ``out[:, :out_chs]`` of exactly out_chs channels); left in, each becomes a copy
    outside the delegate and splits the graph into many XNNPACK partitions."""
    removed = 0
    for node in list(program.graph.nodes):
        if node.op == "call_function" and node.target is torch.ops.aten.alias.default:
            node.replace_all_uses_with(node.args[0])
            program.graph.erase_node(node)
            removed += 1
    program.graph_module.recompile()
    return removed


def delegation(edge) -> dict[str, Any]:
    """How the lowered graph splits: XNNPACK delegate calls and the ops left outside them."""
    outside: Counter = Counter()
    delegates = 0
    for node in edge.exported_program().graph_module.graph.nodes:
        if node.op != "call_function" or "getitem" in str(node.target):
            continue
        if "executorch_call_delegate" in str(node.target):
            delegates += 1
        else:
            outside[getattr(node.target, "__name__", str(node.target))] += 1  # "aten.convolution.default"
    return {"xnnpack_delegates": delegates, "outside_delegate": dict(outside)}


def lower_to_xnnpack(module: nn.Module, x: torch.Tensor) -> tuple[bytes, dict[str, Any]]:
    """The ExecuTorch program of ``module`` (every conv delegated to XNNPACK) and its split;
    ValueError naming the ops when a convolution stays outside the delegate."""
    key = fingerprint(module, x)
    if key not in _PROGRAMS:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        with quiet(), torch.no_grad():
            program = torch.export.export(module.eval(), (x,))
            aliases = strip_aliases(program)
            edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
            summary = {**delegation(edge), "aliases_removed": aliases}
            left = [op for op in summary["outside_delegate"] if "conv" in op]
            if left:
                raise ValueError(f"XNNPACK did not take every convolution (left outside: {', '.join(left)})")
            _PROGRAMS[key] = (edge.to_executorch().buffer, summary)
    return _PROGRAMS[key]


def set_xnnpack_threads(threads: int) -> None:
    """XNNPACK's threads: ExecuTorch's one process-wide threadpool, resized (the models of one
    runtime/thread count are built, then timed, with the same count)."""
    from executorch.extension.pybindings import portable_lib

    if portable_lib._threadpool_get_thread_count() != threads:
        portable_lib._unsafe_reset_threadpool(threads)


def xnnpack_call(module: nn.Module, x: torch.Tensor, threads: int, fmt: torch.memory_format) -> Callable[[], Any]:
    """The builder of RUNTIME_SPECS["xnnpack"]: the program loaded once, its forward method
    run on the same (contiguous) input every call."""
    from executorch.runtime import Runtime

    buffer, summary = lower_to_xnnpack(module, x.contiguous())
    set_xnnpack_threads(threads)
    method = Runtime.get().load_program(buffer).load_method("forward")
    inputs = [x.contiguous()]

    def call() -> torch.Tensor:
        return method.execute(inputs)[0]

    call.notes = {"xnnpack": summary}  # how the graph split: make_runner records it
    return call
