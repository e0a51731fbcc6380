"""What made a figure: commit, versions, hardware, date (every artifact states it)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
# The code that makes a result (recipes live in pokernet/recipes): "-dirty" only when one of these differs
# from the commit, never because results/ or work/ hold uncommitted outputs. Paths of the package's own tree.
CODE_PATHS = ("pokernet", "workflow", "Snakefile")
NOT_A_CHECKOUT = "not a git checkout"


def _git(*args: str) -> str:
    """``git -C <the package's parent> ARGS``'s output; OSError/SubprocessError when git fails."""
    return subprocess.run(
        ["git", "-C", str(PACKAGE.parent), *args], capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def git_commit() -> str | None:
    """The commit of the code that runs (``-dirty`` when its code paths differ from it), or None when
    this package is not its own repository's tracked ``pokernet/`` (installed, vendored into another
    repository, git missing): never another repository's commit."""
    try:
        if Path(_git("rev-parse", "--show-toplevel")).resolve() != PACKAGE.parent or not _git(
            "ls-files", "--", PACKAGE.name
        ):
            return None
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
        return _git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def own_version() -> str:
    """This package's installed version, or "unknown"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pokernet-repro")
    except PackageNotFoundError:
        return "unknown"


def code_version(commit: str | None) -> str:
    """What a header prints for the code of ``commit`` (git_commit()'s): the commit, or the installed
    version and that it is not a checkout (never "None")."""
    return commit or f"{NOT_A_CHECKOUT} (pokernet-repro {own_version()})"


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the whole machine)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"python": platform.python_version()}
    for package in ("torch", "torchvision", "timm", "ptflops", "onnxruntime", "openvino", "snakemake"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return found


def hardware_info(threads: Iterable[int]) -> dict[str, Any]:
    """The machine a latency figure was measured on, with the thread counts used."""
    import torch

    return {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "logical_cpus": os.cpu_count(),
        "threads": sorted(set(threads)),
        "isa": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def runtime_versions() -> dict[str, str]:
    """Versions of the libraries a latency figure depends on (``__version__``, build tag included)."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy as np
    import onnx
    import onnxruntime
    import timm
    import torch
    import torchvision

    found = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "timm": timm.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "pokernet": own_version(),
    }
    try:  # declared, but the latency runtimes without it still work when it is missing
        import openvino

        found["openvino"] = openvino.__version__
    except ImportError:
        pass
    try:  # the optional extra of the xnnpack runtime (metadata only: importing it is slow)
        found["executorch"] = version("executorch")
    except PackageNotFoundError:
        pass
    return found


def provenance() -> dict[str, Any]:
    return {
        "git_commit": git_commit(),
        "versions": versions(),
        "hardware": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def provenance_markdown(extra: dict[str, Any] | None = None) -> str:
    """A short block for the header of a results/*.md file."""
    info = provenance()
    lines = [
        f"- git commit: `{code_version(info['git_commit'])}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- hardware: {info['hardware']['cpu']} ({info['hardware']['cores']} cores)",
        f"- date: {info['date']}",
    ]
    lines += [f"- {key}: {value}" for key, value in (extra or {}).items()]
    return "\n".join(lines)
