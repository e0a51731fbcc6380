"""Thin client of ``pokernet latency --choose`` (pokernet/latency/choose.py): measure the Poker
expansion variants and whole-model options for several runtimes and thread counts, record this
CPU's ISA entry in the choice file and write the tables as Markdown.

    python benchmarks/poker_expansion_variants.py [--runtime R...] [--threads N...] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pokernet.fileio import atomic_write_text
from pokernet.latency.choice import CHOICE_FILE, load_choice, record_entry
from pokernet.latency.choose import FORMATS, FULL_BUDGETS, MODELS, QUICK_BUDGETS, QUICK_MODELS, choose, markdown
from pokernet.latency.runtimes import ALL_RUNTIMES
from pokernet.provenance import available_cores

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runtime", nargs="+", choices=list(FORMATS), default=[r for r in ALL_RUNTIMES if r in FORMATS]
    )
    parser.add_argument("--threads", nargs="+", type=int, default=sorted({1, available_cores()}))
    parser.add_argument("--quick", action="store_true", help="tiny budgets, one width (smoke test; noise)")
    parser.add_argument("--out", type=Path, default=CHOICE_FILE)
    parser.add_argument(
        "--markdown", type=Path, default=ROOT / "results" / "benchmarks" / "poker_expansion_variants.md"
    )
    args = parser.parse_args(argv)
    command = "python benchmarks/poker_expansion_variants.py " + " ".join(argv)
    budgets, models = (QUICK_BUDGETS, QUICK_MODELS) if args.quick else (FULL_BUDGETS, MODELS)
    entry = choose(args.runtime, args.threads, dict(budgets), command, models)
    record = record_entry(load_choice(args.out) if args.out.is_file() else {}, entry)
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    atomic_write_text(args.markdown, markdown(entry))
    print(f"wrote {args.out} and {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
