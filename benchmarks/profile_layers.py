"""Per-layer profile of PokerNet and GhostNet in each CPU runtime: where the time goes, and why PokerNet is not faster.

For each runtime (ONNX Runtime's profiler, torch.profiler on eager, OpenVINO's per-node
performance counters) and each model, direct (as built) and optimized (the inference path of
``pokernet latency``), the four timed in turns: the time per module type beside its MAdds share
and MAC rate (GMAC/s), and for ONNX Runtime and OpenVINO the time per feature-map size. Then,
across runtimes, PokerNet − GhostNet per module type (optimized): the per-layer reason. With
``--latency-json`` (reports of ``pokernet latency ... --runtime openvino --out FILE``) it also
lists their medians and ratios, each with the CPU and load average it was measured under.
Writes results/benchmarks/latency_profile.md and .json.

    python benchmarks/profile_layers.py [--runtimes onnxruntime eager openvino] [--threads 1] [--runs 200]
        [--models pokernet_100 ghostnet_100] [--latency-json FILE ...] [--render-only]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text
from pokernet.latency.api import CATEGORIES, load_average, machine, profile_models

ROOT = Path(__file__).resolve().parent.parent
TITLES = {
    "onnxruntime": "ONNX Runtime (CPU EP, ORT profiler)",
    "eager": "PyTorch eager (torch.profiler)",
    "openvino": "OpenVINO (CPU plugin, performance counters)",
}
DEFAULT_RUNTIMES = [r for r in TITLES if r != "openvino" or importlib.util.find_spec("openvino")]
SHORT = {"depthwise xk (Poker expansion)": "depthwise ×k (Poker expansion)"}
EXPANSION = "depthwise xk (Poker expansion)"


def rate(row: dict) -> str:
    return f"{row['gmacs_per_s']:.1f}" if row["gmacs_per_s"] else "–"


def row(report: dict, category: str) -> dict:
    return next(c for c in report["categories"] if c["category"] == category)


def entry(reports: list[dict], model: str, optimized: bool) -> dict:
    return next(r for r in reports if r["model"] == model and r["optimized"] == optimized)


def timed_by_size(report: dict) -> bool:
    """Whether the runtime's profiler gave times per feature-map size (ORT and OpenVINO; not eager)."""
    return any(x["ms"] for x in report["resolutions"])


def label(report: dict) -> str:
    return f"{report['model']} {'optimized' if report['optimized'] else 'direct'}"


def category_table(reports: list[dict]) -> list[str]:
    """Per module type and entry: ms (time share) · MAdds (share) · GMAC/s."""
    head = "| module type | " + " | ".join(f"{label(r)}: ms (time %) · MAdds M (%) · GMAC/s" for r in reports) + " |"
    lines = [head, "|---|" + "---|" * len(reports)]
    for category in CATEGORIES:
        cells = [
            f"{x['ms']:.2f} ({100 * x['time_share']:.0f}%) · {x['madds'] / 1e6:.1f} "
            f"({100 * x['madds_share']:.0f}%) · {rate(x)}"
            for x in (row(r, category) for r in reports)
        ]
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
    sizes = sorted({x["input_size"] for r in reports for x in r["resolutions"]}, reverse=True)
    lines = [
        "| input size | " + " | ".join(f"{label(r)}: ms · MAdds M · GMAC/s" for r in reports) + " |",
        "|---:|" + "---|" * len(reports),
    ]
    for size in sizes:
        cells = []
        for report in reports:
            x = next((x for x in report["resolutions"] if x["input_size"] == size), None)
            cells.append("–" if x is None else f"{x['ms']:.2f} · {x['madds'] / 1e6:.1f} · {rate(x)}")
        lines.append(f"| {size}² | " + " | ".join(cells) + " |")
    return lines


def key_numbers(reports: list[dict], poker: str) -> list[str]:
    """The MAC rates of PokerNet as built, and what the optimized expansion gains."""
    direct, fast = entry(reports, poker, False), entry(reports, poker, True)
    pw, dw, dwk, dwk_fast = (
        row(direct, "pointwise"),
        row(direct, "depthwise"),
        row(direct, EXPANSION),
        row(fast, EXPANSION),
    )
    lines = []
    if pw["gmacs_per_s"] and dwk["gmacs_per_s"]:
        lines.append(
            f"- {poker} direct: pointwise convs run at {pw['gmacs_per_s']:.1f} GMAC/s, plain depthwise at "
            f"{rate(dw)} GMAC/s, the Poker expansion (grouped conv, channel multiplier k) at "
            f"{dwk['gmacs_per_s']:.2f} GMAC/s, i.e. {dwk['gmacs_per_s'] / pw['gmacs_per_s']:.0%} "
            "of the pointwise rate: "
            f"{100 * dwk['madds_share']:.0f}% of the MAdds take {100 * dwk['time_share']:.0f}% of the time."
        )
    if dwk_fast["gmacs_per_s"] and dwk["gmacs_per_s"]:
        forms = ", ".join(f"{form} ×{n}" for form, n in fast["optimizations"].get("poker_expansion", {}).items())
        lines.append(
            f"- Optimized (each expansion rewritten in the form recorded fastest for it: {forms or 'none'}), "
            f"the expansion runs at {dwk_fast['gmacs_per_s']:.2f} GMAC/s ({dwk['ms']:.2f} → {dwk_fast['ms']:.2f} ms)."
        )
    return lines


def pairs(record: dict, poker: str, ghost: str) -> dict[str, tuple[dict, dict]]:
    """Per runtime, the optimized PokerNet and GhostNet reports."""
    return {rt: (entry(r, poker, True), entry(r, ghost, True)) for rt, r in record["profiles"].items()}


def difference_table(optimized: dict[str, tuple[dict, dict]]) -> list[str]:
    """Per module type and runtime: PokerNet ms · GMAC/s, GhostNet ms · GMAC/s, difference."""
    head, rule = "| module type | MAdds M (Poker / Ghost) |", "|---|---:|"
    for runtime in optimized:
        head += f" {runtime}: Poker ms · GMAC/s | {runtime}: Ghost ms · GMAC/s | {runtime}: Poker − Ghost ms |"
        rule += "---:|---:|---:|"
    first_poker, first_ghost = next(iter(optimized.values()))
    lines = [head, rule]
    for category in CATEGORIES:
        cells = [f"{row(first_poker, category)['madds'] / 1e6:.1f} / {row(first_ghost, category)['madds'] / 1e6:.1f}"]
        for poker, ghost in optimized.values():
            p, g = row(poker, category), row(ghost, category)
            cells += [f"{p['ms']:.2f} · {rate(p)}", f"{g['ms']:.2f} · {rate(g)}", f"{p['ms'] - g['ms']:+.2f}"]
        lines.append(f"| {SHORT.get(category, category)} | " + " | ".join(cells) + " |")
    totals, runs = "| **profiled total** | |", "| whole run (median ms) · nodes run | |"
    for p, g in optimized.values():
        totals += f" **{p['total_ms']:.2f}** | **{g['total_ms']:.2f}** | **{p['total_ms'] - g['total_ms']:+.2f}** |"
        nodes = (f" · {p['nodes_per_run']}", f" · {g['nodes_per_run']}") if p.get("nodes_per_run") else ("", "")
        runs += f" {p['run_ms']:.2f}{nodes[0]} | {g['run_ms']:.2f}{nodes[1]} | {p['run_ms'] - g['run_ms']:+.2f} |"
    return lines + [totals, runs]


def reason(optimized: dict[str, tuple[dict, dict]]) -> list[str]:
    """PokerNet − GhostNet per module type, largest first: where the extra time is spent."""
    lines = []
    for runtime, (poker, ghost) in optimized.items():
        gaps = sorted(((row(poker, c)["ms"] - row(ghost, c)["ms"], c) for c in CATEGORIES), reverse=True)
        parts = ", ".join(f"{SHORT.get(c, c)} {gap:+.2f} ms" for gap, c in gaps)
        se_p, se_g = row(poker, "SE"), row(ghost, "SE")
        lines.append(
            f"- **{runtime}**: {poker['model']} − {ghost['model']} = "
            f"{poker['total_ms'] - ghost['total_ms']:+.2f} ms profiled "
            f"({poker['run_ms'] / ghost['run_ms']:.3f}× whole run): {parts}. Pointwise MAC rate "
            f"{rate(row(poker, 'pointwise'))} vs {rate(row(ghost, 'pointwise'))} GMAC/s; SE {se_p['ms']:.2f} vs "
            f"{se_g['ms']:.2f} ms for {se_p['madds'] / 1e6:.1f} vs {se_g['madds'] / 1e6:.1f} M MAdds."
            + size_split(poker, ghost)
        )
    return lines


def size_split(poker: dict, ghost: dict) -> str:
    """Time and MAdds at feature maps of 56² and more (stem, Ghost stages) and below."""
    if not timed_by_size(poker):
        return ""

    def part(report: dict, high: bool) -> str:
        rows = [x for x in report["resolutions"] if (x["input_size"] >= 56) == high]
        return f"{sum(x['ms'] for x in rows):.2f} ms for {sum(x['madds'] for x in rows) / 1e6:.1f} M"

    return (
        f" By input size: at 224²–56² (stem and the Ghost bottlenecks) {part(poker, True)} vs {part(ghost, True)}; "
        f"at 28² and below (the Poker stages and the head; the SE's 1×1 convs count at 1²) "
        f"{part(poker, False)} vs {part(ghost, False)}."
    )


def difference_by_size(optimized: dict[str, tuple[dict, dict]]) -> list[str]:
    with_sizes = {rt: pair for rt, pair in optimized.items() if timed_by_size(pair[0])}
    if not with_sizes:
        return []
    sizes = sorted({x["input_size"] for pair in with_sizes.values() for r in pair for x in r["resolutions"]})
    lines = [
        "| input size | " + " | ".join(f"{rt}: Poker ms | {rt}: Ghost ms | {rt}: Poker − Ghost" for rt in with_sizes),
        "|---:|" + "---:|---:|---:|" * len(with_sizes),
    ]
    lines[0] += " |"
    for size in reversed(sizes):
        cells = []
        for pair in with_sizes.values():
            ms = [next((x["ms"] for x in r["resolutions"] if x["input_size"] == size), 0.0) for r in pair]
            cells += [f"{ms[0]:.2f}", f"{ms[1]:.2f}", f"{ms[0] - ms[1]:+.2f}"]
        lines.append(f"| {size}² | " + " | ".join(cells) + " |")
    return lines


def latency_table(reports: list[dict]) -> list[str]:
    """Each report's command, CPU and load average at each invocation's start, then its medians and ratios."""
    lines = []
    rows = [
        "| model | threads | median ms (IQR) · per invocation | ratio to GhostNet (min–max) |",
        "|---|---:|---:|---:|",
    ]
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


def header(record: dict) -> list[str]:
    hw, ver = record["hardware"], record["versions"]
    versions = ", ".join(f"{name} {ver[name]}" for name in ("torch", *record["profiles"]) if name in ver)
    end = f" and {record['load_avg_1m_end']} at the end" if "load_avg_1m_end" in record else ""
    return [
        "# Where the CPU time goes (per-layer profile of PokerNet and GhostNet)",
        "",
        f"Produced by `{record['command'].strip()}` on {hw['cpu']} ({hw['cores']} cores, ISA {hw['isa']}), "
        f"load average {hw['load_avg_1m']} at start{end}, {record.get('date', '?')}; {record['threads']} thread(s), "
        f"batch 1, 224×224, {record['runs']} profiled runs per runtime, the four models of a runtime in turns; "
        f"{versions}. **Indicative**: on a shared machine absolute times move by 10–20% between runs; "
        "ratios of models timed in turns move less.",
        "",
        "*direct* = the model as built; *optimized* = the inference path timed by `pokernet latency` "
        "(BN folded, Poker expansion rewritten as recorded in `pokernet/latency/expansion_choice.json`, "
        "Ghost-module padding where measured faster). ONNX Runtime and OpenVINO run the same ONNX export. "
        "MAdds from forward hooks (no bias adds). Module types are assigned by role (see "
        "`pokernet/latency/profile.py`); times are the profiler's, means per run (ORT: kernel time, beside the "
        "median whole run; eager: includes the profiler's overhead, its whole run is the total; OpenVINO: its "
        "counters hold whole µs per node and run, so its profiled total is below its whole run).",
        "",
    ]


def render(record: dict) -> str:
    poker, ghost = record["models"]
    md = header(record)
    if record.get("latency"):
        md += ["## Latency (`pokernet latency --runtime openvino`)", "", *latency_table(record["latency"]), ""]
    for runtime, reports in record["profiles"].items():
        md += [f"## {TITLES.get(runtime, runtime)}", "", *category_table(reports), ""]
        md += ["Key numbers:", "", *key_numbers(reports, poker), ""]
        if any(timed_by_size(r) for r in reports):
            md += ["Time per feature-map size (input of each node):", "", *resolution_table(reports), ""]
    optimized = pairs(record, poker, ghost)
    md += [
        "## PokerNet − GhostNet per module type (optimized)",
        "",
        *difference_table(optimized),
        "",
        "Per-layer reason (PokerNet − GhostNet per module type, largest first; at batch 1 the SE's 1×1 convs "
        "are matrix–vector products, bound by reading their weights, not by MACs):",
        "",
        *reason(optimized),
        "",
    ]
    by_size = difference_by_size(optimized)
    if by_size:
        md += ["Time per feature-map size (input of each node), optimized:", "", *by_size, ""]
    return "\n".join(md) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["pokernet_100", "ghostnet_100"], metavar=("POKER", "GHOST"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--runtimes", nargs="+", default=DEFAULT_RUNTIMES, choices=list(TITLES))
    parser.add_argument(
        "--latency-json",
        type=Path,
        nargs="*",
        default=[],
        help="reports of `pokernet latency ... --runtime openvino --out FILE` to list",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "latency_profile.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON next to it")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.runs < 1:
        fail(f"--threads and --runs must be at least 1, not {args.threads} and {args.runs}")
    for runtime in args.runtimes:
        if runtime != "eager" and importlib.util.find_spec(runtime) is None:
            fail(f"runtime {runtime!r} needs the Python package {runtime!r}, which is not installed")
    args.latency = [read_json(path, ("hardware", "results", "ratios")) for path in args.latency_json]
    return args


def read_json(path: Path, keys: tuple[str, ...]) -> dict:
    """``path``'s JSON object, or one line naming what is wrong with it (exit 2)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        fail(f"cannot read {path}: {error}")
    missing = [key for key in keys if not isinstance(data, dict) or key not in data]
    if missing:
        fail(f"{path} is not the JSON this needs: it has no {', '.join(missing)}")
    return data


def fail(message: str) -> None:
    print(f"profile_layers.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    poker, ghost = args.models
    if args.render_only:
        atomic_write_text(args.out, render(read_json(args.out.with_suffix(".json"), ("models", "profiles"))))
        return 0
    record = {
        "generated_by": "benchmarks/profile_layers.py",
        "command": "python benchmarks/profile_layers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **machine([args.threads]),
        "threads": args.threads,
        "runs": args.runs,
        "models": [poker, ghost],
        "latency": args.latency,
        "profiles": {},
    }
    entries = [(poker, False), (poker, True), (ghost, False), (ghost, True)]
    for runtime in args.runtimes:
        print(f"profiling {poker} and {ghost} ({runtime}), direct and optimized, in turns", file=sys.stderr, flush=True)
        try:
            record["profiles"][runtime] = profile_models(entries, runtime, args.threads, runs=args.runs)
        except ValueError as error:  # an unknown model: nothing written
            fail(str(error))
    record["load_avg_1m_end"] = load_average()
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    atomic_write_text(args.out, render(record))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
