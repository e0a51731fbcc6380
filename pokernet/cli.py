"""The one command-line interface: ``pokernet <command> ...`` (also ``python -m pokernet``).

Each command lives in its own module exposing ``configure(parser)`` and ``run(args)``;
this file only wires them up, so adding a command does not touch the others. Any
ValueError/FileNotFoundError a command raises for a bad input becomes one line on
stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module with configure/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("pokernet.commands.models", "list the registered models"),
    "complexity": ("pokernet.commands.complexity", "print Params and MAdds"),
    "audit": ("pokernet.commands.audit", "write the architecture audit (results/architecture_audit.md)"),
    "train": ("pokernet.train.cli", "train a model with a recipe"),
    "evaluate": ("pokernet.train.cli_evaluate", "evaluate a checkpoint"),
    "latency": ("pokernet.latency.cli", "measure CPU latency at batch 1"),
    "profile": ("pokernet.latency.profile_cli", "per-layer CPU time by module type beside its MAdds share"),
    "report": ("pokernet.report.cli", "render results tables and figures"),
}


class CLIError(Exception):
    """A bad input the user can fix: printed as one line, exit code 2."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="pokernet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=OneLineErrorParser)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module)
        try:
            importlib.import_module(module).configure(command)
        except ModuleNotFoundError:
            command.set_defaults(_missing=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_missing", False):
        parser.error(f"command {args.command!r} is not available in this installation")
    try:
        return importlib.import_module(args._module).run(args) or 0
    except (CLIError, ValueError, FileNotFoundError) as error:
        print(f"pokernet {args.command}: error: {error}", file=sys.stderr)
        return 2
