"""CPU latency at batch 1 (paper Table 3) in three runtimes, models interleaved.

Runtimes:

* ``eager``       PyTorch eager under ``torch.inference_mode``; Conv+BN folded with
                  ``torch.fx.experimental.optimization.fuse``.
* ``torchscript`` ``torch.jit.trace`` + ``torch.jit.freeze`` (freeze folds BN into convs).
* ``onnxruntime`` ``torch.onnx.export`` -> ONNX Runtime, CPU execution provider, all graph
                  optimizations; the ONNX output must equal PyTorch's before it is timed.

Every model gets the same generic treatment (BN folding, freezing, the memory format
measured best for it, no-op Slice removal in the ONNX graph); a model with Poker modules
also gets the Poker expansion recorded fastest for the runtime
(:func:`pokernet.latency.variants.optimize_for_inference`). ``optimize=False`` measures the
models as built ("direct").

Timing: a fixed thread count, warm-up, then the models of one runtime/thread count run
in turns (A B, B A, A B, ...) until a time budget is spent and every model has at least
``min_runs`` runs. What matters is the ratio of two models timed in the same turns: load
from other processes hits both alike.
"""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from pokernet.provenance import available_cores as all_cores
from pokernet.provenance import cpu_model as cpu_name
from pokernet.models import create_model

from .variants import by_threads, load_choice, optimize_for_inference, pad_ghost_modules

RUNTIMES = ("eager", "torchscript", "onnxruntime")
# PokerNet-α× is compared with GhostNet at the same width (Table 3).
REFERENCES = {"pokernet_050": "ghostnet_050", "pokernet_100": "ghostnet_100"}
# An output is "equal" when max|a-b| <= ATOL + RTOL * max|reference| (float32 reorderings).
RTOL, ATOL = 1e-4, 1e-4


class OutputMismatch(ValueError):
    """A runtime's output differs from PyTorch eager: its timing would be meaningless."""


def hardware_info(threads: Iterable[int]) -> dict[str, Any]:
    return {
        "cpu": cpu_name(),
        "cores": all_cores(),
        "logical_cpus": os.cpu_count(),
        "threads": sorted(set(threads)),
        "isa": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import timm
    import torchvision
    from importlib.metadata import PackageNotFoundError, version
    try:
        own = version("pokernet-repro")
    except PackageNotFoundError:
        own = "unknown"
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "numpy": np.__version__, "pokernet": own}


def references_for(models: list[str]) -> tuple[list[str], list[str]]:
    """The models to run (given ones + missing references) and the references added."""
    added = [REFERENCES[m] for m in models if m in REFERENCES and REFERENCES[m] not in models]
    added = list(dict.fromkeys(added))
    return models + added, added


# ---------------------------------------------------------------- model preparation
def model_choice(model_name: str, runtime: str, threads: int, choice: dict | None = None) -> dict[str, Any]:
    """Whole-model options measured best for this model (memory format, Ghost padding),
    as recorded by benchmarks/poker_expansion_variants.py; defaults when not recorded."""
    choice = load_choice() if choice is None else choice
    recorded = by_threads(choice.get("model", {}).get("choice", {}).get(runtime, {}), threads) or {}
    return {"memory_format": "contiguous", "ghost_pad": 1, **recorded.get(model_name, {})}


def prepare_module(name: str, model: nn.Module, runtime: str, threads: int, resolution: int,
                   optimize: bool = True, options: dict[str, Any] | None = None,
                   choice: dict | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """The eval-mode module to run in ``runtime`` and a record of what was done to it.

    ``options`` (memory_format, ghost_pad) overrides the recorded whole-model choice."""
    model = model.eval()
    notes: dict[str, Any] = {"optimized": optimize}
    if not optimize:
        return model, notes
    options = {"memory_format": "contiguous", "ghost_pad": 1,
               **(options if options is not None else model_choice(name, runtime, threads, choice))}
    fmt = options["memory_format"] if runtime in ("eager", "torchscript") else "contiguous"
    model, used = optimize_for_inference(model, runtime, threads, resolution, choice=choice, memory_format=fmt)
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

    from .variants import Expansion, PaddedGhostModule

    leaves = (SEModule, SqueezeExcite, Expansion, PaddedGhostModule)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return isinstance(m, leaves) or super().is_leaf_module(m, qualname)

    graph = torch.fx.GraphModule(model, Tracer().trace(model))
    return fuse(graph, no_trace=True)


def _quiet() -> contextlib.AbstractContextManager:
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def export_onnx(model: nn.Module, x: torch.Tensor) -> bytes:
    """ONNX bytes via the TorchScript-based ``torch.onnx.export`` (static shapes; quicker
    than the dynamo exporter and ORT folds the same graph), no-op Slices removed."""
    buffer = io.BytesIO()
    with _quiet(), torch.no_grad():
        torch.onnx.export(model, (x,), buffer, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["output"])
    return drop_noop_slices(buffer.getvalue())


def drop_noop_slices(model_bytes: bytes) -> bytes:
    """Remove Slice nodes that keep their whole input (GhostModule's ``out[:, :out_chs]``
    when out_chs is even): ORT copies the tensor for them. Generic: every model gains."""
    import onnx
    from onnx import numpy_helper, shape_inference

    proto = shape_inference.infer_shapes(onnx.load_from_string(model_bytes))
    graph = proto.graph
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
              for v in list(graph.value_info) + list(graph.input)}
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    kept = []
    for node in graph.node:
        if (node.op_type == "Slice" and node.output[0] not in outputs and node.input[0] in shapes
                and all(i in consts for i in node.input[1:]) and len(node.input) >= 4):
            starts, ends, axes = (consts[i].tolist() for i in node.input[1:4])
            steps = consts[node.input[4]].tolist() if len(node.input) > 4 else [1] * len(starts)
            shape = shapes[node.input[0]]
            if all(s == 0 and st == 1 and shape[a] > 0 and e >= shape[a]
                   for s, e, a, st in zip(starts, ends, axes, steps)):
                rename[node.output[0]] = node.input[0]
                continue
        kept.append(node)
    if not rename:
        return model_bytes
    for node in kept:
        for index, name in enumerate(node.input):
            while name in rename:
                name = rename[name]
            node.input[index] = name
    del graph.node[:]
    graph.node.extend(kept)
    del graph.value_info[:]
    return proto.SerializeToString()


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
            raise ValueError(f"this process runs ORT with a global pool of {_ORT_GLOBAL_THREADS} threads, not {threads}")
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


def check_equal(what: str, got: np.ndarray | torch.Tensor, reference: torch.Tensor,
                rtol: float = RTOL, atol: float = ATOL) -> float:
    """Raise OutputMismatch unless ``got`` equals ``reference`` within float tolerance."""
    got_t = torch.as_tensor(np.asarray(got)).float()
    reference = reference.float()
    if got_t.shape != reference.shape:
        raise OutputMismatch(f"{what}: output shape {tuple(got_t.shape)} != PyTorch's {tuple(reference.shape)}")
    error = (got_t - reference).abs().max().item()
    bound = atol + rtol * reference.abs().max().item()
    if not error <= bound:
        raise OutputMismatch(f"{what}: output differs from PyTorch eager by {error:.3g} (> {bound:.3g})")
    return error


@dataclass
class Runner:
    """One model ready to run in one runtime at one thread count."""
    model: str
    runtime: str
    threads: int
    call: Callable[[], Any]
    notes: dict[str, Any] = field(default_factory=dict)


def build_call(runtime: str, module: nn.Module, x: torch.Tensor, threads: int,
               memory_format: str = "contiguous") -> Callable[[], Any]:
    """A no-argument callable that runs ``module`` on ``x`` in ``runtime``.

    The input conversion to channels_last, when used, is inside the call (it is paid)."""
    fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    if runtime == "eager":
        def call() -> torch.Tensor:
            with torch.inference_mode():
                return module(x.contiguous(memory_format=fmt))
        return call
    if runtime == "torchscript":
        with _quiet(), torch.no_grad():
            scripted = torch.jit.freeze(torch.jit.trace(module.eval(), x.contiguous(memory_format=fmt)))

        def call() -> torch.Tensor:
            with torch.inference_mode():
                return scripted(x.contiguous(memory_format=fmt))
        return call
    if runtime == "onnxruntime":
        session = ort_session(export_onnx(module, x), threads)
        feed = {session.get_inputs()[0].name: x.numpy()}

        def call() -> np.ndarray:
            return session.run(None, feed)[0]
        return call
    raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")


def make_runner(name: str, model: nn.Module, runtime: str, threads: int, x: torch.Tensor,
                reference: torch.Tensor, optimize: bool = True, options: dict[str, Any] | None = None,
                choice: dict | None = None) -> Runner:
    """Prepare ``model`` for ``runtime`` and check its output equals ``reference``
    (raises :class:`OutputMismatch` otherwise: a wrong model is not timed)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    module, notes = prepare_module(name, model, runtime, threads, x.shape[-1], optimize, options, choice)
    call = build_call(runtime, module, x, threads, notes.get("memory_format", "contiguous"))
    check_equal(f"{name} ({runtime})", call(), reference)
    return Runner(name, runtime, threads, call, notes)


# ---------------------------------------------------------------- timing
def time_interleaved(calls: dict[str, Callable[[], Any]], budget_s: float, min_runs: int = 10,
                     max_runs: int = 100_000, warmup_s: float = 0.3, warmup_runs: int = 3) -> dict[str, list[float]]:
    """Seconds per call of each callable, run in turns (A B, B A, ...) until
    ``budget_s`` × len(calls) is spent and each has ``min_runs``."""
    keys = list(calls)
    for key in keys:  # warm-up: caches, allocator, lazy init, thread pools
        start = time.perf_counter()
        for run in range(1000):
            calls[key]()
            if run + 1 >= warmup_runs and time.perf_counter() - start >= warmup_s:
                break
    times: dict[str, list[float]] = {key: [] for key in keys}
    deadline = time.perf_counter() + budget_s * len(keys)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        turn = 0
        while True:
            order = keys if turn % 2 == 0 else keys[::-1]
            for key in order:
                start = time.perf_counter()
                calls[key]()
                times[key].append(time.perf_counter() - start)
            turn += 1
            done = min(len(v) for v in times.values())
            if done >= max_runs or (done >= min_runs and time.perf_counter() >= deadline):
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def summarize(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1e3 for s in seconds)
    q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive") if len(ms) > 1 else (ms[0],) * 3
    return {"median_ms": round(statistics.median(ms), 4), "iqr_ms": round(q3 - q1, 4),
            "p25_ms": round(q1, 4), "p75_ms": round(q3, 4), "min_ms": round(ms[0], 4), "runs": len(ms)}


@contextlib.contextmanager
def torch_threads(threads: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def ratios(results: list[dict[str, Any]], runtimes: Iterable[str]) -> list[dict[str, Any]]:
    """Ratio of every PokerNet to its GhostNet, per runtime and thread count, and in the
    best runtime of each (runtime "best")."""
    table = {(r["model"], r["runtime"], r["threads"]): r["median_ms"] for r in results}
    threads_seen = sorted({r["threads"] for r in results})
    models = list(dict.fromkeys(r["model"] for r in results))
    out: list[dict[str, Any]] = []
    for model in models:
        ref = REFERENCES.get(model)
        if ref is None or ref not in models:
            continue
        for threads in threads_seen:
            for runtime in runtimes:
                if (model, runtime, threads) in table and (ref, runtime, threads) in table:
                    out.append({"model": model, "reference": ref, "runtime": runtime, "threads": threads,
                                "ratio": round(table[model, runtime, threads] / table[ref, runtime, threads], 4)})
            own = {rt: table[model, rt, threads] for rt in runtimes if (model, rt, threads) in table}
            theirs = {rt: table[ref, rt, threads] for rt in runtimes if (ref, rt, threads) in table}
            if own and theirs:
                best_own, best_ref = min(own, key=own.get), min(theirs, key=theirs.get)
                out.append({"model": model, "reference": ref, "runtime": "best", "threads": threads,
                            "ratio": round(own[best_own] / theirs[best_ref], 4),
                            "model_runtime": best_own, "reference_runtime": best_ref})
    return out


def measure_group(models: list[str], built: dict[str, nn.Module], expected: dict[str, torch.Tensor],
                  x: torch.Tensor, runtime: str, threads: int, budget_s: float, min_runs: int,
                  warmup_s: float, optimize: bool, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Prepare every model for one runtime and thread count, then time them in turns."""
    with torch_threads(threads):
        started = time.perf_counter()
        runners = [make_runner(name, built[name], runtime, threads, x, expected[name], optimize) for name in models]
        prepared_s = time.perf_counter() - started
        times = time_interleaved({r.model: r.call for r in runners}, budget_s, min_runs, warmup_s=warmup_s)
    rows = []
    for runner in runners:
        row = {"model": runner.model, "runtime": runtime, "threads": threads,
               **summarize(times[runner.model]), "optimizations": runner.notes}
        rows.append(row)
        log(f"{runner.model:14s} {runtime:12s} threads={threads}  median {row['median_ms']:8.3f} ms"
            f"  IQR {row['iqr_ms']:.3f}  runs {row['runs']}")
    log(f"  ({runtime}, {threads} thread(s): prepared in {prepared_s:.1f} s)")
    return rows


def _build(models: list[str], batch: int, resolution: int, model_options: dict | None):
    torch.manual_seed(0)
    x = torch.randn(batch, 3, resolution, resolution)
    built = {name: create_model(name, **(model_options or {}).get(name, {})).eval() for name in models}
    with torch.no_grad():
        expected = {name: model(x) for name, model in built.items()}
    return x, built, expected


def _ort_pool_worker() -> None:
    """Entry of the child process that times ORT with a shared pool (JSON in, JSON out)."""
    job = json.load(sys.stdin)
    use_ort_global_pool(job["threads"])
    x, built, expected = _build(job["models"], job["batch"], job["resolution"], job["model_options"])
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if job["verbose"] else (lambda m: None)
    rows = measure_group(job["models"], built, expected, x, "onnxruntime", job["threads"], job["budget_s"],
                         job["min_runs"], job["warmup_s"], job["optimize"], log)
    json.dump(rows, sys.stdout)


def _ort_group_in_child(job: dict[str, Any]) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", "from pokernet.latency.measure import _ort_pool_worker as w; w()"],
                          input=json.dumps(job), stdout=subprocess.PIPE, stderr=None, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the ONNX Runtime timing process failed (exit code {done.returncode})")
    return json.loads(done.stdout)


def measure(models: list[str], runtimes: list[str], threads: list[int], batch: int = 1,
            resolution: int = 224, budget_s: float = 2.0, min_runs: int = 20, warmup_s: float = 0.3,
            optimize: bool = True, log: Callable[[str], None] | None = None,
            model_options: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Time every model in every runtime at every thread count; the JSON report.

    ONNX Runtime with more than one thread runs in a child process whose sessions share
    one thread pool (:func:`use_ort_global_pool`)."""
    for runtime in runtimes:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}, all")
    if any(t < 1 for t in threads):
        raise ValueError("threads must be >= 1")
    x, built, expected = _build(models, batch, resolution, model_options)
    load_before = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    for runtime in runtimes:
        for n_threads in threads:
            if runtime == "onnxruntime" and n_threads > 1 and _ORT_GLOBAL_THREADS is None:
                job = {"models": models, "threads": n_threads, "batch": batch, "resolution": resolution,
                       "model_options": model_options, "budget_s": budget_s, "min_runs": min_runs,
                       "warmup_s": warmup_s, "optimize": optimize, "verbose": log is not None}
                results += _ort_group_in_child(job)
            else:
                results += measure_group(models, built, expected, x, runtime, n_threads, budget_s, min_runs,
                                         warmup_s, optimize, log or (lambda message: None))
            gc.collect()
    hardware = hardware_info(threads)
    hardware["load_avg_1m_start"] = round(load_before, 2)
    return {
        "hardware": hardware,
        "versions": versions(),
        "batch": batch,
        "resolution": resolution,
        "optimized": optimize,
        "timing": {"budget_s_per_model": budget_s, "min_runs": min_runs, "warmup_s": warmup_s,
                   "order": "interleaved A B, B A, ... per runtime and thread count",
                   "clock": "time.perf_counter, gc disabled",
                   "onnxruntime_threads": "1 thread: per-session; more: one shared pool (child process)"},
        "results": results,
        "ratios": ratios(results, runtimes),
    }
