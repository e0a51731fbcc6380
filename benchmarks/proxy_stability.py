"""Does every Table 2 model train under the proxy recipe? The first epochs under three variants.

Per model, the first ``--train-epochs`` epochs of the default profile's run (``proxy_fashion_mnist``
with the profile's ``--epochs``, 500 images per class, seed 0), trained by ``pokernet train``'s engine
under: the recipe as it is; the recipe without gradient clipping (``optimizer.grad_clip_norm``
null, the paper's); and without clipping but with a 1-epoch linear LR warm-up
(``lr_schedule.warmup_epochs`` 1). Prints each epoch's mean train loss against ln 10 = 2.30 (the
loss of a uniform guess over 10 classes) as a markdown table. Nothing is kept of the runs.

    nice python benchmarks/proxy_stability.py [--models shufflenetv1_050_g8 ...] [--train-epochs 1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from tabulate import tabulate

from pokernet.provenance import cpu_model
from pokernet.train.engine import TrainConfig, train
from pokernet.train.recipe import load_recipe, resolve_recipe

MODELS = [
    "shufflenetv1_050_g8",
    "shufflenetv1_100_g3",
    "mobilenetv2_035",
    "mobilenetv2_060",
    "mobilenetv3_small_075",
    "pokernet_050",
    "ghostnet_050",
]
VARIANTS = {
    "recipe": {},
    "no clipping": {"grad_clip_norm": None},
    "no clipping, 1-epoch warm-up": {"grad_clip_norm": None, "warmup_epochs": 1},
}


def train_losses(
    model: str, epochs: int, train_epochs: int, change: dict, threads: int, out: Path, subset: int
) -> list[float]:
    recipe = resolve_recipe(load_recipe("proxy_fashion_mnist"), model, epochs)
    if "grad_clip_norm" in change:
        recipe["optimizer"]["grad_clip_norm"] = change["grad_clip_norm"]
    recipe["lr_schedule"]["warmup_epochs"] = change.get("warmup_epochs", recipe["lr_schedule"].get("warmup_epochs", 0))
    result = train(
        TrainConfig(
            model=model,
            recipe=recipe,
            dataset="fashion_mnist",
            out_dir=out,
            subset=subset,
            seed=0,
            stop_after=train_epochs,
            threads=threads,
            device="cpu",
            progress=False,
        )
    )
    return [row["train_loss"] for row in result.checkpoint["history"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--epochs", type=int, default=4, help="the profile's epochs (the LR milestones scale)")
    parser.add_argument("--train-epochs", type=int, default=1, help="epochs trained of them")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--subset", type=int, default=500, help="train images per class (the profile's 500)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models:
            row = {"model": model}
            for name, change in VARIANTS.items():
                losses = train_losses(
                    model,
                    args.epochs,
                    args.train_epochs,
                    change,
                    args.threads,
                    Path(folder) / f"{model}-{len(row)}",
                    args.subset,
                )
                row[name] = " / ".join(f"{loss:.3g}" for loss in losses)
            rows.append(row)
    recipe = load_recipe("proxy_fashion_mnist")
    print(
        f"proxy_fashion_mnist (grad_clip_norm {recipe['optimizer'].get('grad_clip_norm')}, warmup_epochs "
        f"{recipe['lr_schedule'].get('warmup_epochs', 0)}), {args.epochs}-epoch schedule, mean train loss of "
        f"epoch(s) 1..{args.train_epochs}, {args.subset} images/class, seed 0, {args.threads} thread(s), "
        f"{cpu_model()}, "
        f"torch {torch.__version__}; ln 10 = 2.30"
    )
    print(tabulate(rows, headers="keys", tablefmt="github"))


if __name__ == "__main__":
    main()
