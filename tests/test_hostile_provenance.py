"""Provenance from the package's own tree (issue 28, Y3): the commit is taken only where the package
folder is its repository's tracked ``pokernet/`` (a copy vendored into another repository, an untracked
copy, an install or a machine without git says "not a git checkout" and the installed version, never
another repository's commit and never ``None``); the ``-dirty`` check looks at that same tree."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def _repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q")
    (path / "README").write_text("another project\n")
    _git(path, "add", "README")
    _git(path, "commit", "-qm", "outer")
    return path


def _copy_package(parent: Path) -> Path:
    shutil.copytree(ROOT / "pokernet", parent / "pokernet", ignore=shutil.ignore_patterns("__pycache__"))
    return parent / "pokernet"


def _provenance_of(package: Path):
    """The copy's own provenance module (loaded from its file: it reads where it lies from __file__)."""
    spec = importlib.util.spec_from_file_location(f"provenance_{abs(hash(package))}", package / "provenance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _header(module) -> str:
    return module.provenance_markdown().splitlines()[0]


def test_a_copy_vendored_into_another_repository_is_not_a_checkout(tmp_path):
    outer = _repo(tmp_path / "outer")
    package = _copy_package(outer / "vendor")
    _git(outer, "add", "vendor")
    _git(outer, "commit", "-qm", "vendor pokernet")
    outer_commit = _git(outer, "rev-parse", "--short", "HEAD")
    (package / "cli.py").write_text("# edited\n")  # a dirty check of the outer tree would see this
    module = _provenance_of(package)
    assert module.git_commit() is None
    assert "not a git checkout" in _header(module) and outer_commit not in _header(module)
    assert "None" not in module.provenance_markdown()


def test_an_untracked_copy_at_a_repositorys_root_is_not_a_checkout(tmp_path):
    outer = _repo(tmp_path / "outer")
    module = _provenance_of(_copy_package(outer))
    assert module.git_commit() is None
    assert "not a git checkout" in _header(module)


def test_the_packages_own_repository_gives_its_commit_and_its_dirt(tmp_path):
    own = _repo(tmp_path / "own")
    package = _copy_package(own)
    (own / "results").mkdir()
    _git(own, "add", "pokernet")
    _git(own, "commit", "-qm", "pokernet")
    commit = _git(own, "rev-parse", "--short", "HEAD")
    module = _provenance_of(package)
    (own / "README").write_text("an output or a note outside the code: not dirt\n")
    assert module.git_commit() == commit
    (package / "cli.py").write_text("# edited\n")
    assert module.git_commit() == f"{commit}-dirty"
    assert _header(module) == f"- git commit: `{commit}-dirty`"


def test_no_git_on_the_path_is_not_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git there
    module = _provenance_of(ROOT / "pokernet")
    assert module.git_commit() is None
    assert _header(module).startswith("- git commit: `not a git checkout (pokernet-repro ")


@pytest.mark.slow
def test_a_vendored_copys_table_header_names_no_other_repository(tmp_path):
    """The issue's case end to end: PYTHONPATH=outer/vendor, a report written from the outer repository."""
    outer = _repo(tmp_path / "outer")
    _copy_package(outer / "vendor")
    _git(outer, "add", "vendor")
    _git(outer, "commit", "-qm", "vendor pokernet")
    out = tmp_path / "t3.md"
    env = {**os.environ, "PYTHONPATH": str(outer / "vendor")}
    argv = ["report", "table3", "--latency", str(ROOT / "work/default/latency/latency.json"), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "pokernet", *argv], cwd=outer, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert "not a git checkout" in text and _git(outer, "rev-parse", "--short", "HEAD") not in text
    assert "`None`" not in text
