"""results/table3.md: latency per model, runtime and thread count, and the ratio to GhostNet of
the same width beside the paper's. :func:`compute_table3` computes every row and speed check;
:func:`render_table3` writes the markdown from them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pokernet.paper import row_setting, table

from .compare import NOT_COMPARABLE, mark, value_ok
from .inputs import LatencyReport
from .tables import TableResult, github, header, inputs_footer, model_labels, number


@dataclass(frozen=True)
class SpeedCheck:
    """Is PokerNet faster than GhostNet of the same width, in one runtime/thread setting?"""
    model: str
    reference: str
    runtime: str
    threads: int
    ratio: float
    paper_ratio: float
    ratio_ok: bool | None

    @property
    def faster(self) -> bool:
        return self.ratio < 1


@dataclass
class LatencyResult(TableResult):
    speed: list[SpeedCheck] = field(default_factory=list)


@dataclass
class LatencyRows:
    """What Table 3 computes, before any prose."""
    latency: LatencyReport
    same_protocol: bool
    body: list[list[Any]] = field(default_factory=list)
    speed: list[SpeedCheck] = field(default_factory=list)


def _ratio_ok(row: dict[str, Any], tbl: dict[str, Any], ratio: float, paper_ratio: float) -> bool:
    return value_ok(ratio, paper_ratio, row_setting(row, tbl, "tolerance", "ratio"),
                    row_setting(row, tbl, "precision", "ratio"))


def _measured_rows(rows: LatencyRows, tbl: dict[str, Any], paper_ms: dict[str, float]) -> None:
    """A row per model and measured (runtime, threads)."""
    latency = rows.latency
    for runtime, threads in latency.settings():
        for row in tbl["rows"]:
            ours = latency.find(row["model"], runtime, threads)
            if ours is None:
                rows.body.append([row["label"], runtime, threads, "— (not measured)", f"{row['latency_ms']:g}",
                                  NOT_COMPARABLE, "—", "—", "—", NOT_COMPARABLE])
                continue
            reference = row["reference"]
            paper_ratio = row["latency_ms"] / paper_ms[reference]
            ratio = latency.ratio(row["model"], reference, runtime, threads)
            pair = ratio is not None and reference != row["model"]
            ok = _ratio_ok(row, tbl, ratio, paper_ratio) if pair and rows.same_protocol else None
            if pair:
                rows.speed.append(SpeedCheck(row["model"], reference, runtime, threads, ratio, paper_ratio, ok))
            rows.body.append([row["label"], runtime, threads, f"{ours.median_ms:.1f} ± {ours.iqr_ms:.1f}",
                              f"{row['latency_ms']:g}", NOT_COMPARABLE, number(ratio, 3), f"{paper_ratio:.3f}",
                              f"{ratio - paper_ratio:+.3f}" if pair else "—", mark(ok)])


def _pseudo_runtime_rows(rows: LatencyRows, tbl: dict[str, Any], paper_ms: dict[str, float]) -> None:
    """Ratios over a pseudo-runtime (e.g. "best": each model in its own fastest runtime)."""
    latency = rows.latency
    measured = {runtime for runtime, _ in latency.settings()}
    paper_rows = {row["model"]: row for row in tbl["rows"]}
    for (model, reference, runtime, threads), ratio in latency.ratios.items():
        row = paper_rows.get(model)
        if runtime in measured or row is None or row["reference"] != reference or model == reference:
            continue
        paper_ratio = row["latency_ms"] / paper_ms[reference]
        ok = _ratio_ok(row, tbl, ratio, paper_ratio) if rows.same_protocol else None
        rows.speed.append(SpeedCheck(model, reference, runtime, threads, ratio, paper_ratio, ok))
        which = latency.ratio_runtimes.get((model, reference, runtime, threads))
        rows.body.append([row["label"], f"{runtime} ({which})" if which else runtime, threads, "—",
                          f"{row['latency_ms']:g}", NOT_COMPARABLE, f"{ratio:.3f}", f"{paper_ratio:.3f}",
                          f"{ratio - paper_ratio:+.3f}", mark(ok)])


def compute_table3(latency: LatencyReport) -> LatencyRows:
    tbl = table("table3")
    settings = latency.settings()
    for row in tbl["rows"]:
        if not any(latency.find(row["model"], rt, th) for rt, th in settings):
            raise ValueError(f"{latency.source}: no latency of {row['model']} (Table 3 needs it)")
    paper_ms = {row["model"]: row["latency_ms"] for row in tbl["rows"]}
    rows = LatencyRows(latency, latency.batch == tbl["batch"] and latency.resolution == tbl["resolution"])
    _measured_rows(rows, tbl, paper_ms)
    _pseudo_runtime_rows(rows, tbl, paper_ms)
    return rows


def _faster_lines(speed: list[SpeedCheck]) -> list[str]:
    labels = model_labels()
    lines = []
    for model in dict.fromkeys(s.model for s in speed):
        checks = [s for s in speed if s.model == model]
        faster = [s for s in checks if s.faster]
        if len(faster) == len(checks):
            answer = "yes"
        else:
            answer = "no" if not faster else f"in {len(faster)} of {len(checks)} settings"
        detail = ", ".join(f"{s.runtime}/{s.threads} thread{'s' if s.threads > 1 else ''}: {s.ratio:.3f}"
                           for s in checks)
        lines.append(f"- {labels[model]} vs {labels[checks[0].reference]}: PokerNet faster than GhostNet here: "
                     f"**{answer}** (ratio {detail}; paper {checks[0].paper_ratio:.3f})")
    return lines


def render_table3(rows: LatencyRows, command: str) -> str:
    tbl, latency = table("table3"), rows.latency
    hardware = latency.hardware
    extra = [f"- latency measured on: {hardware.get('cpu', 'unknown CPU')} ({hardware.get('cores', '?')} cores); "
             f"batch {latency.batch}, {latency.resolution}×{latency.resolution}",
             "- latency versions: " + (", ".join(f"{k} {v}" for k, v in latency.versions.items()) or "not recorded"),
             f"- paper's hardware: {tbl['hardware']}; batch {tbl['batch']}, {tbl['resolution']}×{tbl['resolution']}"]
    extra += [f"- latency {key}: {value}" for key, value in latency.protocol.items()]
    lines = header(f"Table 3 — {tbl['caption']}: paper vs ours", command, None, extra)
    lines += [
        "Absolute milliseconds are not comparable (a different CPU): their verdict is —. What is compared is "
        "the ratio to GhostNet at the same width, measured in the same run (ours) and computed from the "
        "paper's milliseconds (paper). ✓ when |ours − paper| ≤ max(tolerance × paper, half the last printed "
        f"digit), with paper.yaml's ratio tolerance ({100 * tbl['tolerance']['ratio']:g}%). Ours: median ± IQR "
        "over the timed runs." + ("" if rows.same_protocol else
                                  " **Our batch/resolution differ from the paper's, so the ratio verdict is —.**"),
        "",
        github(rows.body, ["Model", "runtime", "threads", "ours (ms)", "paper (ms)", "ms ✓/✗",
                           "ratio to GhostNet (ours)", "paper ratio", "Δ ratio", "ratio ✓/✗"]),
        "", "## PokerNet faster than GhostNet here?", ""]
    lines += _faster_lines(rows.speed)
    lines += inputs_footer(None, None, latency)
    return "\n".join(lines) + "\n"


def table3(latency: LatencyReport, command: str = "pokernet report table3") -> LatencyResult:
    rows = compute_table3(latency)
    return LatencyResult(render_table3(rows, command), speed=rows.speed)
