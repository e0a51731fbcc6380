"""Per-layer profile of PokerNet-1.0× and GhostNet-1.0×: where the CPU time goes.

For each runtime (ONNX Runtime's profiler, torch.profiler on eager) and each model, direct
(as built) and optimized (the inference path of ``pokernet latency``), the time per module
type beside its MAdds share and its MAC rate (GMAC/s); for ONNX Runtime also the time per
feature-map size. Writes results/benchmarks/latency_profile.md and .json.

    python benchmarks/profile_layers.py [--threads 1] [--runs 200] [--models pokernet_100 ghostnet_100]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text
from pokernet.latency.profile import CATEGORIES, profile_models
from pokernet.provenance import hardware_info, runtime_versions

ROOT = Path(__file__).resolve().parent.parent
SHORT = {"depthwise xk (Poker expansion)": "depthwise ×k (Poker expansion)"}


def rate(row: dict) -> str:
    return f"{row['gmacs_per_s']:.1f}" if row["gmacs_per_s"] else "–"


def category_table(reports: list[dict]) -> list[str]:
    head = "| module type | " + " | ".join(f"{r['label']}: ms (time %) · MAdds M (%) · GMAC/s" for r in reports) + " |"
    lines = [head, "|---|" + "---|" * len(reports)]
    for category in CATEGORIES:
        cells = []
        for report in reports:
            row = next(c for c in report["categories"] if c["category"] == category)
            cells.append(
                f"{row['ms']:.2f} ({100 * row['time_share']:.0f}%) · {row['madds'] / 1e6:.1f} "
                f"({100 * row['madds_share']:.0f}%) · {rate(row)}"
            )
        lines.append(f"| {SHORT.get(category, category)} | " + " | ".join(cells) + " |")
    lines.append(
        "| **total** | " + " | ".join(f"**{r['total_ms']:.2f}** · {r['total_madds'] / 1e6:.1f}" for r in reports) + " |"
    )
    if all(r.get("nodes_per_run") for r in reports):
        lines.append(
            "| whole run (ms) · graph nodes | "
            + " | ".join(f"{r['run_ms']:.2f} · {r['nodes_per_run']}" for r in reports)
            + " |"
        )
    return lines


def resolution_table(reports: list[dict]) -> list[str]:
    sizes = sorted({row["input_size"] for r in reports for row in r["resolutions"]}, reverse=True)
    lines = [
        "| input size | " + " | ".join(f"{r['label']}: ms · MAdds M · GMAC/s" for r in reports) + " |",
        "|---:|" + "---|" * len(reports),
    ]
    for size in sizes:
        cells = []
        for report in reports:
            row = next((x for x in report["resolutions"] if x["input_size"] == size), None)
            cells.append("–" if row is None else f"{row['ms']:.2f} · {row['madds'] / 1e6:.1f} · {rate(row)}")
        lines.append(f"| {size}² | " + " | ".join(cells) + " |")
    return lines


def find(reports: list[dict], label: str, category: str) -> dict:
    report = next(r for r in reports if r["label"] == label)
    return next(c for c in report["categories"] if c["category"] == category)


def key_numbers(reports: list[dict], poker: str, ghost: str) -> list[str]:
    lines = []
    direct, fast = f"{poker} direct", f"{poker} optimized"
    pw, dw = find(reports, direct, "pointwise"), find(reports, direct, "depthwise")
    dwk, dwk_fast = (
        find(reports, direct, "depthwise xk (Poker expansion)"),
        find(reports, fast, "depthwise xk (Poker expansion)"),
    )
    if pw["gmacs_per_s"] and dwk["gmacs_per_s"]:
        lines.append(
            f"- {poker} direct: pointwise convs run at {pw['gmacs_per_s']:.1f} GMAC/s, plain depthwise at "
            f"{rate(dw)} GMAC/s, the Poker expansion (grouped conv, channel multiplier k) at "
            f"{dwk['gmacs_per_s']:.2f} GMAC/s, i.e. {dwk['gmacs_per_s'] / pw['gmacs_per_s']:.0%} "
            "of the pointwise rate: "
            f"{100 * dwk['madds_share']:.0f}% of the MAdds take {100 * dwk['time_share']:.0f}% of the time."
        )
    if dwk_fast["gmacs_per_s"] and dwk["gmacs_per_s"]:
        lines.append(
            f"- Rewritten as one plain depthwise conv (the recorded fastest formulation), the expansion runs at "
            f"{dwk_fast['gmacs_per_s']:.2f} GMAC/s ({dwk['ms']:.2f} → {dwk_fast['ms']:.2f} ms)."
        )
    se, se_g = find(reports, fast, "SE"), find(reports, f"{ghost} optimized", "SE")
    lines.append(
        f"- SE: {se['ms']:.2f} ms in {poker} vs {se_g['ms']:.2f} ms in {ghost} "
        f"({se['madds'] / 1e6:.1f} vs {se_g['madds'] / 1e6:.1f} M MAdds): at batch 1 the SE's 1×1 convs are "
        f"matrix–vector products, bound by reading their weights, not by MACs."
    )
    report_p = next(r for r in reports if r["label"] == fast)
    report_g = next(r for r in reports if r["label"] == f"{ghost} optimized")
    if any(x["ms"] for x in report_p["resolutions"]) and any(x["ms"] for x in report_g["resolutions"]):

        def part(report: dict, high: bool) -> tuple[float, float]:
            rows = [x for x in report["resolutions"] if (x["input_size"] >= 56) == high]
            return sum(x["ms"] for x in rows), sum(x["madds"] for x in rows) / 1e6

        (p_hi, pm_hi), (g_hi, gm_hi) = part(report_p, True), part(report_g, True)
        (p_lo, pm_lo), (g_lo, gm_lo) = part(report_p, False), part(report_g, False)
        lines.append(
            f"- By feature-map size (optimized): at 224²–56² (stem and the Ghost bottlenecks, 20-channel "
            f"tensors in {poker}) {poker} takes {p_hi:.2f} ms for {pm_hi:.1f} M MAdds vs {ghost}'s "
            f"{g_hi:.2f} ms for {gm_hi:.1f} M; at 28² and below (the Poker stages and the head) {p_lo:.2f} ms for "
            f"{pm_lo:.1f} M vs {g_lo:.2f} ms for {gm_lo:.1f} M."
        )
    return lines


def render(record: dict, poker: str, ghost: str) -> str:
    hw, ver = record["hardware"], record["versions"]
    md = [
        "# Where the CPU time goes (per-layer profile)",
        "",
        f"Produced by `{record['command'].strip()}` on {hw['cpu']} ({hw['cores']} cores, ISA {hw['isa']}, "
        f"load average {hw['load_avg_1m']} at start), {record['threads']} thread(s), batch 1, 224×224, "
        f"{record['runs']} profiled runs, the four models in turns; torch {ver['torch']}, "
        f"onnxruntime {ver['onnxruntime']}.",
        "",
        "*direct* = the model as built; *optimized* = the inference path timed by `pokernet latency` "
        "(BN folded, Poker expansion rewritten as recorded in `pokernet/latency/expansion_choice.json`, "
        "Ghost-module padding where measured faster). MAdds from forward hooks (no bias adds). "
        "Module types are assigned by role (see `pokernet/latency/profile.py`); times are the profiler's "
        "(ORT: kernel time, the whole run is longer; eager: includes the profiler's overhead).",
        "",
    ]
    for runtime, reports in record["profiles"].items():
        title = "ONNX Runtime (CPU EP, ORT profiler)" if runtime == "onnxruntime" else "PyTorch eager (torch.profiler)"
        md += [
            f"## {title}",
            "",
            *category_table(reports),
            "",
            "Key numbers:",
            "",
            *key_numbers(reports, poker, ghost),
            "",
        ]
        if runtime == "onnxruntime":
            md += ["Time per feature-map size (input of each node):", "", *resolution_table(reports), ""]
    return "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["pokernet_100", "ghostnet_100"], metavar=("POKER", "GHOST"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--runtimes", nargs="+", default=["onnxruntime", "eager"], choices=["onnxruntime", "eager"])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "latency_profile.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON next to it")
    args = parser.parse_args(argv)
    poker, ghost = args.models
    if args.render_only:
        record = json.loads(args.out.with_suffix(".json").read_text())
        atomic_write_text(args.out, render(record, poker, ghost))
        return 0
    record = {
        "generated_by": "benchmarks/profile_layers.py",
        "command": "python benchmarks/profile_layers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware_info([args.threads]),
        "versions": runtime_versions(),
        "threads": args.threads,
        "runs": args.runs,
        "profiles": {},
    }
    for runtime in args.runtimes:
        print(f"profiling {poker} and {ghost} ({runtime}), direct and optimized, in turns", file=sys.stderr, flush=True)
        reports = profile_models(
            [(poker, False), (poker, True), (ghost, False), (ghost, True)], runtime, args.threads, runs=args.runs
        )
        for report in reports:
            report["label"] = f"{report['model']} {'optimized' if report['optimized'] else 'direct'}"
        record["profiles"][runtime] = reports
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    atomic_write_text(args.out, render(record, poker, ghost))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
