import argparse

from pokernet.audit import render
from pokernet.fileio import atomic_write_text


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/architecture_audit.md", help="markdown file to write")


def run(args: argparse.Namespace) -> int:
    path = atomic_write_text(args.out, render(f"pokernet audit --out {args.out}"))
    print(f"wrote {path}")
    return 0
