"""Are the latency ratios stable? Run ``pokernet latency`` N times (separate processes) and
compare the PokerNet/GhostNet ratios across the runs.

Pass when every ratio of every run lies within ±TOL (default 3%) of the median of that
ratio over the runs. The load average before each run is recorded: on a shared machine,
runs under load are the usual cause of a failure. Writes results/benchmarks/latency_stability.md and
results/benchmarks/latency_stability.json.

    python benchmarks/latency_stability.py [--repeats 5] [--runtime all] [--threads 1]
        [--models pokernet_100 ghostnet_100] [--budget-s 2] [--tolerance 0.03]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent


def one_run(args: argparse.Namespace) -> dict:
    command = [sys.executable, "-m", "pokernet", "latency", *args.models, "--runtime", args.runtime,
               "--json", "--budget-s", str(args.budget_s)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.direct:
        command.append("--direct")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pokernet latency failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["pokernet_100", "ghostnet_100"])
    parser.add_argument("--runtime", default="all", choices=["eager", "torchscript", "onnxruntime", "all"])
    parser.add_argument("--threads", type=int, help="one thread count (default: 1 and all cores)")
    parser.add_argument("--budget-s", type=float, default=2.0)
    parser.add_argument("--tolerance", type=float, default=0.03)
    parser.add_argument("--direct", action="store_true", help="time the models as built (pokernet latency --direct)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "latency_stability.md")
    args = parser.parse_args(argv)

    runs = []
    for index in range(args.repeats):
        load = os.getloadavg()[0]
        report = one_run(args)
        runs.append({"load_avg_1m_before": round(load, 2), "report": report})
        print(f"run {index + 1}/{args.repeats} (load {load:.2f}): " +
              ", ".join(f"{r['model']}/{r['runtime']}/t{r['threads']}={r['ratio']:.3f}" for r in report["ratios"]),
              file=sys.stderr, flush=True)

    series: dict[tuple, list[float]] = {}
    for run in runs:
        for r in run["report"]["ratios"]:
            series.setdefault((r["model"], r["reference"], r["runtime"], r["threads"]), []).append(r["ratio"])
    rows = []
    for (model, reference, runtime, threads), values in series.items():
        median = statistics.median(values)
        deviation = max(abs(v / median - 1) for v in values)
        rows.append({"model": model, "reference": reference, "runtime": runtime, "threads": threads,
                     "ratios": values, "median": round(median, 4), "max_deviation": round(deviation, 4),
                     "within_tolerance": deviation <= args.tolerance})
    ok = all(r["within_tolerance"] for r in rows)
    command = "python benchmarks/latency_stability.py " + " ".join(argv if argv is not None else sys.argv[1:])
    record = {"generated_by": "benchmarks/latency_stability.py", "command": command.strip(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "tolerance": args.tolerance, "passed": ok, "hardware": runs[0]["report"]["hardware"],
              "versions": runs[0]["report"]["versions"], "ratios": rows,
              "loads": [r["load_avg_1m_before"] for r in runs], "runs": [r["report"] for r in runs]}
    md = ["# Latency ratio stability", "",
          f"`{record['command']}`: {args.repeats} separate invocations of "
          f"`pokernet latency {' '.join(args.models)} --runtime {args.runtime}{' --direct' if args.direct else ''}` on {record['hardware']['cpu']} "
          f"({record['hardware']['cores']} cores), {record['date']}. Load average before each run: "
          f"{', '.join(str(x) for x in record['loads'])}.", "",
          f"Criterion: every run's ratio within ±{100 * args.tolerance:.0f}% of the median ratio. "
          f"**{'PASS' if ok else 'FAIL'}**.", "",
          "| model / reference | runtime | threads | ratios per run | median | max deviation |",
          "|---|---|---:|---|---:|---:|"]
    for r in rows:
        md.append(f"| {r['model']} / {r['reference']} | {r['runtime']} | {r['threads']} | "
                  f"{', '.join(f'{v:.3f}' for v in r['ratios'])} | {r['median']:.3f} | "
                  f"{100 * r['max_deviation']:.1f}%{'' if r['within_tolerance'] else ' ✗'} |")
    latency: dict[tuple, list[float]] = {}
    for run in runs:
        for r in run["report"]["results"]:
            latency.setdefault((r["model"], r["runtime"], r["threads"]), []).append(r["median_ms"])
    md += ["", "Latency (median ms of each run; the median over runs in bold):", "",
           "| model | runtime | threads | per run | median |", "|---|---|---:|---|---:|"]
    for (model, runtime, threads), values in latency.items():
        md.append(f"| {model} | {runtime} | {threads} | {', '.join(f'{v:.2f}' for v in values)} | "
                  f"**{statistics.median(values):.2f}** |")
    record["latency_ms"] = [{"model": m, "runtime": rt, "threads": t, "per_run": v,
                             "median": round(statistics.median(v), 4)} for (m, rt, t), v in latency.items()]
    atomic_write_text(args.out, "\n".join(md) + "\n")
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    print("\n".join(md))
    print(f"{'PASS' if ok else 'FAIL'}: wrote {args.out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
