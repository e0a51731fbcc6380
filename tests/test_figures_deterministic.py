"""Re-rendering unchanged numbers changes no byte of a figure (issue 26: each re-render rewrote ~390
lines of fig6.svg, its random ids): Fig. 5, Fig. 6 and the learning curves, PNG and SVG, rendered
twice from the committed inputs of the default profile, are identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pokernet.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work" / "default"


def table2_inputs() -> tuple[list[str], list[str]]:
    models = yaml.safe_load((ROOT / "workflow/config/default.yaml").read_text())["models"]
    complexity = [str(WORK / "complexity" / f"{m}.json") for m in models]
    runs = [str(p) for m in models for p in sorted((WORK / "runs" / m).glob("seed*/metrics.json"))]
    return complexity, runs


def render(folder: Path) -> dict[str, bytes]:
    complexity, runs = table2_inputs()
    every_run = [str(p) for p in sorted((WORK / "runs").glob("*/seed*/metrics.json"))]
    assert main(["report", "fig5", "--out", str(folder / "fig5.png")]) == 0
    assert main(["report", "fig5", "--out", str(folder / "fig5.svg")]) == 0
    assert (
        main(["report", "fig6", "--complexity", *complexity, "--runs", *runs, "--out", str(folder / "fig6.png")]) == 0
    )
    assert main(["report", "learning_curves", "--runs", *every_run, "--out", str(folder / "curves.png")]) == 0
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_second_render_changes_no_byte(tmp_path):
    if not list(WORK.glob("runs/*/seed*/metrics.json")):
        pytest.skip("work/default/runs is not in this checkout")
    first, second = render(tmp_path / "a"), render(tmp_path / "b")
    assert sorted(first) == ["curves.png", "curves.svg", "fig5.png", "fig5.svg", "fig6.png", "fig6.svg"]
    changed = [name for name in first if first[name] != second[name]]
    assert not changed, f"re-rendered with the same numbers, these changed: {changed}"
