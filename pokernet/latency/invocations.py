"""One latency report from N separate invocations of the measurement (fresh processes, :mod:`.child`).

Why separate processes: what varies between two runs of a whole measurement on a shared VM
(allocator state, thread-pool placement, a neighbour's load) does not vary inside one, so the
spread that decides whether a ratio is stable must come from invocations, not from the timed
runs of one invocation. The combined report keeps each invocation's medians and ratios."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from .child import run_in_child
from .choice import choice_file
from .ratios import ratio_spread


def run_invocations(settings: dict[str, Any], count: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """:func:`.measure.measure` with ``settings`` in ``count`` fresh processes, one after another."""
    reports = []
    for index in range(count):
        load, started = os.getloadavg()[0], time.perf_counter()
        job = {**settings, "choice_file": str(choice_file())}
        report = run_in_child("pokernet.latency.measure:measure_job", job, f"invocation {index + 1}/{count}")
        report["wall_s"] = round(time.perf_counter() - started, 1)
        reports.append(report)
        log(
            f"invocation {index + 1}/{count} (load {load:.2f}, {report['wall_s']:.0f} s): "
            + ", ".join(f"{r['model']}/{r['runtime']}/t{r['threads']}={r['ratio']:.3f}" for r in report["ratios"])
        )
    return reports


def _combined_results(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[tuple, list[dict[str, Any]]] = {}
    for report in reports:
        for row in report["results"]:
            rows.setdefault((row["model"], row["runtime"], row["threads"]), []).append(row)
    combined = []
    for (model, runtime, threads), per_invocation in rows.items():
        medians = [r["median_ms"] for r in per_invocation]
        combined.append(
            {
                "model": model,
                "runtime": runtime,
                "threads": threads,
                "median_ms": round(statistics.median(medians), 4),
                "iqr_ms": round(statistics.median(r["iqr_ms"] for r in per_invocation), 4),
                "runs": sum(r["runs"] for r in per_invocation),
                "invocation_median_ms": medians,
                "optimizations": per_invocation[0].get("optimizations", {}),
            }
        )
    return combined


def combine(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The reports of N invocations as one: per model and setting the median over invocations
    of each invocation's median; per ratio its median, min–max and stability (:func:`ratio_spread`).
    A setting missing from one invocation is an error: the spread would be over fewer runs."""
    series: dict[tuple, list[float]] = {}
    for report in reports:
        for r in report["ratios"]:
            series.setdefault((r["model"], r["reference"], r["runtime"], r["threads"]), []).append(r["ratio"])
    short = [key for key, values in series.items() if len(values) != len(reports)]
    if short:
        raise ValueError(f"ratio {short[0]} is missing from some invocations")
    combined = {key: value for key, value in reports[0].items() if key not in ("results", "ratios", "wall_s")}
    combined["results"] = _combined_results(reports)
    combined["ratios"] = [
        {"model": m, "reference": ref, "runtime": rt, "threads": th, **ratio_spread(values)}
        for (m, ref, rt, th), values in series.items()
    ]
    combined["invocations"] = [
        {
            "load_avg_1m_start": r["hardware"].get("load_avg_1m_start"),
            **({"wall_s": r["wall_s"]} if "wall_s" in r else {}),
        }
        for r in reports
    ]
    return combined
