"""Start-up time of the command line (issue 26: `pokernet --help` took 27-52 s on a loaded machine,
`import torch` alone 26 s). Each command runs ``--rounds`` times as a fresh process, as a user runs
it; the report gives the fastest and the median wall time of each, `python -c "import torch"` beside
them for scale, the machine (CPU, ISA, cores) and its load average before and after.

    python benchmarks/cli_startup.py [--rounds 5] [--out results/benchmarks/cli_startup.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tabulate import tabulate

from pokernet.cli import COMMANDS
from pokernet.provenance import available_cores, cpu_model, git_commit

GOAL_S = 2.0  # issue 26: under 2 s on an idle 2-core machine


def commands() -> list[tuple[str, list[str]]]:
    """(as a user types it, the argv run): the top-level help, `pokernet models`, each command's help,
    and `import torch` for scale."""
    pokernet = [sys.executable, "-m", "pokernet"]
    rows = [("pokernet --help", [*pokernet, "--help"]), ("pokernet models", [*pokernet, "models"])]
    rows += [(f"pokernet {name} --help", [*pokernet, name, "--help"]) for name in COMMANDS]
    return rows + [('python -c "import torch" (for scale)', [sys.executable, "-c", "import torch"])]


def wall_times(argv: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def isa() -> str:
    """The widest vector ISA /proc/cpuinfo lists (torch's name for it is not read: that imports torch)."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    return next((name for name in ("avx512f", "avx2", "sse4_2") if f" {name}" in flags), "other").upper()


def report(rows: list[tuple[str, list[float]]], load: tuple[float, float], rounds: int) -> str:
    command = "python benchmarks/cli_startup.py " + " ".join(sys.argv[1:])
    table = [
        (label, f"{min(t):.2f}", f"{statistics.median(t):.2f}", "yes" if statistics.median(t) < GOAL_S else "NO")
        for label, t in rows
    ]
    table[-1] = (*table[-1][:3], "")
    return "\n".join(
        [
            "# Command-line start-up",
            "",
            f"- command: `{command.strip()}`",
            f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit() or 'unknown'}",
            f"- machine: {cpu_model()}, {isa()}, {available_cores()} cores usable of {os.cpu_count()}",
            f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}",
            f"- each command run {rounds} times as a fresh process (`{Path(sys.executable).name} -m pokernet ...`)",
            "",
            tabulate(
                table,
                headers=["command", "fastest (s)", "median (s)", f"median < {GOAL_S:g} s"],
                tablefmt="github",
            ),
            "",
            "No command here imports torch (tests/test_cli.py checks `sys.modules`); what is left is",
            "Python's start-up, argparse and the package's small modules (jsonschema, tabulate, yaml).",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="results/benchmarks/cli_startup.md")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    rows = [(label, wall_times(argv, args.rounds)) for label, argv in commands()]
    text = report(rows, (before, os.getloadavg()[0]), args.rounds)
    Path(args.out).write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
