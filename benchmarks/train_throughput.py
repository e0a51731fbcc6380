"""Training throughput of the default profile on this machine: today's trainer and each lever, in one run.

The default profile trains ``proxy_fashion_mnist`` (40x40, batch 256, 1-channel images replicated
to 3) with ``pokernet train``, one thread per job, several jobs at once (Snakemake). This script
times, for each key arm, images per second of the whole machine (the sum over the jobs running
at once) under:

- today:            the trainer as the profile runs it: 2 jobs x 1 thread, channels_last, the
                    in-memory pipeline (gather + augment each batch) feeding forward/backward/SGD;
- 1 job x 2 threads: the same trainer, one job using both cores;
- no channels_last: today's layout in NCHW;
- torch.compile:    the model compiled (inductor, CPU); its compile time printed apart;
- prepared tensors: the step on one batch already gathered and augmented (the ceiling of any
                    data-side lever: what keeping the data as ready tensors could at most give);
- fused N seeds:    N seeds of the arm as one vmap'd network (``train/fused.py``), 2 jobs x 1
                    thread, at the recipe's batch per member and at a smaller one.

Every lever is printed as a ratio to today, with the CPU and load named. Rounds alternate the
levers so each sees the same machine load; the median round counts. The images are random uint8
pixels of Fashion-MNIST's shape (content does not change speed): no dataset needed.

    nice python benchmarks/train_throughput.py [--models pokernet_100 ghostnet_100 pokernet_050]
        [--rounds 3] [--steps 6]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass, replace

import torch
from tabulate import tabulate

from pokernet.provenance import cpu_model
from pokernet.train.core import build_model, lr_scheduler, make_loss, make_optimizer, plan_epoch
from pokernet.train.data import MemoryPipeline, MemorySplit
from pokernet.train.fused import FusedRuns, seeds_batch
from pokernet.train.loops import StepSettings, train_one_epoch
from pokernet.train.recipe import load_recipe, resolve_recipe

IMAGES = 2048


@dataclass(frozen=True)
class Lever:
    name: str
    jobs: int = 2
    threads: int = 1
    channels_last: bool = True
    compiled: bool = False
    prepared: bool = False
    members: int = 1
    batch: int | None = None  # per member; None: the recipe's


def levers(members: int, compiled: bool) -> list[Lever]:
    today = Lever("today (2 jobs x 1 thread)")
    return [
        today,
        replace(today, name="1 job x 2 threads", jobs=1, threads=2),
        replace(today, name="no channels_last", channels_last=False),
        *([replace(today, name="torch.compile", compiled=True)] if compiled else []),
        replace(today, name="prepared tensors (no pipeline)", prepared=True),
        replace(today, name=f"fused {members} seeds, recipe batch", members=members),
        replace(today, name=f"fused {members} seeds, batch 64", members=members, batch=64),
    ]


def _split(generator: torch.Generator) -> MemorySplit:
    return MemorySplit(
        torch.randint(0, 256, (IMAGES, 1, 40, 40), dtype=torch.uint8, generator=generator),
        torch.randint(0, 10, (IMAGES,), generator=generator),
    )


def _plain_rate(model_name: str, lever: Lever, steps: int) -> tuple[float, float]:
    recipe = resolve_recipe(load_recipe("proxy_fashion_mnist"), model_name, 4)
    batch = lever.batch or recipe["batch_size"]
    pipeline = MemoryPipeline(_split(torch.Generator().manual_seed(0)), None, recipe["data"], batch)
    model, _ = build_model(model_name, {}, 10, recipe["dropout"], 0)
    if lever.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(recipe, model.parameters())
    scheduler = lr_scheduler(optimizer, recipe, pipeline.steps_per_epoch())
    criterion = make_loss(recipe)
    net = torch.compile(model) if lever.compiled else model
    prepared = next(iter(pipeline.train_batches(0)))
    batches = (
        itertools.repeat(prepared)
        if lever.prepared
        else (b for epoch in itertools.count() for b in pipeline.train_batches(epoch))
    )
    start = time.perf_counter()
    clip = recipe["optimizer"].get("grad_clip_norm")
    settings = StepSettings(torch.device("cpu"), channels_last=lever.channels_last, grad_clip_norm=clip)
    args = (optimizer, scheduler, criterion, settings)
    train_one_epoch(net, batches, *args, max_steps=2)  # warm-up (and compilation)
    warm_up = time.perf_counter() - start
    stats = train_one_epoch(net, batches, *args, max_steps=steps)
    return stats.images / stats.seconds, warm_up


def _fused_rate(model_name: str, lever: Lever, steps: int) -> tuple[float, float]:
    recipe = resolve_recipe(load_recipe("proxy_fashion_mnist"), model_name, 4)
    batch, seeds = lever.batch or recipe["batch_size"], list(range(lever.members))
    split = _split(torch.Generator().manual_seed(0))
    models = [build_model(model_name, {}, 10, recipe["dropout"], seed)[0] for seed in seeds]
    fused = FusedRuns.for_recipe(models, recipe)
    plan = plan_epoch(seeds, 0, [torch.arange(IMAGES)] * len(seeds), batch, (40, 40), recipe["data"], channels=1)
    start = time.perf_counter()
    for step in range(2 + steps):
        if step == 2:
            warm_up, start = time.perf_counter() - start, time.perf_counter()
        fused.step(*seeds_batch(split.images, split.labels, plan, step % plan.steps, recipe["data"]))
    return len(seeds) * batch * steps / (time.perf_counter() - start), warm_up


def job_rate(model_name: str, lever: Lever, steps: int) -> tuple[float, float]:
    """(img/s, warm-up seconds) of one job (one process, ``lever.threads`` threads)."""
    torch.set_num_threads(lever.threads)
    return (_fused_rate if lever.members > 1 else _plain_rate)(model_name, lever, steps)


def machine_rate(pool: concurrent.futures.Executor, model_name: str, lever: Lever, steps: int) -> tuple[float, float]:
    """img/s summed over ``lever.jobs`` jobs started at once in their own processes."""
    futures = [pool.submit(job_rate, model_name, lever, steps) for _ in range(lever.jobs)]
    results = [future.result() for future in futures]
    return sum(rate for rate, _ in results), max(warm for _, warm in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pokernet_100", "ghostnet_100", "pokernet_050"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per job, after 2 warm-up steps")
    parser.add_argument("--members", type=int, default=5, help="seeds of the fused levers")
    parser.add_argument(
        "--compile-models",
        nargs="*",
        default=["pokernet_050"],
        help="models also timed under torch.compile (each compilation takes minutes on 2 cores)",
    )
    args = parser.parse_args()
    load = os.getloadavg()
    context = multiprocessing.get_context("spawn")  # job processes apart from this one
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        rows = [row for model_name in args.models for row in model_rows(pool, model_name, args)]
    print(
        f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}; load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min), after: "
        f"{' / '.join(f'{v:.2f}' for v in os.getloadavg())}; {args.rounds} rounds x {args.steps} steps per job; "
        f"proxy_fashion_mnist at 40x40"
    )
    print(tabulate(rows, headers="keys", tablefmt="github"))


def model_rows(pool: concurrent.futures.Executor, model_name: str, args: argparse.Namespace) -> list[dict]:
    rows = []
    rates: dict[Lever, list[float]] = {lever: [] for lever in levers(args.members, model_name in args.compile_models)}
    warm_ups: dict[Lever, float] = {}
    for _ in range(args.rounds):
        for lever in rates:
            rate, warm_ups[lever] = machine_rate(pool, model_name, lever, args.steps)
            rates[lever].append(rate)
    today = statistics.median(next(iter(rates.values())))
    for lever, values in rates.items():
        rows.append(
            {
                "model": model_name,
                "lever": lever.name,
                "img/s (machine)": round(statistics.median(values)),
                "ratio to today": round(statistics.median(values) / today, 2),
                "rounds": " ".join(f"{v:.0f}" for v in values),
                "warm-up s (2 steps, compile)": round(warm_ups[lever], 1),
            }
        )
        print(" | ".join(str(value) for value in rows[-1].values()), flush=True)  # as it comes (long runs)
    return rows


if __name__ == "__main__":
    main()
