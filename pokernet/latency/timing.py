"""Timing: models run in turns (A B, B A, ...) under one clock; medians and IQRs."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any


def time_interleaved(
    calls: dict[str, Callable[[], Any]],
    budget_s: float,
    min_runs: int = 10,
    max_runs: int = 100_000,
    warmup_s: float = 0.3,
    warmup_runs: int = 3,
) -> dict[str, list[float]]:
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
    return {
        "median_ms": round(statistics.median(ms), 4),
        "iqr_ms": round(q3 - q1, 4),
        "p25_ms": round(q1, 4),
        "p75_ms": round(q3, 4),
        "min_ms": round(ms[0], 4),
        "runs": len(ms),
    }
