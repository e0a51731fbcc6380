"""CPU latency at batch 1 (paper Table 3) in three runtimes, models interleaved.

The runtimes are in :mod:`.runtimes`, what is done to a model before it is timed in
:mod:`.prepare` (``optimize=False`` measures the models as built: "direct"), the clock in
:mod:`.timing`, the PokerNet/GhostNet ratios in :mod:`.ratios`.

Timing: a fixed thread count, warm-up, then the models of one runtime/thread count run
in turns (A B, B A, A B, ...) until a time budget is spent and every model has at least
``min_runs`` runs. What matters is the ratio of two models timed in the same turns: load
from other processes hits both alike.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model
from pokernet.provenance import hardware_info, runtime_versions

from .child import run_in_child
from .choice import choice_file, choice_note, use_choice_file
from .paper_parallel import RUNTIME as PAPER_PARALLEL
from .paper_parallel import interop_threads as paper_interop_threads
from .paper_parallel import use_interop_threads
from .ratios import ratios
from .runtime_table import runtime_spec
from .runtimes import make_runner, ort_global_threads, torch_threads, use_ort_global_pool
from .timing import summarize, time_interleaved


def measure_group(
    models: list[str],
    built: dict[str, nn.Module],
    expected: dict[str, torch.Tensor],
    x: torch.Tensor,
    runtime: str,
    threads: int,
    budget_s: float,
    min_runs: int,
    warmup_s: float,
    optimize: bool,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Prepare every model for one runtime and thread count, then time them in turns."""
    with torch_threads(threads):
        started = time.perf_counter()
        runners = [make_runner(name, built[name], runtime, threads, x, expected[name], optimize) for name in models]
        prepared_s = time.perf_counter() - started
        times = time_interleaved({r.model: r.call for r in runners}, budget_s, min_runs, warmup_s=warmup_s)
    rows = []
    for runner in runners:
        row = {
            "model": runner.model,
            "runtime": runtime,
            "threads": threads,
            **summarize(times[runner.model]),
            "optimizations": runner.notes,
        }
        rows.append(row)
        log(
            f"{runner.model:14s} {runtime:12s} threads={threads}  median {row['median_ms']:8.3f} ms"
            f"  IQR {row['iqr_ms']:.3f}  runs {row['runs']}"
        )
    log(f"  ({runtime}, {threads} thread(s): prepared in {prepared_s:.1f} s)")
    return rows


def _build(models: list[str], batch: int, resolution: int, model_options: dict | None):
    torch.manual_seed(0)
    x = torch.randn(batch, 3, resolution, resolution)
    built = {name: create_model(name, **(model_options or {}).get(name, {})).eval() for name in models}
    with torch.no_grad():
        expected = {name: model(x) for name, model in built.items()}
    return x, built, expected


# Runtimes whose set-up is once per process: (the set-up, whether this process still lacks it
# for a thread count). Such a group is timed in a child process that does the set-up first.
# onnxruntime: one shared pool (use_ort_global_pool); paper_parallel: the inter-op pool.
PER_PROCESS_SETUP: dict[str, tuple[Callable[[int], None], Callable[[int], bool]]] = {
    "onnxruntime": (use_ort_global_pool, lambda threads: threads > 1 and ort_global_threads() is None),
    PAPER_PARALLEL: (use_interop_threads, lambda threads: paper_interop_threads() != threads),
}


def group_job(job: dict[str, Any]) -> list[dict[str, Any]]:
    """One runtime group timed in a child process (:func:`.child.run_in_child`), after the
    runtime's once-per-process set-up."""
    PER_PROCESS_SETUP[job["runtime"]][0](job["threads"])
    use_choice_file(job["choice_file"])
    x, built, expected = _build(job["models"], job["batch"], job["resolution"], job["model_options"])
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if job["verbose"] else (lambda m: None)
    return measure_group(
        job["models"],
        built,
        expected,
        x,
        job["runtime"],
        job["threads"],
        job["budget_s"],
        job["min_runs"],
        job["warmup_s"],
        job["optimize"],
        log,
    )


def measure_job(job: dict[str, Any]) -> dict[str, Any]:
    """One whole measurement in a child process (an invocation of ``pokernet latency --invocations``,
    :func:`.child.run_in_child`): :func:`measure`'s keyword arguments and the choice file in use."""
    use_choice_file(job.pop("choice_file"))
    return measure(**job, log=lambda m: print(m, file=sys.stderr, flush=True))


def check_settings(runtimes: list[str], threads: list[int]) -> None:
    """Unknown or missing runtime, or no thread count any runtime can use: one clear error
    before any timing."""
    for runtime in runtimes:
        runtime_spec(runtime)
    if any(t < 1 for t in threads):
        raise ValueError("threads must be >= 1")
    if not any(t >= runtime_spec(runtime).min_threads for runtime in runtimes for t in threads):
        raise ValueError(
            f"runtime {runtimes[0]!r} needs at least {runtime_spec(runtimes[0]).min_threads} "
            f"threads, not {max(threads)}"
        )


def measure(
    models: list[str],
    runtimes: list[str],
    threads: list[int],
    batch: int = 1,
    resolution: int = 224,
    budget_s: float = 2.0,
    min_runs: int = 20,
    warmup_s: float = 0.3,
    optimize: bool = True,
    log: Callable[[str], None] | None = None,
    model_options: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Time every model in every runtime at every thread count; the JSON report.

    ONNX Runtime with more than one thread runs in a child process whose sessions share
    one thread pool (:func:`use_ort_global_pool`)."""
    check_settings(runtimes, threads)
    verbose, log = log is not None, log or (lambda message: None)
    x, built, expected = _build(models, batch, resolution, model_options)
    load_before = os.getloadavg()[0]
    timing = {"budget_s": budget_s, "min_runs": min_runs, "warmup_s": warmup_s}
    results: list[dict[str, Any]] = []
    for runtime in runtimes:
        for n_threads in threads:
            if n_threads < runtime_spec(runtime).min_threads:
                log(
                    f"{runtime}: not timed at {n_threads} thread(s): it needs "
                    f"at least {runtime_spec(runtime).min_threads}"
                )
                continue
            job = {
                "runtime": runtime,
                "models": models,
                "threads": n_threads,
                "batch": batch,
                "resolution": resolution,
                "model_options": model_options,
                **timing,
                "optimize": optimize,
                "verbose": verbose,
                "choice_file": str(choice_file()),
            }
            if runtime in PER_PROCESS_SETUP and PER_PROCESS_SETUP[runtime][1](n_threads):
                results += run_in_child("pokernet.latency.measure:group_job", job, f"the {runtime} timing")
            else:
                results += measure_group(
                    models, built, expected, x, runtime, n_threads, budget_s, min_runs, warmup_s, optimize, log
                )
            gc.collect()
    return _report(results, runtimes, threads, load_before, batch, resolution, optimize, timing)


def _report(results, runtimes, threads, load_before, batch, resolution, optimize, timing) -> dict[str, Any]:
    hardware = hardware_info(threads)
    hardware["load_avg_1m_start"] = round(load_before, 2)
    return {
        "hardware": hardware,
        "versions": runtime_versions(),
        "batch": batch,
        "resolution": resolution,
        "optimized": optimize,
        "rewrite_choice": choice_note(hardware["isa"], optimize),
        "timing": {
            "budget_s_per_model": timing["budget_s"],
            "min_runs": timing["min_runs"],
            "warmup_s": timing["warmup_s"],
            "order": "interleaved A B, B A, ... per runtime and thread count",
            "clock": "time.perf_counter, gc disabled",
            "onnxruntime_threads": "1 thread: per-session; more: one shared pool (child process)",
        },
        "results": results,
        "ratios": ratios(results, runtimes),
    }
