"""The one command-line interface: ``pokernet <command> ...`` (also ``python -m pokernet``).

Command NAME of package PKG is ``configure_NAME(parser)`` and ``run_NAME(args)`` in
``pokernet/PKG/cli.py``; this file only wires them up. Any ValueError/FileNotFoundError a
command raises for a bad input becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys

from pokernet.cliargs import CLIError, OneLineErrorParser
from pokernet.fileio import shown

# Errors of the system that are answers, not crashes: a full disk or a closed pipe on standard output,
# a path the system cannot look up (a name too long, a symlink loop) wherever a command meets one.
SYSTEM_ANSWERS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG, errno.ELOOP}

# command -> (package whose cli.py holds it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("models", "list the registered models"),
    "complexity": ("complexity", "print Params and MAdds"),
    "audit": ("complexity", "write the architecture audit (results/architecture_audit.md)"),
    "claims": (
        "complexity",
        "count the claims of the text no table holds (pointwise share, width exponent, Ghost/Poker choice per block)",
    ),
    "train": ("train", "train a model with a recipe"),
    "evaluate": ("train", "evaluate a checkpoint"),
    "latency": ("latency", "measure CPU latency at batch 1"),
    "profile": ("latency", "per-layer CPU time by module type beside its MAdds share"),
    "report": ("report", "render results tables and figures"),
    "data": ("datasets", "prepare a dataset as users have it (prepare-imagenet: sort ILSVRC-2012's flat val/)"),
    "cluster": ("cluster", "a study on a cluster: its GPU-hours before it starts (cost), its runs' progress (status)"),
    "study": ("study", "the CIFAR-10 study on one GPU (run) and its archive into the workflow (ingest)"),
}


def command_module(name: str):
    """The module holding command ``name``: ``pokernet.<pkg>.cli``."""
    return importlib.import_module(f"pokernet.{COMMANDS[name][0]}.cli")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, only the command it names gets its options (so that `pokernet
    --help` imports no command module, and `pokernet NAME ...` only NAME's; issue 26)."""
    parser = OneLineErrorParser(prog="pokernet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrorParser)
    named = set(COMMANDS) if argv is None else set(argv[:1])
    for name, (_package, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name in named:
            getattr(command_module(name), f"configure_{name}")(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not as an ignored error at exit
        return code
    except OSError as error:
        if error.errno not in SYSTEM_ANSWERS:
            raise
        if error.filename is None:  # our files go through fileio (WriteError): this is standard output
            with contextlib.suppress(OSError, ValueError):  # nothing left to flush at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = f"{shown(error.filename)}: " if error.filename is not None else "cannot write standard output: "
        command = (sys.argv[1:] if argv is None else argv)[:1]
        print(f"pokernet {' '.join(command)}: error: {where}{error.strerror}", file=sys.stderr)
        return 2


def _dispatch(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return getattr(command_module(args.command), f"run_{args.command}")(args) or 0
    except (CLIError, ValueError, FileNotFoundError) as error:
        print(f"pokernet {args.command}: error: {error}", file=sys.stderr)
        return 2
