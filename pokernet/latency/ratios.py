"""Table 3's ratios: every PokerNet over GhostNet at the same width, timed in the same turns,
and their spread over separate invocations (:func:`ratio_spread`)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from pokernet.models.variant import Variant

# A setting is stable when every invocation's ratio lies within ±3% of their median
# (the criterion benchmarks/latency_stability.py has used since the ratios were first measured).
STABILITY_TOLERANCE = 0.03


def reference_of(model: str) -> str | None:
    """PokerNet-α× is compared with GhostNet at the same width (Table 3)."""
    reference = Variant(model).reference
    return reference.name if reference else None


def references_for(models: list[str]) -> tuple[list[str], list[str]]:
    """The models to run (given ones + missing references) and the references added."""
    references = [reference_of(m) for m in models]
    added = list(dict.fromkeys(r for r in references if r is not None and r not in models))
    return models + added, added


def ratios(results: list[dict[str, Any]], runtimes: Iterable[str]) -> list[dict[str, Any]]:
    """Ratio of every PokerNet to its GhostNet, per runtime and thread count (each setting once)."""
    table = {(r["model"], r["runtime"], r["threads"]): r["median_ms"] for r in results}
    threads_seen = sorted({r["threads"] for r in results})
    models = list(dict.fromkeys(r["model"] for r in results))
    out: list[dict[str, Any]] = []
    for model in models:
        ref = reference_of(model)
        if ref is None or ref not in models:
            continue
        for threads in threads_seen:
            for runtime in runtimes:
                if (model, runtime, threads) in table and (ref, runtime, threads) in table:
                    out.append(
                        {
                            "model": model,
                            "reference": ref,
                            "runtime": runtime,
                            "threads": threads,
                            "ratio": round(table[model, runtime, threads] / table[ref, runtime, threads], 4),
                        }
                    )
    return out


def ratio_spread(values: list[float], tolerance: float = STABILITY_TOLERANCE) -> dict[str, Any]:
    """The ratio of one setting over separate invocations: median, min–max, the largest
    deviation from the median, and whether it is stable (None: one invocation, not checked)."""
    median = statistics.median(values)
    deviation = max(abs(v / median - 1) for v in values) if median > 0 else 0.0
    return {
        "ratio": round(median, 4),
        "invocation_ratios": [round(v, 4) for v in values],
        "ratio_min": round(min(values), 4),
        "ratio_max": round(max(values), 4),
        "max_deviation": round(deviation, 4),
        "stable": deviation <= tolerance if len(values) > 1 else None,
    }
