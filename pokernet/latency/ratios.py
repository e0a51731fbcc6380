"""Table 3's ratios: every PokerNet over GhostNet at the same width, timed in the same turns."""
from __future__ import annotations

from typing import Any, Iterable

# PokerNet-α× is compared with GhostNet at the same width (Table 3).
REFERENCES = {"pokernet_050": "ghostnet_050", "pokernet_100": "ghostnet_100"}


def references_for(models: list[str]) -> tuple[list[str], list[str]]:
    """The models to run (given ones + missing references) and the references added."""
    added = [REFERENCES[m] for m in models if m in REFERENCES and REFERENCES[m] not in models]
    added = list(dict.fromkeys(added))
    return models + added, added


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
