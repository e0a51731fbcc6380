"""The one rule that says a training run diverged, so that it is never scored as a result.

A run diverged when either

1. a loss in its history is not finite (NaN or inf), or
2. it blew up at the start and never recovered: the epoch-1 train loss is above
   ``START_FACTOR`` x ln(C) (ln C is the loss of a uniform guess over C classes, the loss at
   initialisation) AND the final validation top-1 is below ``CHANCE_FACTOR`` x chance (100/C %).

Both conditions of 2 are needed: a high first loss that training then brings down is a slow start
(MobileNetV3-L 0.75x, epoch-1 loss 4.27 = 1.85 x ln 10, ends at 61.4%), and a low final accuracy
without a blow-up is a weak model, not a diverged one. The factors sit far from the committed default
runs (Fashion-MNIST, 10 classes, 4 epochs, work/default/runs at commit df45132): ShuffleNetV1 0.5x g8 and
1.0x g3 start at 21.12 / 19.14 (9.2 / 8.3 x ln 10) and end at 19.33% / 24.84% top-1 (train top-1 19% / 24%:
not trained); every other run starts at <= 4.27 (1.85 x ln 10) and ends at >= 59.31% (MobileNetV2 0.35x).
So 3 x ln C (6.91 at C = 10) and 3 x chance (30% at C = 10) separate them with margin on both sides.

``history`` is the per-epoch list that metrics.json records (keys epoch, train_loss, val_loss,
val_top1, ...; val_* are None on epochs that were not evaluated). A leaf module: no pokernet import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

START_FACTOR = 3.0
CHANCE_FACTOR = 3.0
LOSS_KEYS = ("train_loss", "val_loss")


def divergence_reason(history: Sequence[dict[str, Any]], num_classes: int) -> str | None:
    """None when the run trained; otherwise one sentence saying which part of the rule it meets."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    for row in history:
        for key in LOSS_KEYS:
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                return f"epoch {row.get('epoch', '?')}: {key} is not finite ({value})"
    if not history:
        return None
    start_limit = START_FACTOR * math.log(num_classes)
    chance = 100.0 / num_classes
    evaluated = [row["val_top1"] for row in history if row.get("val_top1") is not None]
    first_loss = history[0].get("train_loss")
    if first_loss is None or not evaluated:
        return None
    final_top1 = evaluated[-1]
    if first_loss > start_limit and final_top1 < CHANCE_FACTOR * chance:
        return (
            f"epoch-1 train loss {first_loss:.2f} > {START_FACTOR:g} x ln({num_classes}) = {start_limit:.2f} "
            f"and final top-1 {final_top1:.2f}% < {CHANCE_FACTOR:g} x chance ({CHANCE_FACTOR * chance:.1f}%)"
        )
    return None
