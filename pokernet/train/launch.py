"""A training job's processes and devices, decided before any work: the device contract (a job
that asks for GPUs gets them or stops with one line naming what is missing) and the launch of
several processes per node, on one node or several (torchrun's c10d rendezvous).

``pokernet train --procs-per-node N --nodes K`` re-executes itself under torchrun (unless it is
already a torchrun rank): ``--standalone`` on one node; on K nodes every node runs the same
command (``srun --nodes K --ntasks-per-node 1``) and meets the others at ``--rdzv-endpoint``.
``--threads`` is the job's CPU threads on one node, split evenly among its processes.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch

NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def cuda_problem(wanted: int) -> str | None:
    """Why ``wanted`` CUDA devices cannot be had here, in one phrase; None when they can."""
    if torch.version.cuda is None:
        return f"this torch build has no CUDA (torch {torch.__version__})"
    if not torch.cuda.is_available():
        if not NVIDIA_DRIVER.exists():
            return "no NVIDIA driver on this machine (no GPU, or none given to this job)"
        driver = NVIDIA_DRIVER.read_text(errors="replace").split("\n", 1)[0].strip()
        return (
            f"CUDA is not usable: torch {torch.__version__} is built for CUDA {torch.version.cuda}, "
            f"the driver is '{driver}' (too old for this wheel?)"
        )
    visible = torch.cuda.device_count()
    if visible < wanted:
        shown = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
        return f"asked for {wanted} GPUs per node, CUDA sees {visible} (CUDA_VISIBLE_DEVICES={shown})"
    return None


def check_devices(device: str, procs_per_node: int, full_size_data: bool) -> None:
    """The device contract, before anything is loaded. ``cuda``: one GPU per process or a
    one-line error. ``auto`` on a full-size data set without CUDA: an error too (CPU training
    of an ImageNet-size run only when asked for with ``--device cpu``)."""
    if device == "cuda" and (problem := cuda_problem(procs_per_node)):
        raise ValueError(f"--device cuda: {problem}")
    if device == "auto" and full_size_data and (problem := cuda_problem(1)):
        raise ValueError(
            f"a full-size ImageNet run and no GPU: {problem}; give --device cpu to train "
            f"on the CPU anyway, or --subset N for a small run"
        )


def torchrun_argv(procs_per_node: int, nodes: int, rdzv_endpoint: str | None, job_id: str) -> list[str]:
    """The torchrun command that starts this node's processes of the job (then the same argv)."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(procs_per_node)]
    if nodes == 1:
        return [*launcher, "--standalone"]
    if not rdzv_endpoint:
        raise ValueError(
            f"--nodes {nodes} needs --rdzv-endpoint HOST:PORT (the first node's, e.g. "
            f"$(hostname):29500 in the job script)"
        )
    return [
        *launcher,
        "--nnodes",
        str(nodes),
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        rdzv_endpoint,
        "--rdzv-id",
        job_id,
    ]


def relaunch_under_torchrun(procs_per_node: int, nodes: int, rdzv_endpoint: str | None) -> None:
    """Replace this process by torchrun running the same ``pokernet`` command on every rank."""
    job_id = os.environ.get("SLURM_JOB_ID", "pokernet")
    argv = [*torchrun_argv(procs_per_node, nodes, rdzv_endpoint, job_id), "-m", "pokernet", *sys.argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    # SLURM's SIGUSR1 ahead of the time limit reaches every process of the step: torchrun (which
    # would die of it, and its ranks with it) ignores it, inherited through exec; each rank catches
    # it and stops at its epoch's end (continuity.py).
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    os.execv(sys.executable, argv)
