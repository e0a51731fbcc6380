"""The training core: what makes a run the run it is, for ``pokernet train`` (``engine.py``) and
the GPU study (``pokernet/study/run.py``) alike — the random streams, the train subset, the epoch
plan (order and augmentation draws), the model build and its seeding, the LR schedule and the
``metrics.json`` record. Orchestration (devices, DDP, fused members, CUDA graphs) lives elsewhere.

The random streams of a run with seed ``s`` (one table, ``STREAMS``): each is a generator seeded by
a hash of (stream, its parts) (``stream_seed``), so no stream of one seed replays a stream of
another seed or epoch (``DistributedSampler``'s seed + epoch made seed s at epoch e replay seed
s+1 at epoch e-1).

==========  =====================  ==============================================================
stream      derived from           what it draws
==========  =====================  ==============================================================
subset      (s)                    the class-balanced train subset (``--subset``): the same for
                                   every arm with seed s, another one for every other seed
order       (s, epoch)             the permutation of the train set for the epoch; under DDP each
                                   rank takes its shard of it (padded, as DistributedSampler does)
augment     (s, epoch, rank)       each batch's crop offsets, flips and jitter factors, in order
init        (s)                    torch's global generator while the model is built (weights)
dropout     (s, rank[, epoch])     torch's global generator while training (dropout masks); the
                                   epoch joins when a run resumes on another number of processes
==========  =====================  ==============================================================

Arms paired by seed therefore see the same images, in the same order, identically augmented.
The validation split is never subset by the seed (for ImageNet's ``--subset``, one fixed draw).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model, model_options
from pokernet.provenance import git_commit

from .divergence import divergence_reason
from .recipe import config_hash
from .rng import derive_seed

STREAMS = {
    "subset": ("seed",),
    "order": ("seed", "epoch"),
    "augment": ("seed", "epoch", "rank"),
    "init": ("seed",),
    "dropout": ("seed", "rank"),
}
VAL_SUBSET_SEED = 0  # the one fixed draw of a subset validation split
SUBSET_DRAW = "class-balanced, drawn by the run's seed (stream 'subset'): shared by the arms of a seed"


def stream_seed(stream: str, *parts: int) -> int:
    """The 63-bit seed of one random stream of ``STREAMS`` for its parts (seed, epoch, rank...)."""
    if stream not in STREAMS:
        raise KeyError(f"unknown random stream {stream!r}; streams: {', '.join(STREAMS)}")
    return derive_seed(stream, *parts)


def stream_generator(stream: str, *parts: int) -> torch.Generator:
    return torch.Generator().manual_seed(stream_seed(stream, *parts))


def seed_global(stream: str, *parts: int) -> None:
    """torch's (CUDA's too) and Python's global generators, seeded for one stream."""
    seed = stream_seed(stream, *parts)
    torch.manual_seed(seed)
    random.seed(seed)


# --------------------------------------------------------------------------- train subset


def class_balanced_indices(labels: torch.Tensor, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """``per_class`` indices of each class (all of a class that has fewer), drawn by one
    permutation from ``generator``, returned sorted."""
    order = torch.randperm(len(labels), generator=generator)
    shuffled = labels[order]
    chosen = [order[shuffled == label][:per_class] for label in labels.unique()]
    return torch.cat(chosen).sort().values


def train_subset(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """The train subset of the run with ``seed`` (stream ``subset``)."""
    return class_balanced_indices(labels, per_class, stream_generator("subset", seed))


def val_subset(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """A subset of the validation split: one fixed draw, whatever the seed."""
    return class_balanced_indices(labels, per_class, torch.Generator().manual_seed(VAL_SUBSET_SEED))


# --------------------------------------------------------------------------- epoch plan


def epoch_order(
    train_size: int, seed: int, epoch: int, batch_size: int, rank: int = 0, world_size: int = 1
) -> torch.Tensor:
    """This rank's batches of one epoch as image indices (steps x batch): the permutation of
    stream ``order`` (seed, epoch), padded to a multiple of ``world_size`` by its first indices and
    dealt round-robin to the ranks; an incomplete last batch is dropped unless it is the only one."""
    order = torch.randperm(train_size, generator=stream_generator("order", seed, epoch))
    padded = -(-train_size // world_size) * world_size
    order = torch.cat([order, order[: padded - train_size]])[rank::world_size]
    per_batch = min(batch_size, len(order))
    steps = max(1, len(order) // batch_size)
    return order[: steps * per_batch].view(steps, per_batch)


def augment_generator(seed: int, epoch: int, rank: int = 0) -> torch.Generator:
    """The generator of one epoch's augmentation draws (stream ``augment``)."""
    return stream_generator("augment", seed, epoch, rank)


@dataclass
class AugmentDraws:
    """The random numbers of one augmented batch, in the order they are drawn."""

    top: torch.Tensor
    left: torch.Tensor
    flip: torch.Tensor
    brightness: torch.Tensor | None
    contrast: torch.Tensor | None
    saturation: torch.Tensor | None

    FIELDS = ("top", "left", "flip", "brightness", "contrast", "saturation")

    def _map(self, change) -> AugmentDraws:
        return AugmentDraws(*[None if (t := getattr(self, f)) is None else change(t) for f in self.FIELDS])

    @classmethod
    def stack(cls, draws: list[AugmentDraws]) -> AugmentDraws:
        return cls(
            *[None if getattr(draws[0], f) is None else torch.stack([getattr(d, f) for d in draws]) for f in cls.FIELDS]
        )

    def to(self, device: torch.device) -> AugmentDraws:
        return self._map(lambda t: t.to(device))

    def __getitem__(self, index: Any) -> AugmentDraws:
        return self._map(lambda t: t[index])

    def flatten(self) -> AugmentDraws:
        return self._map(torch.flatten)


def padding(height: int, width: int, data_cfg: dict[str, Any]) -> list[int]:
    """The zero padding (left, right, top, bottom) before the random crop: the recipe's pad, and
    more where the image is smaller than the crop (torchvision's pad_if_needed)."""
    size, pad = data_cfg["resolution"], data_cfg["pad"]
    grow_y, grow_x = max(0, size - height - 2 * pad), max(0, size - width - 2 * pad)
    return [pad + grow_x // 2, pad + grow_x - grow_x // 2, pad + grow_y // 2, pad + grow_y - grow_y // 2]


def draw_augmentation(
    generator: torch.Generator | None, count: int, height: int, width: int, data_cfg: dict[str, Any], channels: int = 3
) -> AugmentDraws:
    """The draws of the recipe's augmentation for ``count`` images of ``height`` x ``width``
    (before padding), from ``generator`` (torch's global one when None)."""
    size = data_cfg["resolution"]
    left_pad, right_pad, top_pad, bottom_pad = padding(height, width, data_cfg)
    height, width = height + top_pad + bottom_pad, width + left_pad + right_pad
    top = torch.randint(0, height - size + 1, (count,), generator=generator)
    left = torch.randint(0, width - size + 1, (count,), generator=generator)
    flip = torch.rand(count, generator=generator) < 0.5 if data_cfg["hflip"] else torch.zeros(count, dtype=torch.bool)
    jitter = data_cfg["color_jitter"]

    def factor(strength: float, applies: bool = True) -> torch.Tensor | None:
        if not strength or not applies:
            return None
        low, high = max(0, 1 - strength), 1 + strength
        return low + (high - low) * torch.rand(count, generator=generator)

    brightness = factor(jitter["brightness"])
    contrast = factor(jitter["contrast"])
    saturation = factor(jitter["saturation"], channels == 3)
    return AugmentDraws(top, left, flip, brightness, contrast, saturation)


@dataclass
class EpochPlan:
    """One epoch's batches of N seeds: image indices (N x steps x B) and augmentation draws."""

    order: torch.Tensor
    draws: AugmentDraws

    @property
    def steps(self) -> int:
        return self.order.shape[1]

    def to(self, device: torch.device) -> EpochPlan:
        return EpochPlan(self.order.to(device), self.draws.to(device))


def plan_epoch(
    seeds: list[int],
    epoch: int,
    pools: list[torch.Tensor],
    batch_size: int,
    image_hw: tuple[int, int],
    data_cfg: dict[str, Any],
    channels: int = 3,
    rank: int = 0,
    world_size: int = 1,
) -> EpochPlan:
    """The epoch of each seed: ``pools[i]`` holds the indices (into the split held in memory) of
    seed i's train set; its batches are drawn from it by the seed's order and augment streams."""
    if len({len(pool) for pool in pools}) > 1:
        raise ValueError(f"the seeds' train sets differ in size ({[len(p) for p in pools]}); fused seeds need one")
    orders, draws = [], []
    for seed, pool in zip(seeds, pools):
        order = pool[epoch_order(len(pool), seed, epoch, batch_size, rank, world_size)]
        generator = augment_generator(seed, epoch, rank)
        orders.append(order)
        draws.append(
            AugmentDraws.stack(
                [
                    draw_augmentation(generator, order.shape[1], *image_hw, data_cfg, channels)
                    for _ in range(order.shape[0])
                ]
            )
        )
    return EpochPlan(torch.stack(orders), AugmentDraws.stack(draws))


# --------------------------------------------------------------------------- model, LR schedule


def build_model(
    name: str, user_options: dict[str, Any], num_classes: int, dropout: float, seed: int
) -> tuple[nn.Module, dict[str, Any]]:
    """The model (weights from stream ``init``) and every option it was built with (the recipe's
    dropout where it takes one)."""
    options = dict(user_options)  # create_model rejects an option the model does not take
    options["num_classes"] = num_classes
    if "drop_rate" in model_options(name):
        options["drop_rate"] = dropout
    seed_global("init", seed)
    return create_model(name, **options), options


def make_optimizer(recipe: dict[str, Any], params: Iterable[torch.Tensor]) -> torch.optim.SGD:
    """The recipe's optimizer (every trainer and benchmark): SGD with its momentum and Nesterov flag, the
    resolved LR and weight decay. (The fused stepper writes the same update with foreach ops.)"""
    optimizer, resolved = recipe["optimizer"], recipe["resolved"]
    return torch.optim.SGD(
        params,
        lr=resolved["lr"],
        momentum=optimizer["momentum"],
        nesterov=optimizer["nesterov"],
        weight_decay=resolved["weight_decay"],
    )


def make_loss(recipe: dict[str, Any]) -> nn.CrossEntropyLoss:
    """The recipe's training loss: cross-entropy with its label smoothing."""
    return nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])


def lr_at(recipe: dict[str, Any], step: int, steps_per_epoch: int) -> float:
    """The LR of optimizer step ``step`` (0-based): a linear warm-up over the recipe's
    ``lr_schedule.warmup_epochs`` (from base/warm-up steps to base), then multistep decay at the
    resolved milestones, both counted in optimizer steps so a short run keeps the fractions."""
    resolved, schedule = recipe["resolved"], recipe["lr_schedule"]
    milestones = [round(epoch * steps_per_epoch) for epoch in resolved["lr_milestones_epochs"]]
    decay = schedule["gamma"] ** sum(1 for milestone in milestones if milestone <= step)
    warmup_steps = round(schedule.get("warmup_epochs", 0) * steps_per_epoch)
    warmup = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    return resolved["lr"] * decay * warmup


def lr_scheduler(
    optimizer: torch.optim.Optimizer, recipe: dict[str, Any], steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """``lr_at`` as a scheduler stepped once per optimizer step (the optimizer's lr = resolved lr)."""
    base = recipe["resolved"]["lr"]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_at(recipe, step, steps_per_epoch) / base)


# --------------------------------------------------------------------------- the record


def run_config(
    model: str,
    options: dict[str, Any],
    recipe: dict[str, Any],
    dataset: str,
    subset: int | None,
    seed: int,
    eval_split: str = "test",
) -> dict[str, Any]:
    """What defines a run (its hash names it): a resumed or ingested run must match it. A run
    evaluated on the validation holdout says so (its train pool excludes the holdout); a run on
    the test split keeps the record (and hash) it always had."""
    holdout = {"eval_split": eval_split} if eval_split != "test" else {}
    return {
        "model": model,
        "model_options": options,
        "recipe": recipe,
        "dataset": dataset,
        "subset_per_class": subset,
        "train_subset": SUBSET_DRAW if subset is not None else "the whole split",
        "seed": seed,
        **holdout,
    }


def metrics_record(
    config: dict[str, Any], history: list[dict[str, Any]], num_classes: int, **measured: Any
) -> dict[str, Any]:
    """metrics.json of a finished run: the final validation figures, whether it diverged (null, or
    the reason by the one rule of ``divergence.py``) and everything needed to trust and redo them.
    ``measured``: data_source, train_size, val_size, wall_time_s, train_img_per_s,
    device, num_threads, world_size, amp_bf16, channels_last, and any extra keys of the trainer."""
    last = history[-1]
    return {
        "model": config["model"],
        "model_options": config["model_options"],
        "top1": last["val_top1"],
        "top5": last["val_top5"],
        "loss": last["val_loss"],
        "train_loss": last["train_loss"],
        "train_top1": last["train_top1"],
        "diverged": divergence_reason(history, num_classes),
        "epochs": config["recipe"]["epochs"],
        "seed": config["seed"],
        "dataset": config["dataset"],
        "subset_per_class": config["subset_per_class"],
        "train_subset": config["train_subset"],
        "resolution": config["recipe"]["data"]["resolution"],
        "recipe": config["recipe"],
        "config": config,
        "config_hash": config_hash(config),
        "torch_version": torch.__version__,
        "git_commit": git_commit(),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **measured,
        "history": history,
    }
