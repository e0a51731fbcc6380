"""Hostile paths (issue 28, Y1/Y4/Y5): an output name is a name, never a pattern (the clean-up of an
interrupted write removes only the writer's own temporary files); a path the system cannot look up (a
name over 255 bytes, a path over 4096, a symlink loop) is one line, exit 2, before any work; a failed
write to standard output (a full disk, a closed pipe) is one line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_fails, run_cli

from pokernet import fileio

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work/default"
LATENCY = str(WORK / "latency/latency.json")
COMPLEXITY = [str(p) for p in sorted((WORK / "complexity").glob("*.json"))]
RUNS = [str(p) for p in sorted((WORK / "runs").glob("pokernet_050*/seed*/metrics.json"))]
LONG = "x" * 300

# names a glob would expand: every one must match only itself
GLOB_NAMES = ["*.md", "?.md", "[a-z].md", "[!x]*.md", "**.md"]


def _bystanders(folder: Path) -> dict[Path, str]:
    """Files a glob of the hostile names would have matched, none of them the writer's own."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [".notes.md.backup.md", ".x.md.old.md", ".a.md.k1ll3d_0.md", ".x.md.12345678.tmp", ".b.md.zz.tmp", "x.md"]
    files = {folder / name: f"keep {name}" for name in names}
    for path, text in files.items():
        path.write_text(text)
    return files


def _survived(files: dict[Path, str]) -> None:
    for path, text in files.items():
        assert path.is_file() and path.read_text() == text, f"{path.name} was touched"


@pytest.mark.parametrize("name", GLOB_NAMES)
def test_the_clean_up_takes_a_name_literally(tmp_path, name):
    files = _bystanders(tmp_path)
    own = [tmp_path / f".{name}.abcd_123.tmp", tmp_path / f".{name}.k1ll3d_0.md"]
    for path in own:
        path.write_text("half")
    assert sorted(fileio.remove_stale_temporaries(tmp_path, (name,))) == sorted(own)
    _survived(files)


def test_the_clean_up_removes_only_the_writers_own_form(tmp_path):
    kept = [".t3.md.backup.md", ".t3.md.tmp", ".t3.md..tmp", ".t3.md.ABCDEFGH.tmp", ".t3.md.abcdefghi.tmp"]
    for name in kept:
        (tmp_path / name).write_text("mine")
    (tmp_path / ".t3.md.abcdefgh.tmp").mkdir()  # a folder of that form is not a temporary file
    (tmp_path / ".t3.md.abcdefg1.tmp").symlink_to(tmp_path / ".t3.md.tmp")  # nor a link
    assert fileio.remove_stale_temporaries(tmp_path, ("t3.md",)) == []
    assert len(list(tmp_path.iterdir())) == len(kept) + 2


def _table3(out: str) -> list[str]:
    return ["report", "table3", "--latency", LATENCY, "--out", out]


def _table4(out: str) -> list[str]:
    return ["report", "table4", "--complexity", *COMPLEXITY, "--runs", *RUNS, "--out", out]


def test_the_issues_case_table3_out_star_keeps_a_planted_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g").mkdir()
    (tmp_path / "g/.notes.md.backup.md").write_text("keep\n")
    code, _, err = run_cli(_table3("g/*.md"), capsys)
    assert code == 0, err
    assert (tmp_path / "g/.notes.md.backup.md").read_text() == "keep\n"
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["*.md", ".notes.md.backup.md"]


@pytest.mark.parametrize("name", GLOB_NAMES)
@pytest.mark.parametrize("writer", [_table3, _table4])
def test_a_report_named_by_a_glob_touches_no_other_file(tmp_path, capsys, writer, name):
    files = _bystanders(tmp_path / "g")
    code, _, err = run_cli(writer(str(tmp_path / "g" / name)), capsys)
    assert code == 0, err
    assert (tmp_path / "g" / name).is_file()
    _survived(files)


@pytest.mark.slow
def test_a_figure_named_by_a_glob_touches_no_other_file(tmp_path, capsys):
    files = _bystanders(tmp_path)
    planted = {tmp_path / ".f.png.backup.png": "keep", tmp_path / ".a.png.k1ll3d_0.png": "keep"}
    for path, text in planted.items():
        path.write_text(text)
    code, _, err = run_cli(["report", "fig5", "--out", str(tmp_path / "[a-z].png")], capsys)
    assert code == 0, err
    _survived({**files, **planted})


@pytest.mark.slow
def test_a_run_folder_named_by_a_glob_touches_no_other_file(tmp_path, capsys, train_args, train_keep_threads):
    files = _bystanders(tmp_path)
    run = tmp_path / "r[a-z]*?"
    run.mkdir()
    planted = {run / ".metrics.json.backup.json": "keep", run / ".checkpoint.pt.old.tmp": "keep"}
    for path, text in planted.items():
        path.write_text(text)
    code, _, err = run_cli(train_args(run, "--stop-after", "1"), capsys)
    assert code == 0, err
    _survived({**files, **planted})


# ------------------------------------------------------------------ names the system cannot look up (Y4)


@pytest.mark.parametrize(
    "argv, message",
    [
        (lambda t: _table3(f"{t}/{LONG}/t3.md"), "has a name of 300 bytes"),
        (lambda t: _table3(f"{t}/{LONG}.md"), "has a name of 303 bytes"),
        (lambda t: _table3(f"{t}/" + "a/" * 2500 + "t3.md"), "over the 4095 a path may have"),
        (lambda t: _table3(f"{t}/loop/t3.md"), "Too many levels of symbolic links"),
        (lambda t: _table4(f"{t}/{LONG}/t4.md"), "has a name of 300 bytes"),
        (lambda t: ["report", "table3", "--latency", f"{t}/{LONG}.json", "--out", f"{t}/t3.md"], "input"),
        (lambda t: ["train", "--model", "pokernet_050", "--data", "cifar10", "--out", f"{t}/{LONG}"], "--out"),
        (lambda t: ["train", "--model", "pokernet_050", "--data", "cifar10", "--out", "y" * 5000], "5000 bytes"),
        (lambda t: ["train", "--model", "pokernet_050", "--data", "cifar10", "--data-root", LONG], "--data-root"),
        (lambda t: ["train", "--model", "pokernet_050", "--data", "cifar10", "--data-root", f"{t}/loop"], "symbolic"),
        (lambda t: ["study", "ingest", f"{t}/{LONG}.tar.gz", "--work-dir", f"{t}/w"], "study archive"),
        (lambda t: ["study", "ingest", f"{t}/a.tar.gz", "--work-dir", f"{t}/{LONG}"], "--work-dir"),
    ],
)
def test_a_path_the_system_cannot_look_up_is_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "a.tar.gz").write_bytes(b"")
    before = sorted(tmp_path.iterdir())
    cli_fails(argv(tmp_path), capsys, message)
    assert sorted(tmp_path.iterdir()) == before  # nothing made


def test_path_problem_answers_and_passes_what_is_fine(tmp_path):
    assert fileio.path_problem(tmp_path / "absent/deeper/x.md") is None
    assert fileio.path_problem(tmp_path / ("n" * 255)) is None
    assert "256 bytes" in fileio.path_problem(tmp_path / ("n" * 256))
    assert "bytes" in fileio.path_problem("é" * 128)  # bytes, not characters: 256 of them


# ------------------------------------------------------------------ standard output (Y5)


def _pokernet(argv: list[str], stdout) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from pokernet.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=120
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_disk_on_standard_output_is_one_line():
    with open("/dev/full", "w") as full:
        done = _pokernet(["models"], full)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "pokernet models: error: cannot write standard output: No space left on device"


@pytest.mark.slow
def test_a_closed_pipe_on_standard_output_is_one_line():
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: every write is EPIPE
    try:
        done = _pokernet(["models"], write)
    finally:
        os.close(write)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "pokernet models: error: cannot write standard output: Broken pipe"
