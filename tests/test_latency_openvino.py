"""The OpenVINO runtime's tests (tests/openvino_cases.py), run in their own pytest process.

Why: once OpenVINO's CPU plugin has been loaded and its compiled models garbage-collected in
the shared test process, later tests crashed the whole pytest process (SIGSEGV) at varying
points (DataLoader workers, checkpoint loading); `pokernet latency` processes, which end after
timing, were not affected (every DAG invocation exited 0). A child process keeps that state away
from the rest of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_openvino_cases_pass_in_their_own_process():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "openvino_cases.py"), "-p", "no:cacheprovider", "-rs"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
