"""Snakemake runs that collide (issue 28, item 6): two runs of different targets at once on one work dir
(and a third of the same target), and ``kill -9`` of Snakemake with its training job orphaned, followed by
``--unlock`` and ``--rerun-incomplete``: every run ends whole, nothing trained is lost, and a job that
meets the orphan still holding its run folder says so in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_hostile_workflow import tiny_overlay

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_config(tmp_path, train_image_folder, train_tiny_recipe):
    """The snakemake arguments of a smoke-size work dir (pokernet_050, 18 images of 20x20) and the work dir."""
    content = tiny_overlay(tmp_path, train_image_folder, train_tiny_recipe, epochs=3)
    return ["--configfile", "workflow/config/smoke.yaml", content], tmp_path / "work"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    out, _ = process.communicate(timeout=400)
    return process.returncode, out


def _target(work: Path, seed: int) -> str:
    return str(work / f"runs/pokernet_050/seed{seed}/metrics.json")


def _whole(work: Path, seed: int) -> dict:
    metrics = json.loads(Path(_target(work, seed)).read_text())
    assert metrics["epochs"] == 3 and len(metrics["history"]) == 3 and metrics["seed"] == seed
    assert not (Path(_target(work, seed)).parent / ".pokernet.lock").exists()
    return metrics


def test_two_snakemake_runs_of_different_targets_at_once(tiny_config):
    config, work = tiny_config
    runs = [_start(_target(work, 0), *config), _start(_target(work, 1), *config), _start(_target(work, 0), *config)]
    results = [_finish(process) for process in runs]
    assert results[1][0] == 0, results[1][1][-2000:]
    # The two runs of seed 0's target race for Snakemake's lock: whichever starts second is refused by
    # it (or finds the target done); the other trains it.
    assert 0 in (results[0][0], results[2][0]), [out[-2000:] for _, out in results]
    for code, out in (results[0], results[2]):
        assert code == 0 or "LockException" in out or "cannot be locked" in out, out[-2000:]
    _whole(work, 0), _whole(work, 1)


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 300) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()[0][-2000:]
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.2)


def _orphan_of(run_dir: Path) -> int:
    return int((run_dir / ".pokernet.lock").read_text().split()[0])


def test_kill_9_of_snakemake_with_its_job_orphaned_then_unlock_and_rerun(tiny_config):
    config, work = tiny_config
    run_dir = Path(_target(work, 0)).parent
    first = _start(_target(work, 0), *config)
    _wait_for(run_dir / "checkpoint.pt", first)  # training: its first epoch is on disk
    orphan = _orphan_of(run_dir)
    os.kill(first.pid, signal.SIGKILL)  # Snakemake only: its job trains on, orphaned
    os.kill(orphan, signal.SIGSTOP)  # held (still holding its run folder) while the operator reruns
    try:
        first.wait(timeout=60)
        first.stdout.close()  # the orphan holds the pipe's other end: do not wait for its end
        code, out = _finish(_start(_target(work, 0), *config, "--unlock"))
        assert code == 0, out[-2000:]
        code, out = _finish(_start(_target(work, 0), *config, "--rerun-incomplete"))
        assert code != 0, out[-2000:]  # the job met the orphan's claim
        log = (ROOT / "logs/hostile/train/pokernet_050-seed0.log").read_text()
        assert "in use by another process" in log and f"pid {orphan}" in log and "Traceback" not in log, log[-2000:]
        assert (run_dir / "checkpoint.pt").is_file()  # the orphan's epoch is still there
    finally:
        os.kill(orphan, signal.SIGCONT)
    _wait_gone(orphan)
    # with the orphan gone (it finished the run), the next run keeps or rebuilds the same run: nothing lost
    code, out = _finish(_start(_target(work, 0), *config, "--rerun-incomplete"))
    assert code == 0, out[-3000:]
    _whole(work, 0)


def _orphan_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, seconds: float = 300) -> None:
    end = time.monotonic() + seconds
    while _orphan_alive(pid) and time.monotonic() < end:
        time.sleep(0.5)
    assert not _orphan_alive(pid), f"the orphaned job {pid} still runs"
