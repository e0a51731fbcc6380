import argparse
import json

from tabulate import tabulate

from pokernet.commands import (add_model_options, model_options_from_args, options_for,
                               positive_int, resolve_models)
from pokernet.complexity import complexity
from pokernet.models import create_model


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--all", action="store_true", help="every registered model")
    parser.add_argument("--resolution", type=positive_int, default=224)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    names = resolve_models(args.models, args.all)
    given = model_options_from_args(args)
    rows = []
    for name in names:
        options = options_for(name, given, strict=not args.all)
        result = complexity(create_model(name, **options), args.resolution)
        rows.append({"model": name, "params": result.params, "madds": result.madds,
                     "resolution": args.resolution, "options": options})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(tabulate([(r["model"], f"{r['params'] / 1e6:.3f}", f"{r['madds'] / 1e6:.2f}",
                         " ".join(f"{k}={v}" for k, v in r["options"].items())) for r in rows],
                       headers=["model", "Params (M)", f"MAdds (M) @{args.resolution}", "options"]))
    return 0
