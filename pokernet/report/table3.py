"""results/table3.md: per width, every runtime × thread setting once: PokerNet's and GhostNet's
latency, their ratio with its spread over separate invocations, whether the setting is stable,
and whether PokerNet is faster there. :func:`compute_table3` computes every row and speed check;
:func:`render_table3` writes the markdown from them.

Counting rule (so that no setting is counted twice and none inside its noise): a setting counts
towards "faster?" only when it is stable (every invocation's ratio within ±3% of their median);
it is faster when every invocation's ratio is below 1, slower when every one is above 1, and a
tie otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pokernet.latency.ratios import STABILITY_TOLERANCE
from pokernet.markdown import github
from pokernet.paper import row_setting, table

from .compare import mark, value_ok
from .inputs import LatencyReport, MeasuredRatio
from .tables import TableResult, header, inputs_footer, model_labels

RUNTIME_LABELS = {
    "eager": "PyTorch eager",
    "torchscript": "TorchScript",
    "onnxruntime": "ONNX Runtime",
    "openvino": "OpenVINO",
    "xnnpack": "XNNPACK (ExecuTorch)",
    "paper_parallel": "paper protocol: k branches in parallel threads (§4.1)",
}


@dataclass(frozen=True)
class SpeedCheck:
    """Is PokerNet faster than GhostNet of the same width, in one runtime/thread setting?"""

    model: str
    reference: str
    runtime: str
    threads: int
    measured: MeasuredRatio
    paper_ratio: float
    ratio_ok: bool | None  # ours vs the paper's ratio; None: not comparable or not resolved

    @property
    def ratio(self) -> float:
        return self.measured.ratio

    @property
    def counted(self) -> bool:
        return self.measured.stable is True

    @property
    def faster(self) -> bool | None:
        """True/False when every invocation agrees and the setting is stable; None otherwise."""
        if not self.counted:
            return None
        if self.measured.high < 1:
            return True
        return False if self.measured.low > 1 else None

    def verdict(self) -> str:
        m = self.measured
        if m.stable is None:
            return "— (1 invocation, not counted)"
        if m.stable is False:
            return "— (unstable)"
        return {True: "yes", False: "no"}.get(self.faster, "tie (its spread spans 1)")


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


def _ratio_ok(row: dict[str, Any], tbl: dict[str, Any], measured: MeasuredRatio, paper_ratio: float) -> bool | None:
    """✓ when our median is within the paper's tolerance; ✗ when the whole spread is outside it
    on one side; None (not resolved) when the spread straddles the tolerance band."""
    tolerance, precision = row_setting(row, tbl, "tolerance", "ratio"), row_setting(row, tbl, "precision", "ratio")
    if value_ok(measured.ratio, paper_ratio, tolerance, precision):
        return True
    low_out = not value_ok(measured.low, paper_ratio, tolerance, precision)
    high_out = not value_ok(measured.high, paper_ratio, tolerance, precision)
    same_side = (measured.low > paper_ratio) == (measured.high > paper_ratio)
    return False if low_out and high_out and same_side else None


def _ms(latency: LatencyReport, model: str, runtime: str, threads: int) -> str:
    ours = latency.find(model, runtime, threads)
    if ours is None:
        return "— (not measured)"
    return f"{ours.median_ms:.2f}"


def _spread(measured: MeasuredRatio) -> str:
    if measured.invocations == 1:
        return f"{measured.ratio:.3f} (1 invocation)"
    return f"{measured.ratio:.3f} [{measured.low:.3f}–{measured.high:.3f}]"


def _stability(measured: MeasuredRatio) -> str:
    if measured.stable is None:
        return "not checked"
    deviation = max(measured.high / measured.ratio - 1, 1 - measured.low / measured.ratio)
    return f"{'yes' if measured.stable else 'no ✗'} (±{100 * deviation:.1f}%)"


def _pair_rows(rows: LatencyRows, tbl: dict[str, Any], paper_ms: dict[str, float]) -> None:
    """One row per width and measured (runtime, threads): each setting once."""
    latency, labels = rows.latency, model_labels()
    for row in (r for r in tbl["rows"] if r["model"] != r["reference"]):
        model, reference = row["model"], row["reference"]
        paper_ratio = row["latency_ms"] / paper_ms[reference]
        for runtime, threads in latency.settings():
            measured = latency.ratio(model, reference, runtime, threads)
            if measured is None:
                continue
            ok = _ratio_ok(row, tbl, measured, paper_ratio) if rows.same_protocol and measured.stable else None
            check = SpeedCheck(model, reference, runtime, threads, measured, paper_ratio, ok)
            rows.speed.append(check)
            rows.body.append(
                [
                    f"{labels[model].split()[-1]}",
                    _short_label(runtime),
                    threads,
                    _ms(latency, model, runtime, threads),
                    _ms(latency, reference, runtime, threads),
                    f"{row['latency_ms']:g} / {paper_ms[reference]:g}",
                    _spread(measured),
                    f"{paper_ratio:.3f}",
                    f"{measured.ratio - paper_ratio:+.3f}",
                    _stability(measured),
                    check.verdict(),
                    mark(ok),
                ]
            )


def compute_table3(latency: LatencyReport) -> LatencyRows:
    tbl = table("table3")
    settings = latency.settings()
    for row in tbl["rows"]:
        if not any(latency.find(row["model"], rt, th) for rt, th in settings):
            raise ValueError(f"{latency.source}: no latency of {row['model']} (Table 3 needs it)")
    paper_ms = {row["model"]: row["latency_ms"] for row in tbl["rows"]}
    rows = LatencyRows(latency, latency.batch == tbl["batch"] and latency.resolution == tbl["resolution"])
    _pair_rows(rows, tbl, paper_ms)
    return rows


def _short_label(runtime: str) -> str:
    return RUNTIME_LABELS.get(runtime, runtime).split(":")[0]


def _setting(check: SpeedCheck) -> str:
    """``runtime/threads ratio``; for a setting left out, where its invocations all lie (not counted)."""
    side = ""
    if not check.counted and check.measured.invocations > 1:
        side = (
            " (every invocation > 1)"
            if check.measured.low > 1
            else " (every invocation < 1)"
            if check.measured.high < 1
            else " (invocations on both sides of 1)"
        )
    return f"{_short_label(check.runtime)}/{check.threads}t {check.ratio:.3f}{side}"


def _fastest(latency: LatencyReport, model: str) -> str:
    measured = [r for r in latency.results if r.model == model]
    best = min(measured, key=lambda r: r.median_ms)
    return (
        f"{model_labels()[model]} {best.median_ms:.2f} ms ({_short_label(best.runtime)}, "
        f"{best.threads} thread{'s' if best.threads > 1 else ''})"
    )


def _answer_line(checks: list[SpeedCheck], latency: LatencyReport) -> str:
    labels = model_labels()
    first = checks[0]
    counted = [c for c in checks if c.counted]
    groups = {
        "Faster": [c for c in counted if c.faster is True],
        "Slower": [c for c in counted if c.faster is False],
        "Tie within the spread": [c for c in counted if c.faster is None],
        "Left out (unstable, or one invocation)": [c for c in checks if not c.counted],
    }
    parts = [f"{name}: {', '.join(_setting(c) for c in group)}" for name, group in groups.items() if group]
    if not counted:
        answer = "not answered: no stable setting"
    elif groups["Faster"] and len(groups["Faster"]) == len(counted):
        answer = "yes, in every stable setting"
    else:
        answer = f"in {len(groups['Faster'])} of {len(counted)} stable settings"
    return (
        f"- {labels[first.model]} vs {labels[first.reference]}: PokerNet faster than GhostNet here: **{answer}**"
        f" (paper ratio {first.paper_ratio:.3f}). " + "; ".join(parts) + ". Fastest setting of each: "
        f"{_fastest(latency, first.model)}, {_fastest(latency, first.reference)}."
    )


TABLE3_HEADERS = [
    "Width",
    "runtime",
    "threads",
    "PokerNet (ms)",
    "GhostNet (ms)",
    "paper (ms)",
    "ratio [min–max]",
    "paper ratio",
    "Δ ratio",
    "stable",
    "faster?",
    "ratio ✓/✗",
]


def _protocol_lines(latency: LatencyReport, tbl: dict[str, Any]) -> list[str]:
    """The header's latency fields: hardware, versions, the paper's setting, each invocation's load."""
    hardware = latency.hardware
    invocations = latency.protocol.get("invocations", [])
    extra = [
        f"- latency measured on: {hardware.get('cpu', 'unknown CPU')} ({hardware.get('cores', '?')} cores); "
        f"batch {latency.batch}, {latency.resolution}×{latency.resolution}; {max(len(invocations), 1)} "
        "invocation(s) (separate processes)",
        "- latency versions: " + (", ".join(f"{k} {v}" for k, v in latency.versions.items()) or "not recorded"),
        f"- paper's hardware: {tbl['hardware']}; batch {tbl['batch']}, {tbl['resolution']}×{tbl['resolution']}",
    ]
    extra += [f"- latency {key}: {value}" for key, value in latency.protocol.items() if key != "invocations"]
    if invocations:
        extra.append(
            "- latency invocations: 1-min load average at the start of each "
            + ", ".join(str(i.get("load_avg_1m_start")) for i in invocations)
            + "; wall time of each "
            + ", ".join(f"{i['wall_s']:.0f} s" for i in invocations if "wall_s" in i)
        )
    return extra


def _reading(tbl: dict[str, Any], same_protocol: bool) -> str:
    """What the columns mean and the rules of the stable, faster and ratio verdicts."""
    return (
        "Absolute milliseconds are not comparable (a different CPU); what is compared is the ratio PokerNet / "
        "GhostNet at the same width, timed in turns in the same run. Ours: the median over invocations of each "
        "invocation's median (ms), [min–max over invocations] (ratio). Width: PokerNet / GhostNet of that width; "
        "the runtime *paper protocol* runs the k branches in parallel threads (§4.1). A setting is **stable** when "
        f"every invocation's ratio is within ±{100 * STABILITY_TOLERANCE:g}% of their median; only stable settings "
        "are counted (an unstable one is — in **faster?**). **faster?** (PokerNet than GhostNet) "
        "yes when every invocation's ratio is below 1, no when every one is above 1, a tie otherwise. "
        f"**Ratio ✓/✗** against the paper's ratio with paper.yaml's tolerance ({100 * tbl['tolerance']['ratio']:g}%): "
        "✓ the median within it, ✗ the whole spread outside it, — not resolved or not stable."
        + ("" if same_protocol else " **Our batch/resolution differ from the paper's, so the ratio verdict is —.**")
    )


def render_table3(rows: LatencyRows, command: str) -> str:
    tbl, latency = table("table3"), rows.latency
    lines = header(f"Table 3 — {tbl['caption']}: paper vs ours", command, None, _protocol_lines(latency, tbl))
    lines += [_reading(tbl, rows.same_protocol), "", github(rows.body, TABLE3_HEADERS), ""]
    lines += ["## PokerNet faster than GhostNet here?", ""]
    for model in dict.fromkeys(s.model for s in rows.speed):
        lines.append(_answer_line([s for s in rows.speed if s.model == model], latency))
    lines += inputs_footer(None, None, latency)
    return "\n".join(lines) + "\n"


def table3(latency: LatencyReport, command: str = "pokernet report table3") -> LatencyResult:
    rows = compute_table3(latency)
    return LatencyResult(render_table3(rows, command), speed=rows.speed)
