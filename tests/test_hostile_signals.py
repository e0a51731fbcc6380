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
# as at a terminal, whatever the runner inherited (a job started in the background ignores SIGINT, nohup SIGHUP)
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
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


@pytest.mark.slow
def test_two_resumes_of_one_run_at_once_give_one_run(tmp_path, train_args):
    """Last round's resume race (X26) with two real processes: one continues the run; the other finds it
    finished or in use, in one line; the run is whole (2 epochs, one metrics.json)."""
    import json

    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(
        [sys.executable, "-m", "pokernet", *train_args(run, "--epochs", "2", "--stop-after", "1")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    argv = [sys.executable, "-m", "pokernet", *train_args(run, "--epochs", "2", "--resume")]
    both = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in "ab"]
    results = [(p.wait(timeout=300), *p.communicate()) for p in both]
    assert 0 in [code for code, _, _ in results], results
    for code, _, err in results:
        if code != 0:
            assert code == 2 and len(err.strip().splitlines()) == 1 and "in use by another process" in err, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]) == 2
    assert not (run / ".pokernet.lock").exists()
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
