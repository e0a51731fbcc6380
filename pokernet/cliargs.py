"""Argument types and helpers shared by the command modules (``pokernet/<pkg>/cli.py``).

Only CLI modules import this; the library layers (models, complexity, train, latency,
report) never do.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from pokernet.models import list_models, model_options
from pokernet.models.catalog import ACT_SCHEME_NAMES, DW_KERNEL_PLANS, WIDTH_RANGE, width_problem

# Bounds checked before anything is allocated (a 100,000-pixel input or 5,000 threads exhausts memory).
THREADS_PER_CORE = 4  # --threads at most this many times the cores this process may use
RESOLUTION_RANGE = (16, 1024)  # input side in pixels (PokerNet/GhostNet downsample 32x: 16 still gives 1x1)
BATCH_LIMIT = 1024
MIN_RUNS_LIMIT = 1000  # timed runs per model and setting: the --budget-s bound (600 s) holds
SEED_LIMIT = 2**63  # seeds are 63-bit: torch.manual_seed takes < 2**64, derive_seed makes 63 bits
# The flag of a model option where it is not --option-name.
OPTION_FLAGS = {"se": "--no-se"}


class CLIError(Exception):
    """A bad input the user can fix: printed as one line, exit code 2."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def number(
    kind: type = float,
    low: float | None = None,
    high: float | None = None,
    *,
    above: float | None = None,
    check: Callable[[Any, str], str | None] | None = None,
) -> Callable[[str], Any]:
    """The argparse type of one number: ``kind`` (int: a whole number; float: a finite one), at
    least ``low``, more than ``above``, at most ``high``, then ``check(value, text)`` (a message or
    None). Every message quotes the value as given (``--width 0.0999999999``, never "0.1")."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value):
            problem = f"must be a finite number, got {text}"
        elif (low is not None and value < low) or (high is not None and low is not None and value > high):
            problem = (
                f"must be in [{low:g}, {high:g}], got {text}" if high is not None else f"must be >= {low:g}, got {text}"
            )
        elif above is not None and not value > above:
            problem = f"must be > {above:g}, got {text}"
        elif high is not None and value > high:
            problem = f"must be at most {high:g}, got {text}"
        else:
            problem = check(value, text) if check else None
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def _threads_problem(value: int, text: str) -> str | None:
    """--threads: at most THREADS_PER_CORE x the cores this process may use."""
    from pokernet.provenance import available_cores

    cores = available_cores()
    if value <= THREADS_PER_CORE * cores:
        return None
    return (
        f"must be at most {THREADS_PER_CORE * cores} ({THREADS_PER_CORE} x the {cores} cores this process may use), "
        f"got {text}"
    )


positive_float = number(float, above=0)
positive_int = number(int, 1)
seed = number(int, 0, check=lambda value, text: None if value < SEED_LIMIT else f"must be in [0, 2**63), got {text}")
thread_count = number(int, 1, check=_threads_problem)
width_multiplier = number(float, check=lambda value, text: width_problem(value, text))
resolution = number(int, *RESOLUTION_RANGE)
batch_size = number(int, 1, BATCH_LIMIT)
min_runs = number(int, 1, MIN_RUNS_LIMIT)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options of the PokerNet builders (width, Table 4 SE, Table 5 activations, audit choices)."""
    group = parser.add_argument_group("model options (PokerNet)")
    group.add_argument(
        "--width", type=width_multiplier, help=f"width multiplier α in [{WIDTH_RANGE[0]:g}, {WIDTH_RANGE[1]:g}]"
    )
    group.add_argument(
        "--no-se",
        dest="se",
        action="store_false",
        default=None,
        help="drop SE from the Poker modules (Table 4 ablation)",
    )
    group.add_argument("--act", choices=sorted(ACT_SCHEME_NAMES), help="activation scheme (Table 5)")
    group.add_argument(
        "--dw-kernels", choices=DW_KERNEL_PLANS, help="kernel of stride-2/shortcut depthwise convs (architecture audit)"
    )
    group.add_argument("--head-chs", type=positive_int, help="width of the 1x1 head conv (default 1280)")


def model_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The model options the user actually gave."""
    names = ("width", "se", "act", "dw_kernels", "head_chs")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def options_for(model: str, options: dict[str, Any], strict: bool) -> dict[str, Any]:
    """Options a model takes; with strict, giving one it does not take is an error."""
    accepted = set(model_options(model))
    rejected = sorted(set(options) - accepted)
    if rejected and strict:
        flags = [OPTION_FLAGS.get(r, "--" + r.replace("_", "-")) for r in rejected]
        raise ValueError(f"model {model!r} does not take {', '.join(flags)}")
    return {k: v for k, v in options.items() if k in accepted}


def resolve_models(names: list[str], all_models: bool) -> list[str]:
    if all_models and names:
        raise ValueError("give model names or --all, not both")
    if not all_models and not names:
        raise ValueError("give at least one model name, or --all")
    known = list_models()
    for name in names:
        if name not in known:
            raise ValueError(f"unknown model {name!r}; known models: {', '.join(known)}")
    return known if all_models else names
