"""Processes and devices: the rank of this process under torchrun, its device, the process
group, and the few collectives the engine uses (each a no-op in a single process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from pokernet.provenance import cpu_model


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    distributed: bool = False  # started by torchrun (even with 1 process): DDP and a process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Ranks:
        """The process's place in a torchrun job (environment variables), or a single process."""
        world = int(os.environ.get("WORLD_SIZE", 1))
        return cls(
            int(os.environ.get("RANK", 0)),
            int(os.environ.get("LOCAL_RANK", 0)),
            world,
            int(os.environ.get("LOCAL_WORLD_SIZE", world)),
            distributed="RANK" in os.environ and "WORLD_SIZE" in os.environ,
        )


def pick_device(choice: str, ranks: Ranks) -> torch.device:
    if choice not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown device {choice!r}; choose auto, cpu or cuda")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda, but CUDA is not available here")
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    torch.cuda.set_device(ranks.local_rank)
    return torch.device("cuda", ranks.local_rank)


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()


@contextmanager
def process_group(ranks: Ranks, device: torch.device) -> Iterator[None]:
    """Start the process group under torchrun (unless the caller did) and end it after."""
    started = ranks.distributed and not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        if started:
            dist.destroy_process_group()


def backend() -> str:
    return dist.get_backend()


def barrier(ranks: Ranks) -> None:
    if ranks.distributed:
        dist.barrier()


def sum_over_ranks(values: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    if ranks.distributed:
        dist.all_reduce(values)
    return values


def share_buffers(model: nn.Module, ranks: Ranks) -> None:
    """BN statistics: rank 0's, so all ranks hold one model."""
    if ranks.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def gather(value: Any, ranks: Ranks) -> list[Any]:
    """``value`` of every rank, in rank order."""
    if not ranks.distributed:
        return [value]
    values: list[Any] = [None] * ranks.world_size
    dist.all_gather_object(values, value)
    return values


def wrap_ddp(model: nn.Module, device: torch.device, ranks: Ranks) -> nn.Module:
    if not ranks.distributed:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
