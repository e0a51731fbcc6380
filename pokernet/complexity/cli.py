"""``pokernet complexity``: Params and MAdds of registered models; ``pokernet audit``: the
architecture audit (results/architecture_audit.md); ``pokernet claims``: the counts behind three
claims of the text (pokernet.complexity.claims)."""

import argparse

from tabulate import tabulate

from pokernet import schemas
from pokernet.cliargs import (
    add_model_options,
    model_options_from_args,
    options_for,
    resolution,
    resolve_models,
)
from pokernet.fileio import atomic_write_text, check_output_file
from pokernet.models import create_model


def configure_complexity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--all", action="store_true", help="every registered model")
    parser.add_argument("--resolution", type=resolution, default=224)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    add_model_options(parser)


def run_complexity(args: argparse.Namespace) -> int:
    from .counting import complexity  # torch and ptflops: imported when counting, not for --help

    names = resolve_models(args.models, args.all)
    given = model_options_from_args(args)
    rows = []
    for name in names:
        options = options_for(name, given, strict=not args.all)
        result = complexity(create_model(name, **options), args.resolution)
        rows.append(
            {
                "model": name,
                "params": result.params,
                "madds": result.madds,
                "resolution": args.resolution,
                "options": options,
            }
        )
    if args.json:
        print(schemas.dumps("complexity", rows, "pokernet complexity --json"), end="")
    else:
        print(
            tabulate(
                [
                    (
                        r["model"],
                        f"{r['params'] / 1e6:.3f}",
                        f"{r['madds'] / 1e6:.2f}",
                        " ".join(f"{k}={v}" for k, v in r["options"].items()),
                    )
                    for r in rows
                ],
                headers=["model", "Params (M, 1000-class head as Table 2)", f"MAdds (M) @{args.resolution}", "options"],
            )
        )
    return 0


def configure_audit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/architecture_audit.md", help="markdown file to write")


def run_audit(args: argparse.Namespace) -> int:
    from .audit import render

    check_output_file(args.out, "--out")
    path = atomic_write_text(args.out, render(f"pokernet audit --out {args.out}"))
    print(f"wrote {path}")
    return 0


def configure_claims(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="JSON file to write (the `claims` contract)")


def run_claims(args: argparse.Namespace) -> int:
    from .claims import count_claims

    check_output_file(args.out, "--out")
    path = atomic_write_text(args.out, schemas.dumps("claims", count_claims(), "pokernet claims"))
    print(f"wrote {path}")
    return 0
