"""The one check of a finished run as a reader finds it (RUN_DIR/metrics.json): its contract, its own
consistency (every copy of a field equals the recorded config, the config hashes to config_hash, top-5
is at least top-1, the history is one entry per epoch and ends at the reported figures) and, where it
lies in the workflow's layout (``runs/<variant>/seed<s>/metrics.json``), that the folder names what it
holds. Used by the report's inputs (``pokernet report``) and by ``pokernet study ingest``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pokernet import schemas
from pokernet.models.variant import Variant

from .recipe import config_hash

RUN_PATH = re.compile(r"(?:^|.*/)runs/(?P<variant>[A-Za-z0-9_.-]+)/seed(?P<seed>\d+)/(?:metrics|partial)\.json$")
# metrics.json fields that repeat a field of its config (the config is what config_hash names).
_COPIES = {
    "model": ("model",),
    "model_options": ("model_options",),
    "seed": ("seed",),
    "dataset": ("dataset",),
    "subset_per_class": ("subset_per_class",),
    "recipe": ("recipe",),
    "epochs": ("recipe", "epochs"),
    "resolution": ("recipe", "data", "resolution"),
}


def check_run(where: str, data: Any) -> dict[str, Any]:
    """``data`` (a metrics.json's content) if it keeps the metrics contract and agrees with itself,
    else a one-line ValueError naming ``where`` and the field."""
    schemas.check("metrics", data, where)
    if data["top5"] < data["top1"]:
        raise ValueError(f"{where}: top5 {data['top5']} is below top1 {data['top1']}; top-5 includes top-1")
    if isinstance(data.get("config"), dict):
        _check_config_copies(where, data)
    history = data.get("history")
    if history is not None:
        if len(history) != data["epochs"]:
            raise ValueError(f"{where}: history holds {len(history)} epochs, the run has {data['epochs']}")
        if history and (history[-1].get("val_top1"), history[-1].get("val_top5")) != (data["top1"], data["top5"]):
            raise ValueError(f"{where}: top1/top5 are not the last epoch's val_top1/val_top5 of its history")
    return data


def _check_config_copies(where: str, data: dict[str, Any]) -> None:
    config = data["config"]
    for field, path in _COPIES.items():
        held: Any = config
        for key in path:
            held = held.get(key) if isinstance(held, dict) else None
        if field in data and data[field] != held:
            raise ValueError(
                f"{where}: {field} is {data[field]!r:.60} but its config.{'.'.join(path)} is "
                f"{held!r:.60}: edited or copied from another run"
            )
    if config_hash(config) != data["config_hash"]:
        raise ValueError(f"{where}: config_hash does not match its config: edited or copied from another run")


def check_run_location(path: str | Path, data: dict[str, Any], where: str | None = None) -> None:
    """Where ``path`` lies in the workflow's layout (``runs/<variant>/seed<s>/``), the folder names the
    variant and seed the run holds; elsewhere the path says nothing. Errors name ``where`` (default path)."""
    match = RUN_PATH.match(Path(path).as_posix())
    if match is None:
        return
    where = where or str(path)
    try:
        held = Variant.from_options(data["model"], data["model_options"])
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if held != Variant.parse(match["variant"]):
        raise ValueError(
            f"{where}: holds variant {held} ({data['model']} {data['model_options']}), its path says {match['variant']}"
        )
    if data["seed"] != int(match["seed"]):
        raise ValueError(f"{where}: holds seed {data['seed']}, its path says seed {match['seed']}")


def same_runs(runs: dict[str, dict[str, Any]]) -> None:
    """Refuse one run given twice (under two paths): the same training history is the same run."""
    seen: dict[str, str] = {}
    for where, data in runs.items():
        if not data.get("history"):
            continue
        fingerprint = repr(data["history"])
        if fingerprint in seen:
            raise ValueError(
                f"{where} and {seen[fingerprint]} hold the same run (identical training history); "
                f"a run counts once: remove the copy"
            )
        seen[fingerprint] = where
