"""The frozen protocol of the confirming runs (workflow/protocol.yaml, issue 29): read it, hand its settings to the
workflow's config, record it in every run it governs, refuse a run made under another version, and apply its rules
to the exploration study (benchmarks/protocol_explore.py).

Imports no torch: the Snakefile calls ``with_protocol`` while it parses.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import subprocess
from pathlib import Path
from typing import Any

from pokernet import schemas

CONFIG_KEYS = ("epochs", "seeds", "table2_seeds", "table2_paired_seeds")


def load_protocol(path: str | Path) -> dict[str, Any]:
    """The protocol file, checked against pokernet/schemas/protocol.schema.json."""
    return schemas.check("protocol", schemas.load_yaml(path), str(path))


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _git(path: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, cwd=path.parent, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def protocol_commit(path: str | Path) -> str | None:
    """The commit that last changed the protocol file (None outside a git checkout). A file with changes not
    committed has no commit to name: a confirming run cannot start from it."""
    path = Path(path).resolve()
    if _git(path, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    commit = _git(path, "log", "-1", "--format=%h", "--", path.name)
    if not commit or _git(path, "status", "--porcelain", "--", path.name):
        raise ValueError(f"protocol {path} has changes not committed: commit it before any confirming run")
    return commit


def record(path: str | Path) -> dict[str, Any]:
    """What a confirming run's metrics.json records of its protocol (``pokernet train --protocol``)."""
    load_protocol(path)
    return {"path": str(path), "sha256": sha256(path), "commit": protocol_commit(path)}


def header_line(path: str | Path) -> str:
    """One line naming the protocol for a table's header (the report calls it)."""
    return f"Protocol: {path} at commit {protocol_commit(path)} (sha256 {sha256(path)[:12]}), frozen before its runs"


def check_runs(held: dict[str, dict[str, Any]], path: str | Path) -> None:
    """Refuse (one line) a run evaluated on the validation holdout, and a run made under another protocol
    file than ``path`` is now: a run without one, or one whose hash differs (another protocol, or this file
    edited after the runs were made)."""
    current = sha256(path)
    for where, data in held.items():
        if data.get("eval_split", "test") != "test":
            raise ValueError(f"{where}: evaluated on the validation holdout (an exploration run), not a result")
        made = data.get("protocol") or {}
        if made.get("sha256") != current:
            raise ValueError(
                f"{where}: made under protocol sha256 {str(made.get('sha256'))[:12]} (commit {made.get('commit')}), "
                f"but {path} is sha256 {current[:12]} (commit {protocol_commit(path)}): a run of another protocol, "
                f"or the protocol edited after its runs; retrain under this one"
            )


def settings(protocol: dict[str, Any]) -> dict[str, Any]:
    """The workflow config's keys the protocol decides (CONFIG_KEYS)."""
    choice = protocol["choice"]
    return {
        "epochs": choice["epochs"],
        "seeds": choice["seeds"],
        "table2_seeds": choice["seeds"],
        "table2_paired_seeds": choice["key_pair_seeds"],
    }


def with_protocol(config: dict[str, Any]) -> dict[str, Any]:
    """The workflow's config with the protocol's settings when it names a protocol. A config that sets one of
    those keys to another value (the smoke profile, a --config) has left the protocol: it keeps its values, the
    protocol's fill the rest, and its runs record no protocol."""
    if not config.get("protocol"):
        return config
    decided = settings(load_protocol(config["protocol"]))
    own = {key: config[key] for key in CONFIG_KEYS if key in config and config[key] != decided[key]}
    merged = {**config, **decided, **own}
    if own:
        merged["protocol"] = None
    return merged


# --------------------------------------------------------------------------- the rules, applied


def last_quarter_gain(history: list[dict[str, Any]], epochs: int, fraction: float) -> float | None:
    """Validation top-1 at the last epoch minus at epoch (1 - fraction) x epochs, from one run's history."""
    at = {row["epoch"]: row.get("val_top1") for row in history}
    start = round((1 - fraction) * epochs)
    if at.get(epochs) is None or at.get(start) is None:
        return None
    return at[epochs] - at[start]


def sd_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """The sample standard deviation and its chi-square confidence interval."""
    from scipy import stats

    n, sd = len(values), statistics.stdev(values)
    low, high = (
        math.sqrt((n - 1) * sd**2 / stats.chi2.ppf(q, n - 1)) for q in (1 - (1 - confidence) / 2, (1 - confidence) / 2)
    )
    return sd, low, high


def seeds_for_half_width(sd: float, half_width: float, minimum: int, cap: int = 1000) -> int:
    """The smallest n >= minimum with t(0.975, n-1) * sd / sqrt(n) <= half_width (``cap`` if none below it)."""
    from scipy import stats

    return next(
        (n for n in range(max(2, minimum), cap) if stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= half_width), cap
    )


def wall_minutes(
    epochs: int, key_seeds: int, other_seeds: int, choice: dict[str, Any], budget: dict[str, Any]
) -> float:
    """`tables --forceall` on 2 cores: every run's epochs x its variant's per-epoch seconds (choice), shared by the
    jobs at once, plus the rest of the DAG (budget.other_minutes). The key pairs' models get key_seeds."""
    per_epoch, key_models = choice["per_epoch_seconds"], choice["key_pair_models"]
    key = sum(per_epoch[m] for m in key_models)
    others = sum(seconds for variant, seconds in per_epoch.items() if variant not in key_models)
    seconds = epochs * (key * key_seeds + others * other_seeds)
    return seconds / budget["jobs_at_once"] / 60 + budget["other_minutes"]
