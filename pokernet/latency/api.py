"""The public latency surface: what the hand-run studies in ``benchmarks/`` (and a user's own
script) call. Time whole models, time any calls in turns, time the Poker layers, profile by
module type, and describe the machine. Everything else in :mod:`pokernet.latency` serves
``pokernet latency`` and may change without notice."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model
from pokernet.provenance import hardware_info, runtime_versions

from .branch_forms import EXPANSION_FORMS, expansion_forms, model_forms
from .measure import measure as time_models
from .paper_parallel import trace_and_freeze, use_interop_threads
from .profile import CATEGORIES, profile_models
from .ratios import STABILITY_TOLERANCE
from .runtime_table import RUNTIMES
from .runtimes import make_runner, torch_threads
from .timing import summarize, time_interleaved
from .variants import poker_module_rows

__all__ = [
    "CATEGORIES",
    "EXPANSION_FORMS",
    "RUNTIMES",
    "STABILITY_TOLERANCE",
    "cpu_ms_by_thread",
    "expansion_forms",
    "load_average",
    "machine",
    "model_call",
    "model_forms",
    "poker_layers",
    "profile_models",
    "time_calls",
    "time_layers",
    "time_models",
    "torch_threads",
    "use_interop_threads",
]


def machine(threads: list[int]) -> dict[str, Any]:
    """The CPU (name, cores, ISA, load), thread counts and library versions a figure was measured with."""
    return {"hardware": hardware_info(threads), "versions": runtime_versions()}


def load_average() -> float:
    """The 1-minute load average, printed beside each figure of a shared machine."""
    return round(os.getloadavg()[0], 2)


def time_calls(
    calls: dict[str, Callable[[], Any]], budget_s: float, min_runs: int = 20, warmup_s: float = 0.2
) -> dict[str, dict[str, float]]:
    """Each call's summary (median, IQR, runs, in ms), the calls timed in turns (A B …, … B A)."""
    times = time_interleaved(calls, budget_s, min_runs=min_runs, warmup_s=warmup_s)
    return {label: summarize(seconds) for label, seconds in times.items()}


def model_call(name: str, runtime: str, threads: int, x: torch.Tensor) -> Callable[[], Any]:
    """``name`` prepared for ``runtime`` as ``pokernet latency`` times it, its output checked
    against the model as built (a wrong model is never timed)."""
    model = create_model(name).eval()
    with torch.no_grad():
        reference = model(x)
    return make_runner(name, model, runtime, threads, x, reference).call


def poker_layers(models: tuple[str, ...] = ("pokernet_050", "pokernet_100"), resolution: int = 224) -> list[dict]:
    """Every distinct Poker expansion of ``models`` at ``resolution``: model, M, k, input size,
    how many modules share it, and one such expansion (``expand``, its conv, BN and activation)."""
    layers: dict[tuple, dict] = {}
    for row in poker_module_rows(models, resolution):
        key = (row["model"], row["m"], row["k"], row["size"])
        model, m, k, size = key
        layer = layers.setdefault(
            key, {"model": model, "m": m, "k": k, "size": size, "count": 0, "expand": row["poker"].expand}
        )
        layer["count"] += 1
    return list(layers.values())


def time_layers(
    forms_of: Callable[[dict], dict[str, nn.Module]],
    threads: int,
    budget_s: float,
    memory_format: torch.memory_format = torch.channels_last,
    models: tuple[str, ...] = ("pokernet_050", "pokernet_100"),
    min_runs: int = 50,
    log: Callable[[str], None] = lambda message: None,
) -> list[dict]:
    """Per Poker layer of ``models`` (:func:`poker_layers`), the median µs of each module
    ``forms_of(layer)`` returns, frozen TorchScript at ``threads``, the forms of one layer timed
    in turns; with each layer's MACs (M·k·size²·9)."""
    rows = []
    with torch_threads(threads):
        for layer in poker_layers(models):
            x = torch.randn(1, layer["m"], layer["size"], layer["size"]).contiguous(memory_format=memory_format)
            calls = {form: _frozen_call(module, x, memory_format) for form, module in forms_of(layer).items()}
            summaries = time_calls(calls, budget_s, min_runs=min_runs, warmup_s=0.05)
            row = {key: value for key, value in layer.items() if key != "expand"}
            row["macs"] = layer["m"] * layer["k"] * layer["size"] ** 2 * 9
            row["us"] = {form: round(1e3 * summary["median_ms"], 1) for form, summary in summaries.items()}
            log(f"  {row['model']} M={row['m']} k={row['k']} {row['size']}²: {row['us']}")
            rows.append(row)
    return rows


def _frozen_call(module: nn.Module, x: torch.Tensor, memory_format: torch.memory_format) -> Callable[[], Any]:
    frozen = trace_and_freeze(module.to(memory_format=memory_format), x)

    def call():
        with torch.inference_mode():
            return frozen(x)

    return call


def _thread_ticks() -> dict[str, tuple[str, int]]:
    """CPU ticks (user + system) of every thread of this process, with its name (Linux /proc)."""
    ticks = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        ticks[tid] = (name, int(fields[11]) + int(fields[12]))
    return ticks


def cpu_ms_by_thread(call: Callable[[], Any], runs: int, warmup_runs: int = 10) -> dict[str, Any]:
    """Wall median (ms) of ``call`` over ``runs`` and the CPU ms per run of every thread that
    worked (``main`` = the calling thread; others by their kernel name), from /proc/self/task."""
    tick_ms = 1e3 / os.sysconf("SC_CLK_TCK")
    for _ in range(warmup_runs):
        call()
    before, seconds = _thread_ticks(), []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    per_thread = []
    for tid, (name, ticks) in _thread_ticks().items():
        used = ticks - before.get(tid, (name, 0))[1]
        if used > 0:
            role = "main" if tid == str(os.getpid()) else name
            per_thread.append({"thread": role, "cpu_ms_per_run": round(used * tick_ms / runs, 2)})
    return {"wall_median_ms": summarize(seconds)["median_ms"], "threads": per_thread}
