"""``pokernet latency MODEL... [--runtime eager|torchscript|onnxruntime|openvino|xnnpack|all] [--threads N] [--json]``:
batch-1 CPU latency (paper Table 3) and the ratio of each PokerNet to GhostNet at the same
width, measured in the same interleaved run. A missing GhostNet reference is added.

``pokernet profile MODEL... [--runtime onnxruntime|openvino|eager] [--threads N] [--direct] [--json]``:
per-layer profile, time per module type beside its MAdds share and MAC rate
(see :mod:`pokernet.latency.profile`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from tabulate import tabulate

from pokernet import schemas
from pokernet.cliargs import (
    MIN_RUNS_LIMIT,
    batch_size,
    min_runs,
    number,
    positive_int,
    resolution,
    resolve_models,
    thread_count,
)
from pokernet.fileio import WriteError, atomic_write_text, check_output_file
from pokernet.provenance import available_cores

from .choice import CHOICE_FILE, choice_file, load_choice, record_entry, use_choice_file
from .invocations import combine, run_invocations
from .ratios import STABILITY_TOLERANCE, references_for
from .runtime_table import ALL_RUNTIMES, RUNTIMES, runtime_spec

STABILITY = {True: "yes", False: "no", None: "not checked (1 invocation)"}

QUICK = {"budget_s": 0.15, "min_runs": 3, "warmup_s": 0.0}
BUDGET_LIMIT_S = 600.0  # per model, runtime and thread count: a bound, so a typo cannot run for ever
INVOCATIONS_LIMIT = 50


def configure_latency(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--all", action="store_true", help="every registered model")
    parser.add_argument(
        "--runtime",
        choices=[*RUNTIMES, "all"],
        default="onnxruntime",
        help="runtime to time in (default onnxruntime; all = every one but xnnpack, an optional extra)",
    )
    parser.add_argument(
        "--threads", type=thread_count, help=f"pin one thread count (default: 1 and all cores = {available_cores()})"
    )
    parser.add_argument("--batch", type=batch_size, default=1)
    parser.add_argument("--resolution", type=resolution, default=224)
    parser.add_argument(
        "--budget-s",
        type=number(float, above=0, high=BUDGET_LIMIT_S),
        default=2.0,
        help=f"seconds of timed runs per model, runtime and thread count, in (0, {BUDGET_LIMIT_S:g}] (default 2)",
    )
    parser.add_argument(
        "--min-runs", type=min_runs, default=20, help=f"timed runs at least, at most {MIN_RUNS_LIMIT} (default 20)"
    )
    parser.add_argument("--quick", action="store_true", help="a very short measurement (CI smoke test)")
    parser.add_argument(
        "--invocations",
        type=number(int, 1, INVOCATIONS_LIMIT),
        default=1,
        help="separate processes to run the whole measurement in; each ratio then carries "
        f"its min-max over them and a stability verdict (default 1, at most {INVOCATIONS_LIMIT})",
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="time the models as built: no Poker expansion variant, no BN fusion in "
        "eager, no memory-format choice, no ONNX graph clean-up",
    )
    parser.add_argument(
        "--choice",
        type=Path,
        help=f"the recorded expansion/padding choice to apply (default the packaged {CHOICE_FILE.name}); "
        "with --choose, the file to record into",
    )
    parser.add_argument(
        "--choose",
        action="store_true",
        help="instead of timing MODELs, measure the Poker expansion variants and whole-model options "
        "(--runtime, --threads, --quick apply) and record the fastest for this CPU's ISA into --choice",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--out", type=Path, help="also write the JSON report to this file (atomically)")


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this report (recorded in the JSON)."""
    parts = ["pokernet latency", *args.models, *(["--all"] if args.all else []), "--runtime", args.runtime]
    if args.threads:
        parts += ["--threads", str(args.threads)]
    if args.batch != 1 or args.resolution != 224:
        parts += ["--batch", str(args.batch), "--resolution", str(args.resolution)]
    parts += ["--quick"] if args.quick else ["--budget-s", f"{args.budget_s:g}", "--min-runs", str(args.min_runs)]
    if args.direct:
        parts.append("--direct")
    if args.choice:
        parts += ["--choice", shlex.quote(str(args.choice))]
    if args.invocations > 1:
        parts += ["--invocations", str(args.invocations)]
    return " ".join(parts)


def run_latency(args: argparse.Namespace) -> int:
    if args.out:
        check_output_file(args.out, "--out")  # before the measurement, not after it
    if args.choose:
        return run_choose(args)
    if args.choice:
        if not args.choice.is_file():
            raise ValueError(f"--choice {args.choice}: no such file")
        use_choice_file(args.choice)
    names = resolve_models(args.models, args.all)
    names, added = references_for(names)
    if added:
        print(f"pokernet latency: added reference model(s) {', '.join(added)}", file=sys.stderr)
    runtimes = list(ALL_RUNTIMES) if args.runtime == "all" else [args.runtime]
    threads = [args.threads] if args.threads else sorted({1, available_cores()})
    timing = dict(QUICK) if args.quick else {"budget_s": args.budget_s, "min_runs": args.min_runs}
    for runtime in runtimes:
        runtime_spec(runtime)  # unknown or not installed: one line, before any invocation
    settings = {
        "models": names,
        "runtimes": runtimes,
        "threads": threads,
        "batch": args.batch,
        "resolution": args.resolution,
        "optimize": not args.direct,
        **timing,
    }
    from .measure import measure  # torch: imported when a measurement runs, not for --help

    if args.invocations > 1:
        reports = run_invocations(settings, args.invocations, log)
    else:
        reports = [measure(**settings, log=log)]
    report = combine(reports)
    report["command"] = command_line(args)
    report["added_references"] = added
    emit_report(args, schemas.dumps("latency", report, "the latency report"))
    if not args.json:
        print_latency_tables(report)
    return 0


def run_choose(args: argparse.Namespace) -> int:
    """``--choose``: measure, then record this ISA's entry into --choice (atomically)."""
    from .choose import FORMATS, FULL_BUDGETS, MODELS, QUICK_BUDGETS, QUICK_MODELS, choose, markdown

    if args.models or args.all or args.direct or args.invocations > 1:
        raise ValueError(
            "--choose measures its own set of Poker shapes and models: no MODEL, --all, --direct or --invocations"
        )
    runtimes = [r for r in ALL_RUNTIMES if r in FORMATS] if args.runtime == "all" else [args.runtime]
    if runtimes[0] not in FORMATS:
        raise ValueError(f"--choose --runtime {args.runtime}: choices are measured for {', '.join(FORMATS)} only")
    for runtime in runtimes:
        runtime_spec(runtime)  # not installed: one line, before any timing
    target = args.choice or choice_file()
    check_output_file(target, "--choice")
    threads = [args.threads] if args.threads else sorted({1, available_cores()})
    budgets = dict(QUICK_BUDGETS) if args.quick else dict(FULL_BUDGETS)
    command = shlex.join(
        ["pokernet", "latency", "--choose", "--runtime", args.runtime]
        + (["--threads", str(args.threads)] if args.threads else [])
        + (["--quick"] if args.quick else [])
        + (["--choice", str(args.choice)] if args.choice else [])
    )
    entry = choose(runtimes, threads, budgets, command, QUICK_MODELS if args.quick else MODELS)
    record = record_entry(load_choice(target) if target.is_file() else {}, entry)
    text = json.dumps(record, indent=1) + "\n"
    atomic_write_text(target, text)
    log(f"pokernet latency --choose: recorded the {entry['hardware']['isa']} entry in {target}")
    emit_report(args, json.dumps(entry, indent=1) + "\n")
    if not args.json:
        print(markdown(entry), end="")
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit_report(args: argparse.Namespace, text: str) -> None:
    """The JSON report on stdout (--json) and/or into --out; a failed write loses nothing."""
    if args.json:
        print(text, end="", flush=True)
    if args.out:
        try:
            atomic_write_text(args.out, text)
        except WriteError as error:
            if not args.json:  # the measurement is not lost: the report goes to stdout
                print(text, end="", flush=True)
            raise ValueError(f"--out {args.out}: {error}; the report is on stdout") from None


def print_latency_tables(report: dict) -> None:
    """The medians, then the ratios with their spread over invocations."""
    print(
        tabulate(
            [
                (r["model"], r["runtime"], r["threads"], f"{r['median_ms']:.2f}", f"{r['iqr_ms']:.2f}", r["runs"])
                for r in report["results"]
            ],
            headers=["model", "runtime", "threads", "median (ms)", "IQR (ms)", "runs"],
        )
    )
    if not report["ratios"]:
        return
    print()
    print(
        tabulate(
            [
                (
                    r["model"],
                    r["reference"],
                    r["runtime"],
                    r["threads"],
                    f"{r['ratio']:.3f}",
                    f"{r['ratio_min']:.3f}–{r['ratio_max']:.3f}",
                    STABILITY[r["stable"]],
                )
                for r in report["ratios"]
            ],
            headers=[
                "model",
                "reference",
                "runtime",
                "threads",
                "ratio",
                "min–max over invocations",
                f"stable (±{100 * STABILITY_TOLERANCE:g}%)",
            ],
        )
    )


def configure_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--runtime", choices=["onnxruntime", "openvino", "eager"], default="onnxruntime")
    parser.add_argument("--threads", type=thread_count, default=1)
    parser.add_argument("--resolution", type=resolution, default=224)
    parser.add_argument("--runs", type=positive_int, default=100, help="profiled runs (default 100)")
    parser.add_argument("--direct", action="store_true", help="profile the models as built (no inference rewrites)")
    parser.add_argument("--json", action="store_true")


def run_profile(args: argparse.Namespace) -> int:
    from .profile import profile_models

    names = resolve_models(args.models, False)
    reports = profile_models(
        [(name, not args.direct) for name in names], args.runtime, args.threads, args.resolution, args.runs
    )
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    for report in reports:
        print(
            f"{report['model']} ({report['runtime']}, {report['threads']} thread(s), "
            f"{'optimized' if report['optimized'] else 'direct'}): {report['total_ms']:.2f} ms profiled"
        )
        print(
            tabulate(
                [
                    (
                        r["category"],
                        f"{r['ms']:.3f}",
                        f"{100 * r['time_share']:.1f}%",
                        f"{r['madds'] / 1e6:.1f}",
                        f"{100 * r['madds_share']:.1f}%",
                        r["gmacs_per_s"] or "-",
                    )
                    for r in report["categories"]
                ],
                headers=["module type", "ms", "time %", "MAdds (M)", "MAdds %", "GMAC/s"],
            )
        )
        print()
    return 0
