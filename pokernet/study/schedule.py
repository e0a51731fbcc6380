"""The accumulating CIFAR-10 study: a fixed list of (arm, seed) runs at the recipe's full epochs,
which of them a work dir already holds, and which of the missing ones fit a GPU window.

Order (the recipe's ``study`` fields give the seed counts): the key arms first, seed by seed, a
PokerNet arm next to its GhostNet reference (pokernet_050, ghostnet_050, pokernet_100,
ghostnet_100 for seed 0, then seed 1, ...), then the ablation arms seed by seed. A window trains
the longest prefix of the missing runs whose estimated cost fits its budget; a run is never cut
short, so a run that does not fit is not started.

The budget rule: ``fixed_s + sum(run images) / img_per_s * (1 + margin) <= budget_s``, with
``img_per_s`` a measured rate (summed over the runs trained together) and ``fixed_s`` the set-up
and evaluation time of a window. Nothing here needs torch."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pokernet.models.variant import Variant

from .arms import STUDY_ARMS

CIFAR10_TRAIN_IMAGES = 50_000


@dataclass(frozen=True, order=True)
class Run:
    arm: Variant
    seed: int

    def __str__(self) -> str:
        return f"{self.arm.name} seed {self.seed}"


def key_arms() -> list[Variant]:
    """PokerNet at each width followed by its GhostNet reference."""
    pairs = [(arm, arm.reference) for arm in STUDY_ARMS if not arm.ablation and arm.reference is not None]
    return [arm for pair in pairs for arm in pair]


def study_schedule(study: dict[str, Any]) -> list[Run]:
    """Every run of the study in training order (``study``: the recipe's ``study`` fields)."""
    ablation_arms = [arm for arm in STUDY_ARMS if arm.ablation]
    return [Run(arm, seed) for seed in range(study["key_seeds"]) for arm in key_arms()] + [
        Run(arm, seed) for seed in range(study["ablation_seeds"]) for arm in ablation_arms
    ]


def missing_runs(schedule: list[Run], done: Iterable[Run]) -> list[Run]:
    held = set(done)
    return [run for run in schedule if run not in held]


@dataclass(frozen=True)
class Budget:
    """What a window may spend, and the measured rate its cost is estimated from."""

    budget_s: float
    img_per_s: float  # measured, summed over the runs trained together
    margin: float  # the safety margin on training time (0.25: x 1.25)
    fixed_s: float  # set-up (data, build, capture, measuring) + evaluation of a window

    def seconds(self, runs: int, images_per_run: int) -> float:
        return self.fixed_s + runs * images_per_run / self.img_per_s * (1 + self.margin)

    def fits(self, runs: int, images_per_run: int) -> bool:
        return self.seconds(runs, images_per_run) <= self.budget_s

    def most_runs(self, images_per_run: int) -> int:
        """The most runs whose estimated cost fits (0: not even one)."""
        left = self.budget_s - self.fixed_s
        return max(0, math.floor(left * self.img_per_s / (images_per_run * (1 + self.margin))))


def run_images(epochs: int, batch_size: int, train_images: int = CIFAR10_TRAIN_IMAGES) -> int:
    """Images one run trains: whole batches only, as the fused trainer steps."""
    return epochs * (train_images // batch_size) * batch_size


def next_runs(missing: list[Run], budget: Budget, images_per_run: int) -> list[Run]:
    return missing[: budget.most_runs(images_per_run)]


def seed_groups(runs: list[Run]) -> list[tuple[tuple[Variant, ...], tuple[int, ...]]]:
    """The runs as (arms, seeds) blocks, each trained as one study (every arm of a block has the
    same seeds, as the fused trainer needs), blocks in the order their first run is scheduled."""
    seeds_of: dict[Variant, list[int]] = defaultdict(list)
    for run in runs:
        seeds_of[run.arm].append(run.seed)
    blocks: dict[tuple[int, ...], list[Variant]] = {}
    for arm, seeds in seeds_of.items():
        blocks.setdefault(tuple(seeds), []).append(arm)
    return [(tuple(arms), seeds) for seeds, arms in blocks.items()]


def windows_left(missing: int, images_per_run: int, budget: Budget) -> int | None:
    """GPU windows of ``budget`` that finish ``missing`` runs (None: a run never fits one)."""
    per_window = budget.most_runs(images_per_run)
    if missing == 0:
        return 0
    return math.ceil(missing / per_window) if per_window else None


def complete_seeds(held: Iterable[Run]) -> tuple[list[int], list[int]]:
    """The seeds the profile's tables can use: (seeds with every key arm held: Table 2's pairs,
    seeds with every PokerNet arm and every ablation arm held: Tables 4 and 5)."""
    seeds_of: dict[Variant, set[int]] = defaultdict(set)
    for run in held:
        seeds_of[run.arm].add(run.seed)

    def common(arms: list[Variant]) -> list[int]:
        return sorted(set.intersection(*(seeds_of[arm] for arm in arms))) if arms else []

    ablation_arms = [arm for arm in STUDY_ARMS if arm.ablation or arm.reference is not None]
    return common(key_arms()), common(ablation_arms)
