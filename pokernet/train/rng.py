"""Random streams of a training run: seeding, per-rank seeds, and the state a checkpoint keeps."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import torch


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed from several parts (a stream's name, seed, rank, ...), without collisions like seed+rank."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state() if torch.cuda.is_initialized() else None,
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_initialized():
        torch.cuda.set_rng_state(state["cuda"])
    random.setstate(state["python"])
