"""The first SGD steps of every Table 2 model on the Fashion-MNIST proxy: why ShuffleNetV1 and
MobileNetV3 diverge in epoch 1 (pokernet/data/proxy_notes.yaml).

Per model, built and fed as ``pokernet train`` builds and feeds it (the proxy recipe's lr, momentum,
weight decay, label smoothing, seed 0): the mean squared norm of the pooled features the classifier
sees at init (|f|²) and of their batch mean (|E f|², the direction along which a 10-class softmax is
steep), the std of the initial logits, the gradient norm of the first step, and the loss and logit
std after ``--steps`` steps. Prints a markdown table (no file is written).

    python benchmarks/proxy_first_steps.py [--steps 6] [--models shufflenetv1_050_g8 ghostnet_050]
"""

from __future__ import annotations

import argparse

import torch
from tabulate import tabulate
from torch import nn

from pokernet.paper import table
from pokernet.train.core import build_model, lr_scheduler, make_loss, make_optimizer, seed_global
from pokernet.train.data import build_pipeline, load_data
from pokernet.train.recipe import load_recipe, resolve_recipe


def classifier(model: nn.Module) -> nn.Module:
    head = model.classifier if hasattr(model, "classifier") else model.fc  # timm/ours : torchvision ShuffleNetV2
    return head[-1] if isinstance(head, nn.Sequential) else head


def first_steps(name: str, data, steps: int, seed: int = 0) -> dict[str, float]:
    recipe = resolve_recipe(load_recipe("proxy_fashion_mnist"), name)
    model, _ = build_model(name, {}, len(data.classes), recipe["dropout"], seed)
    features: list[torch.Tensor] = []
    classifier(model).register_forward_hook(lambda _m, inputs, _o: features.append(inputs[0].detach()))
    pipeline = build_pipeline(data, recipe["data"], recipe["batch_size"], seed=seed, workers=0)
    optimizer = make_optimizer(recipe, model.parameters())
    criterion = make_loss(recipe)
    scheduler = lr_scheduler(optimizer, recipe, pipeline.steps_per_epoch())
    seed_global("dropout", seed, 0)
    model.train()
    row: dict[str, float] = {}
    for step, (x, y) in enumerate(pipeline.train_batches(0)):
        logits = model(x)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
        optimizer.step()
        scheduler.step()
        if step == 0:
            f = features[-1]
            row = {
                "|f|²": f.pow(2).sum(1).mean().item(),
                "|E f|²": f.mean(0).pow(2).sum().item(),
                "logit std 0": logits.std().item(),
                "grad norm 0": grad_norm.item(),
            }
        if step + 1 == steps:
            return {**row, f"loss {steps}": loss.item(), f"logit std {steps}": logits.std().item()}
    raise ValueError(f"the proxy has fewer than {steps} steps in an epoch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--models", nargs="+", default=[row["model"] for row in table("table2")["rows"]])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_data("fashion_mnist", None, 500)
    rows = [{"model": name, **first_steps(name, data, args.steps)} for name in args.models]
    print(tabulate(rows, headers="keys", tablefmt="github", floatfmt=".3g"))


if __name__ == "__main__":
    main()
