"""Are the latency ratios stable? A hand-run view of ``pokernet latency --invocations N``
(N separate processes; the DAG's latency rule does the same for Table 3, whose verdicts
count only stable settings): per setting, each invocation's ratio, their median and the
largest deviation from it, against the ±3% criterion. Use it for variants the DAG does not
time (``--direct``: the models as built). Writes OUT (markdown) and OUT with .json.

    python benchmarks/latency_stability.py [--repeats 5] [--runtime all] [--threads 1]
        [--models pokernet_100 ghostnet_100] [--budget-s 2] [--direct] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text
from pokernet.latency.api import RUNTIMES, STABILITY_TOLERANCE

ROOT = Path(__file__).resolve().parent.parent


def measure(args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        "-m",
        "pokernet",
        "latency",
        *args.models,
        "--runtime",
        args.runtime,
        "--json",
        "--budget-s",
        str(args.budget_s),
        "--invocations",
        str(args.repeats),
    ]
    command += ["--threads", str(args.threads)] if args.threads else []
    command += ["--direct"] if args.direct else []
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pokernet latency failed (exit code {done.returncode})")
    return json.loads(done.stdout)


def render(report: dict) -> list[str]:
    hardware, loads = report["hardware"], [i.get("load_avg_1m_start") for i in report["invocations"]]
    passed = all(r["stable"] for r in report["ratios"])
    md = [
        "# Latency ratio stability",
        "",
        f"`{report['command']}` on {hardware['cpu']} ({hardware['cores']} cores). Load average before each "
        f"invocation: {', '.join(str(x) for x in loads)}.",
        "",
        f"Criterion: every invocation's ratio within ±{100 * STABILITY_TOLERANCE:g}% of their median. "
        f"**{'PASS' if passed else 'FAIL'}**.",
        "",
        "| model / reference | runtime | threads | ratio per invocation | median | max deviation |",
        "|---|---|---:|---|---:|---:|",
    ]
    for r in report["ratios"]:
        md.append(
            f"| {r['model']} / {r['reference']} | {r['runtime']} | {r['threads']} | "
            f"{', '.join(f'{v:.3f}' for v in r['invocation_ratios'])} | {r['ratio']:.3f} | "
            f"{100 * r['max_deviation']:.1f}%{'' if r['stable'] else ' ✗'} |"
        )
    md += [
        "",
        "Latency (each invocation's median, ms; the median over invocations in bold):",
        "",
        "| model | runtime | threads | per invocation | median |",
        "|---|---|---:|---|---:|",
    ]
    for r in report["results"]:
        md.append(
            f"| {r['model']} | {r['runtime']} | {r['threads']} | "
            f"{', '.join(f'{v:.2f}' for v in r['invocation_median_ms'])} | **{r['median_ms']:.2f}** |"
        )
    return md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="invocations (separate processes)")
    parser.add_argument("--models", nargs="+", default=["pokernet_100", "ghostnet_100"])
    parser.add_argument("--runtime", default="all", choices=[*RUNTIMES, "all"])
    parser.add_argument("--threads", type=int, help="one thread count (default: 1 and all cores)")
    parser.add_argument("--budget-s", type=float, default=2.0)
    parser.add_argument("--direct", action="store_true", help="time the models as built (pokernet latency --direct)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "latency_stability.md")
    args = parser.parse_args(argv)
    report = measure(args)
    md = render(report)
    atomic_write_text(args.out, "\n".join(md) + "\n")
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(report, indent=1) + "\n")
    print("\n".join(md))
    passed = all(r["stable"] for r in report["ratios"])
    print(f"{'PASS' if passed else 'FAIL'}: wrote {args.out}", file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
