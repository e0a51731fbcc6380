"""``pokernet profile MODEL... [--runtime onnxruntime|eager] [--threads N] [--direct] [--json]``.

Per-layer profile: time per module type beside its MAdds share and MAC rate
(see :mod:`pokernet.latency.profile`).
"""
from __future__ import annotations

import argparse
import json

from tabulate import tabulate

from pokernet.commands import positive_int, resolve_models

from .profile import profile_models


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--runtime", choices=["onnxruntime", "eager"], default="onnxruntime")
    parser.add_argument("--threads", type=positive_int, default=1)
    parser.add_argument("--resolution", type=positive_int, default=224)
    parser.add_argument("--runs", type=positive_int, default=100, help="profiled runs (default 100)")
    parser.add_argument("--direct", action="store_true", help="profile the models as built (no inference rewrites)")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    names = resolve_models(args.models, False)
    reports = profile_models([(name, not args.direct) for name in names], args.runtime, args.threads,
                             args.resolution, args.runs)
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    for report in reports:
        print(f"{report['model']} ({report['runtime']}, {report['threads']} thread(s), "
              f"{'optimized' if report['optimized'] else 'direct'}): {report['total_ms']:.2f} ms profiled")
        print(tabulate([(r["category"], f"{r['ms']:.3f}", f"{100 * r['time_share']:.1f}%", f"{r['madds'] / 1e6:.1f}",
                         f"{100 * r['madds_share']:.1f}%", r["gmacs_per_s"] or "-") for r in report["categories"]],
                       headers=["module type", "ms", "time %", "MAdds (M)", "MAdds %", "GMAC/s"]))
        print()
    return 0
