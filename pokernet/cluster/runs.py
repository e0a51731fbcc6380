"""Where each run of a work dir stands, read from its folder (metrics.json, else checkpoint.pt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def run_rows(work_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for folder in sorted(Path(work_dir).glob("runs/*/seed*")):
        if folder.is_dir():
            rows.append({"run": f"{folder.parent.name}/{folder.name}", **_standing(folder)})
    return rows


def _standing(folder: Path) -> dict[str, Any]:
    metrics, checkpoint = folder / "metrics.json", folder / "checkpoint.pt"
    if metrics.is_file():
        data = json.loads(metrics.read_text())
        hours = data["wall_time_s"] * data["world_size"] / 3600
        return _row("finished", data["epochs"], data["epochs"], 0.0, hours, data["device"])
    if not checkpoint.is_file():
        return _row("not started", 0, None, None, 0.0, "")
    import torch

    held = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    epochs, done = held["config"]["recipe"]["epochs"], held["epoch"]
    wall, processes = held["totals"]["wall_seconds"], len(held["rng_states"])
    return _row("interrupted", done, epochs, (epochs - done) * wall / done, wall * processes / 3600, "")


def _row(state: str, done: int, epochs: int | None, eta_s: float | None, hours: float, device: str) -> dict[str, Any]:
    return {
        "state": state,
        "epoch": f"{done}/{epochs}" if epochs else "-",
        "ETA (h, at its own pace)": "-" if eta_s is None else f"{eta_s / 3600:.1f}",
        "device-hours spent": f"{hours:.2f}",
        "device": device,
    }
