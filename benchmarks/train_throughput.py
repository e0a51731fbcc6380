"""Training throughput on this machine: what the input pipeline costs.

Trains ``pokernet_100`` at 32x32, batch 128 (the ``cifar10`` recipe's augmentation: zero pad
4, random crop, flip, color jitter, mean subtraction) two ways, in alternating rounds so
both see the same machine load:

- pipeline:  pokernet's in-memory pipeline (uint8 images in memory, augmented per batch
             with tensor ops) feeding forward + backward + SGD step;
- in memory: forward + backward + SGD step on one batch tensor already prepared.

It prints both img/s (median over rounds) and their ratio; the target is ratio >= 0.90. As
the ratio of two timings is noisy on a shared machine, it also times the pipeline alone
(gather + augment, no model) and gives its share of a training step.
The images are random uint8 pixels of CIFAR-10's shape (content does not change speed), so
the benchmark needs no dataset. A benchmark, not a test: run it by hand.

    python benchmarks/train_throughput.py [--threads 2] [--rounds 5] [--steps 8]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch
from torch import nn

from pokernet.models import create_model
from pokernet.provenance import available_cores
from pokernet.train.data import MemoryPipeline, MemorySplit
from pokernet.train.distributed import device_name
from pokernet.train.loops import train_one_epoch
from pokernet.train.recipe import load_recipe, resolve_recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pokernet_100")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--images", type=int, default=4096, help="images held in memory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8, help="training steps per round and way")
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    recipe = resolve_recipe(load_recipe("cifar10"), args.model)
    data_cfg = recipe["data"]
    device = torch.device("cpu")
    images = torch.randint(0, 256, (args.images, 3, 32, 32), dtype=torch.uint8)
    split = MemorySplit(images, torch.randint(0, 10, (args.images,)))
    pipeline = MemoryPipeline(split, split, data_cfg, args.batch, device=device)

    model = create_model(args.model, num_classes=10)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe["resolved"]["lr"], momentum=0.9,
                                weight_decay=recipe["resolved"]["weight_decay"])
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [10 ** 9])
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])
    fixed = next(iter(pipeline.train_batches(0)))

    def through_pipeline(epoch: int) -> float:
        stats = train_one_epoch(model, pipeline.train_batches(epoch), optimizer, scheduler, criterion,
                                device, channels_last=args.channels_last, max_steps=args.steps)
        return stats.images / stats.seconds

    def in_memory() -> float:
        stats = train_one_epoch(model, itertools.repeat(fixed), optimizer, scheduler, criterion,
                                device, channels_last=args.channels_last, max_steps=args.steps)
        return stats.images / stats.seconds

    def pipeline_alone(epoch: int) -> float:
        """Seconds per batch to gather and augment (no model): the pipeline's own cost."""
        start = time.perf_counter()
        count = sum(1 for _ in itertools.islice(pipeline.train_batches(epoch), args.steps))
        return (time.perf_counter() - start) / count

    train_one_epoch(model, itertools.repeat(fixed), optimizer, scheduler, criterion, device,
                    channels_last=args.channels_last, max_steps=3)  # warm-up
    piped, memory, alone = [], [], []
    for round_index in range(args.rounds):
        piped.append(through_pipeline(round_index))
        memory.append(in_memory())
        alone.append(pipeline_alone(round_index))
        print(f"round {round_index + 1}/{args.rounds}: pipeline {piped[-1]:.0f} img/s, "
              f"in-memory tensor {memory[-1]:.0f} img/s, pipeline alone {1000 * alone[-1]:.1f} ms/batch")
    piped_median, memory_median = statistics.median(piped), statistics.median(memory)
    alone_median, step_seconds = statistics.median(alone), args.batch / memory_median
    print(f"{args.model} @32x32, batch {args.batch}, {args.threads} threads, {device_name(device)}, "
          f"torch {torch.__version__}, channels_last={args.channels_last}")
    print(f"training through the pipeline: {piped_median:.0f} img/s")
    print(f"forward+backward+step on a tensor in memory: {memory_median:.0f} img/s")
    print(f"ratio: {piped_median / memory_median:.3f} (target >= 0.90)")
    print(f"pipeline alone: {1000 * alone_median:.1f} ms per batch = {100 * alone_median / step_seconds:.1f}% "
          f"of a {1000 * step_seconds:.0f} ms training step (ratio implied by it: "
          f"{step_seconds / (step_seconds + alone_median):.3f})")


if __name__ == "__main__":
    main()
