"""A report interrupted while it writes (issue 28, item 6): SIGINT or SIGHUP arriving between a
temporary file's content and its rename leaves every output as it was (the previous table, whole) and
no half-written file under an output's name; the next run writes the table and removes what the
killed one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work/default"
COMPLEXITY = [str(p) for p in sorted((WORK / "complexity").glob("*.json"))]
RUNS = [str(p) for p in sorted((WORK / "runs").glob("pokernet_050*/seed*/metrics.json"))]

# the signal arrives once the first temporary file is on disk, before any rename
SCRIPT = """
import os, signal, sys
real_fsync = os.fsync
def fsync_then_signal(fd):
    real_fsync(fd)
    os.fsync = real_fsync
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
os.fsync = fsync_then_signal
from pokernet.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _table4(out: Path) -> list[str]:
    return ["report", "table4", "--complexity", *COMPLEXITY, "--runs", *RUNS, "--out", str(out)]


def _report(argv: list[str], signal_name: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", SCRIPT, signal_name, *argv] if signal_name else [sys.executable, "-m", "pokernet"]
    if not signal_name:
        command += argv
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGHUP"])
def test_a_report_interrupted_while_writing_leaves_the_previous_table_whole(tmp_path, signal_name):
    out = tmp_path / "t4.md"
    previous = {out: "the previous table\n", out.with_suffix(".csv"): "the,previous\n"}
    for path, text in previous.items():
        path.write_text(text)
    done = _report(_table4(out), signal_name)
    assert done.returncode != 0
    if signal_name == "SIGHUP":
        assert done.returncode == -signal.SIGHUP  # killed at once: no handler ran
    for path, text in previous.items():
        assert path.read_text() == text  # never half-written, never the new .md beside the old .csv
    names = {p.name for p in tmp_path.iterdir()}
    assert names - {"t4.md", "t4.csv"} <= {n for n in names if n.startswith((".t4.md.", ".t4.csv.", ".t4.json."))}
    again = _report(_table4(out), None)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t4.csv", "t4.json", "t4.md"]  # no temporary left
    assert out.read_text() != previous[out]
