"""Where the time goes: per-layer time by module type beside its MAdds share.

Each conv/linear is put in one category by its role:

* ``SE``: anything inside a Squeeze-and-Excite module;
* ``depthwise xk (Poker expansion)``: the Poker module's expansion, whatever formulation
  (grouped conv with channel multiplier k, or its depthwise rewrites incl. their copies);
* ``pointwise``: 1x1 convs and the classifier;
* ``depthwise``: other depthwise convs (Ghost cheap ops, stride-2 and shortcut convs);
* ``dense conv``: the 3x3 stem conv;
* ``other``: activations not fused, concat/slice/add, pooling, layout reorders.

Times come from ONNX Runtime's profiler (per-node kernel time), OpenVINO's per-node
performance counters (see below) or torch.profiler (eager, one ``record_function`` range
per classified module); MAdds from forward hooks on the
PyTorch model (conv: out elements x in/groups x kh x kw; linear: out x in), which is the
count of :func:`pokernet.complexity.counting.count_madds` less bias adds.

OpenVINO reports the nodes of its fused graph: a conv and the activation or add fused into
it are one node, named as the ONNX node of the conv, so the categories by name and weight
are ORT's. The layout reorders it inserts are named after the two nodes they join
("A_abcd_acdb_B") and land in the category those names give (a reorder inside an SE or a
Poker expansion counts there), else in "other"; so do its Slice/Concat/Broadcast copies
and pooling. Its counters hold whole microseconds per node and run: nodes of 1-2 µs are
undercounted, so the profiled total is below the whole run (``run_ms``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model

from .onnx_export import export_onnx
from .openvino_runtime import compile_openvino, executed_node_info, node_mean_us
from .prepare import prepare_module
from .runtime_table import runtime_spec
from .runtimes import ort_session, torch_threads

CATEGORIES = ("pointwise", "depthwise", "depthwise xk (Poker expansion)", "SE", "dense conv", "other")
# OpenVINO's layer types under the ONNX op names category_of knows.
OPENVINO_AS_ONNX_OP = {"Convolution": "Conv", "GroupConvolution": "Conv", "FullyConnected": "MatMul"}


def _segments(name: str) -> list[str]:
    return [s for s in name.replace("/", ".").split(".") if s]


def category_of(
    name: str, module: nn.Module | None = None, weight_shape: list[int] | None = None, op: str | None = None
) -> str:
    """Category of a module (by qualified name and type) or ONNX node (by name, op, weight)."""
    parts = _segments(name)
    if "se" in parts:
        return "SE"
    if "poker" in parts and "expand" in parts:
        return "depthwise xk (Poker expansion)"
    if isinstance(module, nn.Linear) or op in ("Gemm", "MatMul"):
        return "pointwise"
    if isinstance(module, nn.Conv2d):
        weight_shape = list(module.weight.shape)
    if weight_shape is not None and len(weight_shape) == 4 and (module is not None or op in ("Conv", "FusedConv")):
        out, per_group, kh, kw = weight_shape
        if kh == kw == 1:
            return "pointwise"
        if per_group == 1:
            return "depthwise"
        return "dense conv"
    return "other"


def madds_by(model: nn.Module, resolution: int = 224) -> dict[str, dict[Any, int]]:
    """MACs per category and per input resolution of the layer (conv and linear)."""
    by_category: dict[str, int] = defaultdict(int)
    by_resolution: dict[int, int] = defaultdict(int)
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):

            def hook(mod, inputs, output, name=name):
                if isinstance(mod, nn.Conv2d):
                    macs = output.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
                    size = inputs[0].shape[-1]
                else:
                    macs, size = output.numel() * mod.in_features, 1
                by_category[category_of(name, mod)] += macs
                by_resolution[size] += macs

            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, resolution, resolution))
    finally:
        for h in hooks:
            h.remove()
    return {"category": dict(by_category), "resolution": dict(by_resolution)}


def _ort_node_times(events: list[dict], warm: int) -> dict[str, Any]:
    nodes: dict[str, list[float]] = defaultdict(list)
    info: dict[str, tuple[str, list[int] | None, int]] = {}
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            node = event["name"][: -len("_kernel_time")]
            nodes[node].append(event["dur"])
            shapes = [next(iter(s.values())) for s in event["args"].get("input_type_shape", [])]
            weight = shapes[1] if event["args"]["op_name"] in ("Conv", "FusedConv") and len(shapes) > 1 else None
            size = shapes[0][-1] if shapes and len(shapes[0]) == 4 else 1
            info[node] = (event["args"]["op_name"], weight, size)
    by_category: dict[str, float] = defaultdict(float)
    by_resolution: dict[int, float] = defaultdict(float)
    for node, durations in nodes.items():
        per_run = sum(durations[warm:]) / max(1, len(durations) - warm) / 1e3  # us -> ms
        op, weight, size = info[node]
        by_category[category_of(node, weight_shape=weight, op=op)] += per_run
        by_resolution[size] += per_run
    runs = sorted(e["dur"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")[warm:]
    return {
        "category": dict(by_category),
        "resolution": dict(by_resolution),
        "nodes_per_run": len(nodes),
        "run_ms": runs[len(runs) // 2] / 1e3 if runs else None,
    }


def profile_onnxruntime(modules: dict[str, nn.Module], x: torch.Tensor, threads: int, runs: int) -> dict[str, dict]:
    """Mean kernel time per run (ms) by category and by input resolution, from ORT's
    profiler; the sessions run in turns so that load from other processes hits all alike."""
    warm = max(3, runs // 10)
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {
            key: ort_session(export_onnx(m, x), threads, profile_prefix=os.path.join(tmp, f"ort{i}"))
            for i, (key, m) in enumerate(modules.items())
        }
        feed = {"input": x.numpy()}
        for _ in range(warm + runs):  # the warm-up runs are profiled too: dropped below
            for session in sessions.values():
                session.run(None, feed)
        out = {}
        for key, session in sessions.items():
            with open(session.end_profiling()) as f:
                out[key] = _ort_node_times(json.load(f), warm)
    return out


def _openvino_node_times(
    info: dict[str, dict], before: dict[str, float], after: dict[str, float], warm: int, runs: int
) -> dict[str, Any]:
    """Mean time per timed run (ms) by category and input size, from the running means of
    OpenVINO's counters after ``warm`` and after ``warm + runs`` inferences."""
    by_category: dict[str, float] = defaultdict(float)
    by_resolution: dict[int, float] = defaultdict(float)
    for node, mean_us in after.items():
        per_run = (mean_us * (warm + runs) - before.get(node, 0.0) * warm) / runs / 1e3  # us -> ms
        node_info = info.get(node, {"layer_type": None, "weight": None, "size": 1})
        op = OPENVINO_AS_ONNX_OP.get(node_info["layer_type"], node_info["layer_type"])
        by_category[category_of(node, weight_shape=node_info["weight"], op=op)] += max(0.0, per_run)
        by_resolution[node_info["size"]] += max(0.0, per_run)
    return {"category": dict(by_category), "resolution": dict(by_resolution), "nodes_per_run": len(after)}


def profile_openvino(modules: dict[str, nn.Module], x: torch.Tensor, threads: int, runs: int) -> dict[str, dict]:
    """Mean time per run (ms) by category and by input resolution from OpenVINO's per-node
    performance counters; the compiled models run in turns; ``run_ms`` is the median of the
    whole inference (time.perf_counter around it)."""
    warm = max(3, runs // 10)
    compiled = {key: compile_openvino(export_onnx(m, x), threads, profile=True) for key, m in modules.items()}
    requests = {key: c.create_infer_request() for key, c in compiled.items()}
    feed = {0: x.numpy()}
    whole: dict[str, list[float]] = defaultdict(list)
    for _ in range(warm):
        for request in requests.values():
            request.infer(feed, share_inputs=True)
    before = {key: node_mean_us(request) for key, request in requests.items()}
    for _ in range(runs):
        for key, request in requests.items():
            started = time.perf_counter()
            request.infer(feed, share_inputs=True)
            whole[key].append(time.perf_counter() - started)
    out = {}
    for key, request in requests.items():
        out[key] = _openvino_node_times(
            executed_node_info(compiled[key]), before[key], node_mean_us(request), warm, runs
        )
        out[key]["run_ms"] = sorted(whole[key])[runs // 2] * 1e3
    return out


def _eager_labels(module: nn.Module) -> list[tuple[nn.Module, str]]:
    labelled: list[tuple[nn.Module, str]] = []
    for name, mod in module.named_modules():
        parts = _segments(name)
        if parts and parts[-1] == "se":
            labelled.append((mod, "SE"))
        elif parts[-2:] == ["poker", "expand"]:
            labelled.append((mod, "depthwise xk (Poker expansion)"))
        elif isinstance(mod, (nn.Conv2d, nn.Linear)) and "se" not in parts and "expand" not in parts:
            labelled.append((mod, category_of(name, mod)))
    return labelled


def profile_eager(modules: dict[str, nn.Module], inputs: dict[str, torch.Tensor], runs: int) -> dict[str, dict]:
    """Mean time per run (ms) by category with torch.profiler (one ``record_function``
    range per classified module; 'other' = the forward less those ranges); models in turns."""
    from torch.profiler import ProfilerActivity, profile, record_function

    stack: list[Any] = []
    hooks = []
    for key, module in modules.items():
        for mod, label in _eager_labels(module):

            def enter(m, args, label=f"cat::{key}::{label}"):
                rf = record_function(label)
                rf.__enter__()
                stack.append(rf)

            def leave(m, args, out):
                stack.pop().__exit__(None, None, None)

            hooks += [mod.register_forward_pre_hook(enter), mod.register_forward_hook(leave)]
    try:
        with torch.inference_mode():
            for _ in range(5):
                for key, module in modules.items():
                    module(inputs[key])
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(runs):
                    for key, module in modules.items():
                        with record_function(f"cat::{key}::total"):
                            module(inputs[key])
    finally:
        for h in hooks:
            h.remove()
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for event in prof.key_averages():
        if event.key.startswith("cat::"):
            _, key, label = event.key.split("::", 2)
            totals[key][label] = event.cpu_time_total / runs / 1e3
    out = {}
    for key in modules:
        total = totals[key].pop("total", 0.0)
        by_category = {c: totals[key].get(c, 0.0) for c in CATEGORIES if c != "other"}
        by_category["other"] = max(0.0, total - sum(by_category.values()))
        out[key] = {"category": by_category, "resolution": {}, "run_ms": total}
    return out


def _report(
    name: str, runtime: str, threads: int, optimize: bool, notes: dict, times: dict, macs: dict
) -> dict[str, Any]:
    total_ms = sum(times["category"].values())
    total_macs = sum(macs["category"].values())
    rows = []
    for category in CATEGORIES:
        ms, mac = times["category"].get(category, 0.0), macs["category"].get(category, 0)
        rows.append(
            {
                "category": category,
                "ms": round(ms, 4),
                "time_share": round(ms / total_ms, 4) if total_ms else 0,
                "madds": mac,
                "madds_share": round(mac / total_macs, 4) if total_macs else 0,
                "gmacs_per_s": round(mac / (ms * 1e-3) / 1e9, 2) if ms > 0 and mac else None,
            }
        )
    by_res = []
    for size in sorted(set(times["resolution"]) | set(macs["resolution"]), reverse=True):
        ms, mac = times["resolution"].get(size, 0.0), macs["resolution"].get(size, 0)
        by_res.append(
            {
                "input_size": size,
                "ms": round(ms, 4),
                "madds": mac,
                "gmacs_per_s": round(mac / (ms * 1e-3) / 1e9, 2) if ms > 0 and mac else None,
            }
        )
    return {
        "model": name,
        "runtime": runtime,
        "threads": threads,
        "optimized": optimize,
        "optimizations": notes,
        "total_ms": round(total_ms, 4),
        "total_madds": total_macs,
        "run_ms": round(times["run_ms"], 4) if times.get("run_ms") else None,
        "nodes_per_run": times.get("nodes_per_run"),
        "categories": rows,
        "resolutions": by_res,
    }


def profile_models(
    entries: list[tuple[str, bool]],
    runtime: str = "onnxruntime",
    threads: int = 1,
    resolution: int = 224,
    runs: int = 50,
) -> list[dict[str, Any]]:
    """Profile each (model name, optimized?) entry, all in turns in one profiling session.

    Per entry: time and MAdds per category (and per input resolution for ORT and OpenVINO)."""
    if runtime not in ("onnxruntime", "openvino", "eager"):
        raise ValueError(f"the per-layer profile supports runtimes onnxruntime, openvino and eager, not {runtime!r}")
    runtime_spec(runtime)  # a runtime whose package is missing: one line naming it
    torch.manual_seed(0)
    x = torch.randn(1, 3, resolution, resolution)
    modules, inputs, notes, macs = {}, {}, {}, {}
    with torch_threads(threads):
        for name, optimize in entries:
            key = f"{name}/{'optimized' if optimize else 'direct'}"
            model = create_model(name).eval()
            macs[key] = madds_by(model, resolution)
            modules[key], notes[key] = prepare_module(name, model, runtime, threads, resolution, optimize)
            fmt = notes[key].get("memory_format", "contiguous")
            inputs[key] = x.contiguous(memory_format=torch.channels_last) if fmt == "channels_last" else x
        if runtime == "onnxruntime":
            times = profile_onnxruntime(modules, x, threads, runs)
        elif runtime == "openvino":
            times = profile_openvino(modules, x, threads, runs)
        else:
            times = profile_eager(modules, inputs, runs)
    return [
        _report(name, runtime, threads, optimize, notes[key], times[key], macs[key])
        for (name, optimize), key in zip(entries, modules)
    ]


def profile_model(
    name: str,
    runtime: str = "onnxruntime",
    threads: int = 1,
    optimize: bool = True,
    resolution: int = 224,
    runs: int = 50,
) -> dict[str, Any]:
    """Time and MAdds per category (and per resolution for ORT) of one model."""
    return profile_models([(name, optimize)], runtime, threads, resolution, runs)[0]
