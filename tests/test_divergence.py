"""pokernet.train.divergence: the one rule that a run diverged, on the committed runs' own figures."""

import math

import pytest

from pokernet import schemas
from pokernet.train.divergence import divergence_reason


def _history(first_loss: float, final_top1: float, epochs: int = 4) -> list[dict]:
    rows = [{"epoch": e + 1, "train_loss": 1.0, "val_loss": 1.0, "val_top1": 50.0} for e in range(epochs)]
    rows[0]["train_loss"] = first_loss
    rows[-1]["val_top1"] = final_top1
    return rows


@pytest.mark.parametrize(
    "first_loss, final_top1, diverged",
    [
        (21.12, 19.33, True),  # ShuffleNetV1 0.5x g8, default profile at df45132
        (19.14, 24.84, True),  # ShuffleNetV1 1.0x g3
        (4.27, 61.37, False),  # MobileNetV3-L 0.75x: slow start, trained
        (3.18, 59.31, False),  # MobileNetV2 0.35x
        (2.79, 63.26, False),  # MobileNetV3-S 0.75x
        (21.12, 59.31, False),  # blew up but recovered
        (2.10, 19.33, False),  # weak, never blew up
        (3 * math.log(10) + 0.01, 29.99, True),  # just past both limits
        (3 * math.log(10) - 0.01, 29.99, False),
    ],
)
def test_rule_on_the_committed_figures(first_loss, final_top1, diverged):
    reason = divergence_reason(_history(first_loss, final_top1), 10)
    assert (reason is not None) == diverged
    if diverged:
        assert f"{first_loss:.2f}" in reason and "ln(10) = 6.91" in reason and "30.0%" in reason


def test_non_finite_loss_and_unevaluated_epochs():
    history = _history(2.0, 70.0)
    history[2]["val_loss"] = float("nan")
    assert divergence_reason(history, 10) == "epoch 3: val_loss is not finite (nan)"
    history = _history(20.0, 12.0)
    history[-1]["val_top1"] = None  # the last evaluated epoch counts
    assert divergence_reason(history, 10) is None
    assert divergence_reason([], 10) is None
    with pytest.raises(ValueError, match="num_classes"):
        divergence_reason(history, 1)


def test_schema_takes_null_or_a_reason_only(tmp_path):
    base = {
        "model": "pokernet_050",
        "model_options": {},
        "top1": 19.0,
        "top5": 60.0,
        "epochs": 4,
        "seed": 0,
        "dataset": "fashion_mnist",
        "resolution": 64,
        "config_hash": "x",
    }
    for good in (None, "epoch-1 train loss 21.12 > 3 x ln(10) = 6.91 and ..."):
        schemas.check("metrics", {**base, "diverged": good}, "metrics.json")
    for bad in (True, "", 1):
        with pytest.raises(ValueError, match="diverged must be null"):
            schemas.check("metrics", {**base, "diverged": bad}, "metrics.json")
