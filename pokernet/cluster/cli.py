"""``pokernet cluster cost``: what a plan of training runs costs in GPU-hours, from the suite's own
measured throughput (results/benchmarks/gpu_check_h200.txt), with the GPU it was measured on; the
workflow's ``cost`` rule passes the plan's runs, epochs and images.
``pokernet cluster status``: each run of a work dir, from its folder: epochs done, ETA, GPU-hours spent."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pokernet.cliargs import positive_int

THROUGHPUT = Path(__file__).resolve().parents[2] / "results/benchmarks/gpu_check_h200.txt"
# Training images per epoch of each full data set (ILSVRC-2012, CIFAR-10, Fashion-MNIST) and its classes.
TRAIN_IMAGES = {"imagenet": (1_281_167, 1000), "cifar10": (50_000, 10), "fashion_mnist": (60_000, 10)}
_ROW = re.compile(r"^(?P<what>(?:tensor in memory|pipeline)[^\n]*?)\s{2,}(?P<rate>\d+) img/s", re.MULTILINE)


def configure_cluster(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    cost = actions.add_parser("cost", help="GPU-hours of a plan (the workflow's `cost` rule gives its numbers)")
    cost.add_argument("--runs", type=positive_int, required=True, help="training runs in the plan")
    cost.add_argument("--epochs", type=positive_int, required=True, help="epochs per run")
    cost.add_argument("--data", choices=sorted(TRAIN_IMAGES), required=True, help="the data set")
    cost.add_argument("--subset", type=positive_int, metavar="N", help="N training images per class")
    cost.add_argument("--throughput", type=Path, default=THROUGHPUT, help="a gpu_check report (img/s per GPU)")
    status = actions.add_parser("status", help="each run's epoch, ETA and GPU-hours spent, from its folder")
    status.add_argument("--work-dir", type=Path, required=True, help="the study's work_dir (its runs/)")


def run_cluster(args: argparse.Namespace) -> int:
    print(_cost(args) if args.action == "cost" else _status(args.work_dir))
    return 0


def measured_rates(path: Path) -> tuple[str, dict[str, int]]:
    """(GPU name, {measurement: img/s per GPU}) of a gpu_check report."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"--throughput {path}: {error.strerror}") from None
    rates = {m["what"].strip(): int(m["rate"]) for m in _ROW.finditer(text)}
    gpu = re.search(r"\| GPU ([^|\n]+)", text)
    if not rates or gpu is None:
        raise ValueError(f"--throughput {path}: no 'img/s' rows or no '| GPU NAME' line (a gpu_check report?)")
    return gpu[1].strip(), rates


def _cost(args: argparse.Namespace) -> str:
    gpu, rates = measured_rates(args.throughput)
    full, classes = TRAIN_IMAGES[args.data]
    per_epoch = min(full, args.subset * classes) if args.subset else full
    images = args.runs * args.epochs * per_epoch
    # pokernet train's default path (bf16 + channels_last through the augmenting pipeline) to the fastest
    # model-only setting measured (fp32 channels_last: --no-amp)
    slowest = next((what for what in rates if what.startswith("pipeline")), min(rates, key=rates.get))
    fastest = max(rates, key=rates.get)
    low, high = rates[slowest], rates[fastest]
    return (
        f"plan: {args.runs} runs x {args.epochs} epochs x {per_epoch:,} images ({args.data}) "
        f"= {images:,} training images\n"
        f"GPU-bound: {images / high / 3600:,.0f}-{images / low / 3600:,.0f} GPU-hours "
        f"({images / high / 3600 / args.runs:,.1f}-{images / low / 3600 / args.runs:,.1f} per run) at "
        f"{low:,}-{high:,} img/s per GPU, measured on one {gpu} for pokernet_100 at 224x224 "
        f"({slowest}: {low:,}; {fastest}: {high:,}; {args.throughput.name}); several GPUs assumed to scale linearly\n"
        f"loader ceiling: not measured (benchmarks/imagenet_throughput.py, pending a GPU host): a node's JPEG "
        f"decoding below {low:,} img/s per GPU would make the runs loader-bound and longer"
    )


def _status(work_dir: Path) -> str:
    from tabulate import tabulate

    from .runs import run_rows

    rows = run_rows(work_dir)
    if not rows:
        return f"{work_dir}/runs holds no run yet"
    return tabulate(rows, headers="keys", tablefmt="github")
