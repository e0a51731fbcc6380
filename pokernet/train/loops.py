"""One training epoch and one evaluation pass (used by the engine and the benchmarks)."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm


@dataclass
class EpochStats:
    loss_sum: float
    correct: float
    images: int
    seconds: float
    nonfinite_step: int | None = None  # 1-based step whose loss was NaN/inf, when one was seen


@dataclass
class StepSettings:
    """How every training step runs.

    ``stop_on_nonfinite`` (one CPU process: reading the loss costs no device sync, and no other
    rank waits in a collective): the epoch stops at a NaN/inf loss, before the weights change.
    ``grad_clip_norm``: the gradient's global norm is clipped to it before each update (the recipe's
    optimizer.grad_clip_norm; under DDP after the all-reduce, so every rank clips alike).
    ``accumulate``: micro-batches per step (DDP syncs the gradients once, after the last)."""

    device: torch.device
    amp: bool = False  # bf16 autocast
    channels_last: bool = False
    stop_on_nonfinite: bool = False
    grad_clip_norm: float | None = None
    accumulate: int = 1


def train_one_epoch(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    criterion: nn.Module,
    settings: StepSettings,
    progress: tqdm | None = None,
    max_steps: int | None = None,
) -> EpochStats:
    """One pass over ``batches`` (the pipeline's time included); LR scheduled per step. A NaN/inf
    loss poisons ``loss_sum``, which the caller checks after the epoch."""
    device = settings.device
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    images = 0
    start = time.perf_counter()
    for step, (x, y) in enumerate(batches):
        if max_steps is not None and step >= max_steps:
            break
        if settings.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad(set_to_none=True)
        logits, loss = _accumulated_step(model, criterion, x, y, settings)
        if settings.stop_on_nonfinite and not math.isfinite(loss.item()):
            return EpochStats(math.nan, correct.item(), images + len(y), time.perf_counter() - start, step + 1)
        if settings.grad_clip_norm:
            nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip_norm)
        optimizer.step()
        scheduler.step()
        loss_sum += loss.detach().float() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        images += len(y)
        if progress is not None:
            progress.update(1)
            if step % 10 == 0:
                progress.set_postfix(loss=f"{loss.item():.3f}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return EpochStats(loss_sum.item(), correct.item(), images, time.perf_counter() - start)


def _accumulated_step(
    model: nn.Module, criterion: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: StepSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and backward of one batch in ``accumulate`` micro-batches (DDP syncs the gradients once,
    after the last); the batch's logits and mean loss."""
    device = settings.device
    logits, loss = [], torch.zeros((), device=device)
    chunks = list(zip(x.chunk(settings.accumulate), y.chunk(settings.accumulate)))
    for index, (x_part, y_part) in enumerate(chunks):
        last = index == len(chunks) - 1
        sync = contextlib.nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        with sync:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=settings.amp):
                part_logits = model(x_part)
                part_loss = criterion(part_logits, y_part) * (len(y_part) / len(y))
            part_loss.backward()
        logits.append(part_logits.detach())
        loss = loss + part_loss.detach()
    return torch.cat(logits), loss


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    amp: bool = False,
    channels_last: bool = False,
    distributed: bool = False,
) -> dict[str, float]:
    """Top-1/top-5 (percent) and mean cross-entropy (no label smoothing) over ``batches``; with
    ``distributed``, each rank holds a shard and the sums are all-reduced."""
    model.eval()
    sums = torch.zeros(4, device=device, dtype=torch.float64)  # loss, top-1, top-5, images
    for x, y in batches:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
        logits = logits.float()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        sums += torch.stack(
            [
                nn.functional.cross_entropy(logits, y, reduction="sum"),
                (top[:, 0] == y).sum(),
                (top == y[:, None]).any(1).sum(),
                torch.tensor(len(y), device=device),
            ]
        ).double()
    if distributed:
        dist.all_reduce(sums)
    loss, top1, top5, count = sums.tolist()
    if count == 0:
        raise ValueError("the validation split is empty")
    return {"top1": 100 * top1 / count, "top5": 100 * top5 / count, "loss": loss / count, "images": int(count)}
