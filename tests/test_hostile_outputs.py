"""Hostile input (issue 21): one writer for every output (pokernet.fileio.write_all and check_outputs):
the output checked before the work (writable, not a folder, not one of the command's inputs), a full
disk or a permission error as one line, multi-file outputs all-or-nothing, temporary files cleaned."""

from __future__ import annotations

import errno
import os
import tarfile
from pathlib import Path

import pytest
from conftest import cli_fails, run_cli
from test_hostile_input import read_only  # noqa: F401  (the fixture)
from test_study import _archive, _study_run, study_archive, tiny_metrics  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work/default"
COMPLEXITY = [str(p) for p in sorted((WORK / "complexity").glob("*.json"))]
RUNS = [str(p) for p in sorted((WORK / "runs").glob("pokernet_050*/seed*/metrics.json"))]


def _table4(out: Path | str) -> list[str]:
    return ["report", "table4", "--complexity", *COMPLEXITY, "--runs", *RUNS, "--out", str(out)]


def test_a_report_never_overwrites_its_input(tmp_path, capsys):
    latency = tmp_path / "lat.json"
    latency.write_bytes((WORK / "latency/latency.json").read_bytes())
    before = latency.read_bytes()
    cli_fails(
        ["report", "table3", "--latency", str(latency), "--out", str(latency)], capsys, "is also one of the inputs"
    )
    assert latency.read_bytes() == before
    run = tmp_path / "metrics.json"
    run.write_bytes(Path(RUNS[0]).read_bytes())
    cli_fails(
        ["report", "table4", "--complexity", *COMPLEXITY, "--runs", str(run), *RUNS[1:], "--out", str(run)],
        capsys,
        "is also one of the inputs",
    )
    assert run.read_bytes() == Path(RUNS[0]).read_bytes()


def test_a_report_out_that_is_a_folder_is_refused(tmp_path, capsys):
    cli_fails(_table4(tmp_path), capsys, "is a folder")


@pytest.mark.parametrize(
    "argv",
    [
        lambda out: _table4(out / "t4.md"),
        lambda out: ["audit", "--out", str(out / "audit.md")],
        lambda out: ["claims", "--out", str(out / "counts.json")],
        lambda out: ["report", "fig5", "--out", str(out / "f.png")],
        lambda out: ["study", "run", "--data-root", str(out), "--out", str(out / "study"), "--epochs", "1"],
    ],
)
def test_outputs_into_a_read_only_folder_are_refused_before_the_work(tmp_path, capsys, read_only, argv):  # noqa: F811
    folder = read_only(tmp_path / "ro")
    cli_fails(argv(folder), capsys, str(folder), "not writable")


def test_a_full_disk_is_one_line_and_leaves_neither_file(tmp_path, capsys, monkeypatch):
    # simulated: a 2 MB tmpfs cannot be mounted here, so the flush to disk fails with ENOSPC
    calls = []

    def disk_full_on_the_second(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pokernet.fileio.os.fsync", disk_full_on_the_second)
    cli_fails(_table4(tmp_path / "t4.md"), capsys, "cannot write", "t4.csv", "No space left on device")
    assert list(tmp_path.iterdir()) == []  # no .md without its .csv, no temporary file


def test_a_killed_figure_write_is_cleaned_by_the_next(tmp_path, capsys):
    orphans = [tmp_path / ".fig5.png.k1ll3d_0.png", tmp_path / ".fig5.png.k1ll3d_0.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"half")
    code, _, err = run_cli(["report", "fig5", "--out", str(tmp_path / "fig5.png")], capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig5.png"]


def test_a_study_ingest_into_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "work"
    target.write_text("not a folder")
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(RUNS[0], arcname="study/runs/pokernet_050/seed0/metrics.json")
    code, _, err = run_cli(["study", "ingest", str(archive), "--work-dir", str(target)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert target.read_text() == "not a folder"


# ------------------------------------------------------------------ study ingest: checked first, all or nothing


@pytest.fixture
def study_archive_of_two(tmp_path, tiny_metrics):  # noqa: F811
    return _archive(
        tmp_path,
        {
            "runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics),
            "runs/ghostnet_050/seed0/metrics.json": _study_run(tiny_metrics, "ghostnet_050"),
            "study.json": {"status": "complete"},
        },
    )


def _ingest(archive: Path, work: Path) -> list[str]:
    return ["study", "ingest", str(archive), "--work-dir", str(work)]


def test_a_study_ingest_into_a_read_only_folder_is_refused(tmp_path, capsys, read_only, study_archive_of_two):  # noqa: F811
    work = read_only(tmp_path / "work")
    cli_fails(_ingest(study_archive_of_two, work), capsys, str(work), "not writable")


def test_a_study_ingest_whose_target_is_a_folder_is_refused(tmp_path, capsys, study_archive_of_two):
    work = tmp_path / "work"
    (work / "runs/ghostnet_050/seed0/metrics.json").mkdir(parents=True)
    cli_fails(_ingest(study_archive_of_two, work), capsys, "metrics.json", "is a folder")
    assert not (work / "runs/pokernet_050").exists() and not (work / "study.json").exists()


def test_a_full_disk_during_study_ingest_writes_nothing(tmp_path, capsys, monkeypatch, study_archive_of_two):
    fsync, calls = os.fsync, []

    def disk_full_on_the_second(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return fsync(fd)

    monkeypatch.setattr("pokernet.fileio.os.fsync", disk_full_on_the_second)
    work = tmp_path / "work"
    cli_fails(_ingest(study_archive_of_two, work), capsys, "cannot write", "No space left on device")
    assert [p for p in work.rglob("*") if p.is_file()] == []  # no half ingest, no study.json, no .tmp


def test_a_deeply_nested_study_member_is_one_line(tmp_path, capsys):
    member = "runs/pokernet_050/seed0/metrics.json"
    folder = tmp_path / "content"
    (folder / member).parent.mkdir(parents=True)
    (folder / member).write_text("[" * 100000 + "]" * 100000)
    archive = tmp_path / "deep.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="study")
    cli_fails(_ingest(archive, tmp_path / "work"), capsys, member, "nested deeper than")
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("report", ["table3", "table4"])
def test_a_full_disk_on_any_report_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, report):
    monkeypatch.setattr("pokernet.fileio.os.fsync", lambda fd: _raise(OSError(errno.ENOSPC, "No space left on device")))
    argv = (
        ["report", "table3", "--latency", str(WORK / "latency/latency.json"), "--out", str(tmp_path / "t.md")]
        if report == "table3"
        else _table4(tmp_path / "t.md")
    )
    cli_fails(argv, capsys, "cannot write", "No space left on device")
    assert list(tmp_path.iterdir()) == []


def _raise(error: Exception):
    raise error
