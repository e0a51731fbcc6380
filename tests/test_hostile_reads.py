"""Hostile inputs read (issue 28, Y2 and the classes not tried before): every JSON/YAML input and every
archive member is bounded before it is read (declared size) and while it is read (read size), so memory
stays bounded: a compression bomb, a 200 MB metrics.json and a half-written one are one line, exit 2; a
runs list of 10,000 files costs each file once."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import cli_fails

from pokernet import fileio, schemas

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work/default"
COMPLEXITY = [str(p) for p in sorted((WORK / "complexity").glob("*.json"))]
RUN = WORK / "runs/pokernet_050/seed0/metrics.json"
MEMBER = "study/runs/pokernet_050/seed0/metrics.json"


class _Spaces(io.RawIOBase):
    """``size`` spaces, made as they are read (a bomb's content never sits in memory here)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b" " * count
        self.left -= count
        return count


def _bomb(path: Path, size: int) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(MEMBER)
        info.size = size
        tar.addfile(info, io.BufferedReader(_Spaces(size)))
    return path


def test_read_limited_refuses_a_declared_size_before_reading():
    source = io.BytesIO(b"{}")
    with pytest.raises(ValueError, match=r"^a.json: 101 bytes, over the 100-byte limit"):
        fileio.read_limited(source, "a.json", declared=101, limit=100)
    assert source.tell() == 0  # nothing read


def test_read_limited_refuses_more_than_it_declared_as_it_reads():
    source = io.BytesIO(b" " * 1000)
    with pytest.raises(ValueError, match=r"^a.json: more than the 100-byte limit"):
        fileio.read_limited(source, "a.json", declared=10, limit=100)
    assert source.tell() <= 101  # stopped one byte past the limit
    assert fileio.read_limited(io.BytesIO(b"x" * 100), "a.json", limit=100) == b"x" * 100  # the limit itself is fine


@pytest.mark.slow
def test_a_compression_bomb_archive_is_one_line_and_memory_stays_bounded(tmp_path):
    """The issue's case: a ~4 MB archive of a 1 GiB metrics.json of spaces (it took 2.8 GB resident)."""
    archive = _bomb(tmp_path / "bomb.tar.gz", 2**30)
    assert archive.stat().st_size < 8 * 2**20
    script = (
        "import resource, sys\n"
        "import pokernet.study.cli, pokernet.study.ingest\n"
        "from pokernet.cli import build_parser, main\n"
        "build_parser()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "code = main(sys.argv[1:])\n"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(code)\n"
    )
    argv = ["study", "ingest", str(archive), "--work-dir", str(tmp_path / "work")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert MEMBER in done.stderr and "1,073,741,824 bytes, over the 16,777,216-byte limit" in done.stderr
    before, peak = (int(v) for v in done.stdout.split())  # KiB
    assert peak - before < 100 * 1024, f"the ingest grew resident memory by {(peak - before) // 1024} MB"
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_an_oversized_study_json_is_refused_too(tmp_path, capsys):
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("study/study.json")
        info.size = fileio.READ_LIMIT + 1
        tar.addfile(info, io.BufferedReader(_Spaces(info.size)))
    cli_fails(["study", "ingest", str(archive), "--work-dir", str(tmp_path / "w")], capsys, "study/study.json", "limit")


def _table4(runs: list[str], out: Path) -> list[str]:
    return ["report", "table4", "--complexity", *COMPLEXITY, "--runs", *runs, "--out", str(out)]


def test_a_200_mb_metrics_json_is_one_line(tmp_path, capsys):
    big = tmp_path / "runs/pokernet_050/seed0/metrics.json"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.truncate(200 * 2**20)  # sparse: 200 MB declared, no disk used
    cli_fails(_table4([str(big)], tmp_path / "t4.md"), capsys, str(big), "209,715,200 bytes", "limit")
    assert not (tmp_path / "t4.md").exists()


def test_an_oversized_recipe_is_one_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    with recipe.open("wb") as handle:
        handle.truncate(fileio.READ_LIMIT + 1)
    with pytest.raises(ValueError, match="r.yaml: .* over the .*-byte limit"):
        schemas.load_yaml(recipe)


@pytest.mark.parametrize("cut", [0, 1, 100, -2])
def test_a_half_written_metrics_json_is_one_line_naming_it(tmp_path, capsys, cut):
    """Another process's writer (not ours: ours are atomic) left a metrics.json cut short."""
    half = tmp_path / "runs/pokernet_050/seed0/metrics.json"
    half.parent.mkdir(parents=True)
    half.write_bytes(RUN.read_bytes()[:cut])
    cli_fails(_table4([str(half)], tmp_path / "t4.md"), capsys, str(half), "not valid JSON")
    assert half.read_bytes() == RUN.read_bytes()[:cut] and not (tmp_path / "t4.md").exists()


def test_ten_thousand_inputs_are_each_looked_at_once(tmp_path, monkeypatch):
    inputs = [tmp_path / f"r{i}.json" for i in range(10_000)]
    outputs = [tmp_path / "t4.md", tmp_path / "t4.csv"]
    for path in inputs + outputs:
        path.touch()  # existing outputs: each compared by file too
    calls = []
    stat = os.stat
    monkeypatch.setattr(fileio.os, "stat", lambda *a, **k: calls.append(a) or stat(*a, **k))
    fileio.check_outputs(outputs, inputs)
    assert len(calls) < 4 * len(inputs)  # was 4 per output and input: 80,000


@pytest.mark.slow
def test_a_runs_list_of_ten_thousand_files_is_linear(tmp_path):
    """10,000 distinct runs (the committed run with its seed and first loss changed) load in linear time:
    CPU seconds of 10,000 stay within 3x of 5x those of 2,000 (no pairwise step)."""
    from pokernet.report.inputs import load_runs
    from pokernet.train.recipe import config_hash

    base = json.loads(RUN.read_text())
    paths = []
    for seed in range(10_000):
        data = dict(base, seed=seed, config=dict(base["config"], seed=seed))
        data["config_hash"] = config_hash(data["config"])
        data["history"] = [dict(base["history"][0], train_loss=base["history"][0]["train_loss"] + seed * 1e-9)]
        data["history"] += base["history"][1:]
        paths.append(tmp_path / f"r{seed}.json")
        paths[-1].write_text(json.dumps(data))
    times = []
    for count in (2_000, 10_000):
        start = os.times()
        assert len(load_runs(paths[:count])) == count
        end = os.times()
        times.append(end.user + end.system - start.user - start.system)
    assert times[1] < 3 * 5 * times[0], times
