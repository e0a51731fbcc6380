"""Why PokerNet is not faster than GhostNet in OpenVINO: per-layer profile beside ONNX Runtime's.

Profiles the two models (optimized: the inference path of ``pokernet latency``) in OpenVINO
(per-node performance counters) and in ONNX Runtime (its profiler), the same ONNX graph,
and writes the time per module type of each, PokerNet minus GhostNet per module type (the
per-layer reason), and the time per feature-map size. With ``--latency-json`` (reports of
``pokernet latency ... --runtime openvino --out FILE``) it also lists their medians and
ratios, each with the CPU and load average it was measured under.

    python benchmarks/profile_openvino.py [--models pokernet_100 ghostnet_100] [--threads 1] [--runs 200]
        [--latency-json FILE ...] [--out results/benchmarks/latency_profile_openvino.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text
from pokernet.latency.profile import CATEGORIES, profile_models
from pokernet.provenance import hardware_info, runtime_versions

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = {"openvino": "OpenVINO (CPU plugin, performance counters)", "onnxruntime": "ONNX Runtime (CPU EP, profiler)"}
SHORT = {"depthwise xk (Poker expansion)": "depthwise ×k (Poker expansion)"}


def row(report: dict, category: str) -> dict:
    return next(c for c in report["categories"] if c["category"] == category)


def rate(entry: dict) -> str:
    return f"{entry['gmacs_per_s']:.1f}" if entry["gmacs_per_s"] else "–"


def category_table(profiles: dict[str, list[dict]]) -> list[str]:
    """Per module type and runtime: PokerNet ms · GMAC/s, GhostNet ms · GMAC/s, difference."""
    head, rule = "| module type | MAdds M (Poker / Ghost) |", "|---|---:|"
    for runtime in profiles:
        head += f" {runtime}: Poker ms · GMAC/s | {runtime}: Ghost ms · GMAC/s | {runtime}: Poker − Ghost ms |"
        rule += "---:|---:|---:|"
    lines = [head, rule]
    for category in CATEGORIES:
        first = next(iter(profiles.values()))
        cells = [f"{row(first[0], category)['madds'] / 1e6:.1f} / {row(first[1], category)['madds'] / 1e6:.1f}"]
        for poker, ghost in profiles.values():
            p, g = row(poker, category), row(ghost, category)
            cells += [f"{p['ms']:.2f} · {rate(p)}", f"{g['ms']:.2f} · {rate(g)}", f"{p['ms'] - g['ms']:+.2f}"]
        lines.append(f"| {SHORT.get(category, category)} | " + " | ".join(cells) + " |")
    totals = ["| **profiled total** | |"] + [
        f" **{p['total_ms']:.2f}** | **{g['total_ms']:.2f}** | **{p['total_ms'] - g['total_ms']:+.2f}** |"
        for p, g in profiles.values()
    ]
    runs = ["| whole run (median ms) · nodes run | |"] + [
        f" {p['run_ms']:.2f} · {p['nodes_per_run']} | {g['run_ms']:.2f} · {g['nodes_per_run']} | "
        f"{p['run_ms'] - g['run_ms']:+.2f} |"
        for p, g in profiles.values()
    ]
    return lines + ["".join(totals), "".join(runs)]


def resolution_table(profiles: dict[str, list[dict]]) -> list[str]:
    sizes = sorted(
        {r["input_size"] for pair in profiles.values() for rep in pair for r in rep["resolutions"]}, reverse=True
    )
    lines = [
        "| input size | " + " | ".join(f"{rt}: Poker ms | {rt}: Ghost ms" for rt in profiles) + " |",
        "|---:|" + "---:|---:|" * len(profiles),
    ]
    for size in sizes:
        cells = []
        for pair in profiles.values():
            for report in pair:
                entry = next((r for r in report["resolutions"] if r["input_size"] == size), None)
                cells.append("–" if entry is None else f"{entry['ms']:.2f}")
        lines.append(f"| {size}² | " + " | ".join(cells) + " |")
    return lines


def reason(profiles: dict[str, list[dict]]) -> list[str]:
    """PokerNet − GhostNet per module type, largest first: where the extra time is spent."""
    lines = []
    for runtime, (poker, ghost) in profiles.items():
        gaps = sorted(((row(poker, c)["ms"] - row(ghost, c)["ms"], c) for c in CATEGORIES), reverse=True)
        parts = ", ".join(f"{SHORT.get(c, c)} {gap:+.2f} ms" for gap, c in gaps)
        pw_p, pw_g = row(poker, "pointwise"), row(ghost, "pointwise")
        lines.append(
            f"- **{runtime}**: {poker['model']} − {ghost['model']} = "
            f"{poker['total_ms'] - ghost['total_ms']:+.2f} ms profiled "
            f"({poker['run_ms'] / ghost['run_ms']:.3f}× whole run): {parts}. Pointwise MAC rate "
            f"{rate(pw_p)} vs {rate(pw_g)} GMAC/s; SE {row(poker, 'SE')['ms']:.2f} vs "
            f"{row(ghost, 'SE')['ms']:.2f} ms for {row(poker, 'SE')['madds'] / 1e6:.1f} vs "
            f"{row(ghost, 'SE')['madds'] / 1e6:.1f} M MAdds. {size_split(poker, ghost)}"
        )
    return lines


def size_split(poker: dict, ghost: dict) -> str:
    """PokerNet − GhostNet at feature maps of 56² and more (stem, Ghost stages) and below."""

    def part(report: dict, high: bool) -> float:
        return sum(r["ms"] for r in report["resolutions"] if (r["input_size"] >= 56) == high)

    return (
        f"By input size: {part(poker, True) - part(ghost, True):+.2f} ms at 224²–56², "
        f"{part(poker, False) - part(ghost, False):+.2f} ms at 28² and below (the SE's 1×1 convs count at 1²)."
    )


def latency_table(reports: list[dict]) -> list[str]:
    """Each report's command, CPU and load average at each invocation's start, then its medians and ratios."""
    lines, rows = (
        [],
        [
            "| model | threads | median ms (IQR) · per invocation | ratio to GhostNet (min–max) |",
            "|---|---:|---:|---:|",
        ],
    )
    for report in reports:
        hw = report["hardware"]
        loads = [i["load_avg_1m_start"] for i in report.get("invocations", [])] or [hw.get("load_avg_1m_start")]
        lines.append(
            f"- `{report.get('command', '')}`: {hw['cpu']} ({hw['cores']} cores, {hw['isa']}), load "
            f"average (1 min) at each invocation's start {', '.join(str(x) for x in loads)}"
        )
        ratios = {(r["model"], r["threads"]): r for r in report["ratios"] if r["runtime"] == "openvino"}
        for r in (r for r in report["results"] if r["runtime"] == "openvino"):
            per = ", ".join(f"{m:.2f}" for m in r.get("invocation_median_ms", []))
            ratio = ratios.get((r["model"], r["threads"]))
            ratio_text = "" if ratio is None else f"**{ratio['ratio']:.3f}**"
            if ratio and "ratio_min" in ratio:
                ratio_text += f" ({ratio['ratio_min']:.3f}–{ratio['ratio_max']:.3f})"
            rows.append(
                f"| {r['model']} | {r['threads']} | {r['median_ms']:.2f} ({r['iqr_ms']:.2f}) · {per} | {ratio_text} |"
            )
    return lines + [""] + rows


def render(record: dict) -> str:
    hw, ver = record["hardware"], record["versions"]
    profiles = record["profiles"]
    md = [
        "# OpenVINO: where the CPU time goes (per-layer profile beside ONNX Runtime's)",
        "",
        f"Produced by `{record['command'].strip()}` on {hw['cpu']} ({hw['cores']} cores, ISA {hw['isa']}), "
        f"load average {hw['load_avg_1m']} at start and {record['load_avg_1m_end']} at the end, "
        f"{record['date']}; {record['threads']} thread(s), batch 1, 224×224, {record['runs']} profiled runs per "
        f"runtime, the two models in turns; torch {ver['torch']}, onnxruntime {ver['onnxruntime']}, "
        f"openvino {ver.get('openvino', '?')}. **Indicative**: the machine is shared (other jobs ran), so "
        "absolute times move by 10–20% between runs; the ratios of models timed in turns move less.",
        "",
        "Both runtimes run the same ONNX export (BN folded, the Poker expansion and Ghost padding recorded "
        "fastest for ONNX Runtime). Module types as in `pokernet/latency/profile.py`; OpenVINO's counters "
        "hold whole µs per node and run, so its profiled total is below its whole run.",
        "",
    ]
    if record.get("latency"):
        md += ["## Latency (`pokernet latency --runtime openvino`)", "", *latency_table(record["latency"]), ""]
    md += [
        "## Time per module type",
        "",
        *category_table(profiles),
        "",
        "## Per-layer reason (PokerNet − GhostNet per module type, largest first)",
        "",
        *reason(profiles),
        "",
        "## Time per feature-map size (input of each node)",
        "",
        *resolution_table(profiles),
        "",
    ]
    return "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["pokernet_100", "ghostnet_100"], metavar=("POKER", "GHOST"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--latency-json",
        type=Path,
        nargs="*",
        default=[],
        help="reports of `pokernet latency ... --runtime openvino --out FILE` to list",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "latency_profile_openvino.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON next to it")
    args = parser.parse_args(argv)
    if args.render_only:
        atomic_write_text(args.out, render(json.loads(args.out.with_suffix(".json").read_text())))
        return 0
    record = {
        "generated_by": "benchmarks/profile_openvino.py",
        "command": "python benchmarks/profile_openvino.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware_info([args.threads]),
        "versions": runtime_versions(),
        "threads": args.threads,
        "runs": args.runs,
        "latency": [json.loads(p.read_text()) for p in args.latency_json],
        "profiles": {},
    }
    for runtime in RUNTIMES:
        print(f"profiling {' and '.join(args.models)} in {runtime}, in turns", file=sys.stderr, flush=True)
        record["profiles"][runtime] = profile_models(
            [(m, True) for m in args.models], runtime, args.threads, runs=args.runs
        )
    record["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    atomic_write_text(args.out, render(record))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
