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


def _mean_ci(values: list[float]) -> str:
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:+.2f} (n = 1)"
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:+.2f} [{mean - half:+.2f}, {mean + half:+.2f}]"


def length_rows(protocol: dict[str, Any], runs: dict[tuple[str, int, int], dict], pair, lengths) -> list[dict]:
    """Per candidate length: the last-quarter gain g(E) of each arm and of both (seed-paired means), the rule."""
    rule = protocol["rules"]["training_length"]
    rows = []
    for epochs in lengths:
        gains = {
            model: {
                seed: last_quarter_gain(run["history"], epochs, rule["last_quarter_fraction"])
                for (m, e, seed), run in runs.items()
                if m == model and e == epochs
            }
            for model in pair
        }
        seeds = sorted(set.intersection(*(set(g) for g in gains.values())))
        both = [statistics.fmean(gains[m][s] for m in pair) for s in seeds if None not in (gains[m][s] for m in pair)]
        if not both:
            continue
        rows.append(
            {
                "epochs E": epochs,
                "seeds": len(both),
                **{f"g(E) {m}": _mean_ci([gains[m][s] for s in seeds]) for m in pair},
                "g(E), both arms [95% CI]": _mean_ci(both),
                f"g(E) < {rule['threshold_pp']} pp": "yes" if statistics.fmean(both) < rule["threshold_pp"] else "no",
                "_gain": statistics.fmean(both),
            }
        )
    return rows


def difference_rows(runs: dict[tuple[str, int, int], dict], pair, lengths) -> list[dict]:
    """Per length: the key pair's final validation top-1, the paired difference and its sigma."""
    rows = []
    for epochs in lengths:
        top1 = {m: {s: r["top1"] for (mm, e, s), r in runs.items() if mm == m and e == epochs} for m in pair}
        seeds = sorted(set(top1[pair[0]]) & set(top1[pair[1]]))
        if not seeds:
            continue
        diffs = [top1[pair[0]][s] - top1[pair[1]][s] for s in seeds]
        sd = sd_interval(diffs) if len(diffs) > 1 else None
        rows.append(
            {
                "epochs": epochs,
                "seeds": ", ".join(map(str, seeds)),
                **{f"{m} top-1": f"{statistics.fmean(top1[m][s] for s in seeds):.2f}" for m in pair},
                "Δ [95% CI]": _mean_ci(diffs),
                "σ of Δ [95% CI]": f"{sd[0]:.2f} [{sd[1]:.2f}, {sd[2]:.2f}]" if sd else "— (n = 1)",
                "_sd": sd[0] if sd else None,
            }
        )
    return rows


def curve_rows(runs: dict[tuple[str, int, int], dict], models, lengths) -> list[dict]:
    """Mean validation top-1 over the seeds at each evaluated epoch, per model and length."""
    rows = []
    for model in models:
        for epochs in lengths:
            histories = [r["history"] for (m, e, _), r in runs.items() if m == model and e == epochs]
            if not histories:
                continue
            points = {}
            for row in (row for history in histories for row in history if row.get("val_top1") is not None):
                points.setdefault(row["epoch"], []).append(row["val_top1"])
            curve = {f"ep {epoch}": f"{statistics.fmean(v):.2f}" for epoch, v in sorted(points.items())}
            rows.append({"model": model, "run of E": epochs, "seeds": len(histories), **curve})
    return rows


def choose(protocol: dict[str, Any], lengths: list[dict], differences: list[dict], per_epoch: dict) -> dict:
    """The rules applied: the training length, the seeds per arm, the budget (``per_epoch``: the per-epoch seconds
    and key-pair models of the choice). ``lengths``/``differences``: length_rows/difference_rows of the key pair."""
    rules, why = protocol["rules"], []
    threshold = rules["training_length"]["threshold_pp"]
    passing = [row["epochs E"] for row in lengths if row["_gain"] < threshold]
    longest = max(row["epochs E"] for row in lengths)
    gains = ", ".join(f"g({row['epochs E']}) = {row['_gain']:+.2f} pp" for row in lengths)
    if passing:
        epochs = min(passing)
        why.append(
            f"training length {epochs}: the smallest candidate whose last quarter gains < {threshold} pp ({gains})"
        )
    else:
        epochs = longest
        why.append(
            f"training length {epochs}: no candidate's last quarter gains < {threshold} pp ({gains}); the longest "
            f"candidate the budget affords is taken: traded, the runs are not converged by the rule"
        )
    sigma_at = {row["epochs"]: row["_sd"] for row in differences if row["_sd"] is not None}
    at = epochs if epochs in sigma_at else max(sigma_at)  # a length with fewer than 2 seeds has no sigma
    sd, seeds = sigma_at[at], rules["seeds"]
    wanted = seeds_for_half_width(sd, seeds["ci_half_width_pp"], seeds["min_per_arm"])
    why.append(
        f"key pairs: {wanted} seeds per arm for a 95% CI half-width <= {seeds['ci_half_width_pp']} pp at the "
        f"validation sigma {sd:.2f} pp of the key difference at {at} epochs"
        + (f" (no sigma at {epochs}: fewer than 2 seeds)" if at != epochs else "")
        + f"; every other arm {seeds['min_per_arm']}"
    )
    key, limit = wanted, rules["budget"]["max_minutes"]
    while (
        key > seeds["min_per_arm"]
        and wall_minutes(epochs, key, seeds["min_per_arm"], per_epoch, rules["budget"]) > rules["budget"]["max_minutes"]
    ):
        key -= 1
    if key < wanted:
        why.append(f"budget: key pairs cut from {wanted} to {key} seeds per arm to stay within {limit} min")
    minutes = wall_minutes(epochs, key, seeds["min_per_arm"], per_epoch, rules["budget"])
    if minutes > limit:
        why.append(f"over budget even at {key} seeds per key arm: {minutes:.0f} min > {limit}; the length must be cut")
    start = seeds["confirming_start"]
    return {
        "epochs": epochs,
        "seeds": list(range(start, start + seeds["min_per_arm"])),
        "key_pair_seeds": list(range(start, start + key)),
        **per_epoch,
        "estimated_minutes": round(minutes, 1),
        "why": why
        + [f"estimated `tables --forceall` on 2 cores: {minutes:.0f} min (budget {rules['budget']['max_minutes']})"],
    }


def explore_summary(protocol, runs, pairs, lengths, per_epoch) -> tuple[list[tuple[str, Any]], dict | None]:
    """The exploration's sections (title, rows) and the choice the rules make from the key pair (the first pair)."""
    models = [m for pair in pairs for m in pair]
    hide = lambda rows: [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]  # noqa: E731
    key_lengths = length_rows(protocol, runs, pairs[0], lengths)
    key_differences = difference_rows(runs, pairs[0], lengths)
    sections = [("Validation curves (mean top-1 over the seeds, holdout of train)", curve_rows(runs, models, lengths))]
    for pair in pairs:
        name = " vs ".join(pair)
        sections.append((f"Last-quarter gain g(E), {name}", hide(length_rows(protocol, runs, pair, lengths))))
        sections.append((f"Paired difference {name} (validation)", hide(difference_rows(runs, pair, lengths))))
    if not key_lengths or all(row["_sd"] is None for row in key_differences):
        return sections, None
    choice = choose(protocol, key_lengths, key_differences, per_epoch)
    sections.append(("The rules applied", "\n".join(f"- {line}" for line in choice["why"])))
    return sections, choice
