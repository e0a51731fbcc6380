"""Epochs × seeds of the default profile, chosen by resolving power per CPU-minute.

Trains the key pair (PokerNet-1.0× and GhostNet-1.0× by default) with the default profile's
recipe (``proxy_fashion_mnist``, 500 images per class, 1 thread per run, ``--jobs`` runs at once)
for each number of epochs in ``--epochs`` and each seed in ``--seeds``, through ``pokernet train``
(one subprocess per run, ``--resume``: finished runs under ``--work`` are reused, not retrained).
Then, per number of epochs E, from the paired differences d_s = top1(A, s) − top1(B, s):

- mean Δ, its 95% CI, and the standard deviation σ_E of the differences (with its 95% CI from the
  χ² distribution: with a handful of seeds σ is itself uncertain by a factor of about 2);
- the CPU-seconds of one seed of the pair (the two runs' wall time, measured with ``--jobs``
  runs sharing the cores, as the profile runs them; the median over seeds, so that a run slowed by
  other work on the machine does not set the cost);
- the seeds per arm that resolve the paper's gap (``--paper-gap``) at 80% power with a paired
  t-test, taking σ_E as the truth, and the CPU-minutes that costs;
- the resolving power per CPU-minute, 1 / (σ_E² · cost of one seed): the inverse of the variance of
  the mean difference bought per CPU-minute, the quantity to maximise.

    nice python benchmarks/epochs_seeds.py --epochs 4 8 12 --seeds 0 1 2 3 4 5 \\
        > results/benchmarks/epochs_seeds.md
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scipy import stats as sps
from tabulate import tabulate

from pokernet.provenance import code_version, cpu_model, git_commit
from pokernet.report.stats import Arm, compare, seeds_for_power


def run_folder(work: Path, model: str, epochs: int, seed: int) -> Path:
    return work / f"{model}-e{epochs}" / f"seed{seed}"


def train_command(model: str, epochs: int, seed: int, out: Path, subset: int) -> list[str]:
    return [
        sys.executable, "-m", "pokernet", "train", "--model", model, "--data", "fashion_mnist",
        "--subset", str(subset), "--epochs", str(epochs), "--threads", "1", "--seed", str(seed),
        "--out", str(out), "--resume",
    ]  # fmt: skip


def train_all(args: argparse.Namespace) -> None:
    commands = [
        train_command(model, epochs, seed, run_folder(args.work, model, epochs, seed), args.subset)
        for seed in args.seeds
        for epochs in args.epochs
        for model in args.models
    ]
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda c: subprocess.run(c, capture_output=True, text=True), commands):
            if result.returncode != 0:
                sys.exit(f"epochs_seeds: a run failed: {result.stderr.strip().splitlines()[-1:]}")


def metrics(work: Path, model: str, epochs: int, seed: int) -> dict:
    return json.loads((run_folder(work, model, epochs, seed) / "metrics.json").read_text())


def row_for(args: argparse.Namespace, epochs: int) -> dict:
    ahead, behind = args.models
    runs = {m: {s: metrics(args.work, m, epochs, s) for s in args.seeds} for m in args.models}
    comparison = compare(
        f"{ahead} − {behind}",
        Arm(ahead, {s: r["top1"] for s, r in runs[ahead].items()}),
        Arm(behind, {s: r["top1"] for s, r in runs[behind].items()}),
        paper_gap=args.paper_gap,
    )
    n, sd = comparison.n, comparison.std
    chi = sps.chi2.ppf([0.975, 0.025], n - 1)
    sd_low, sd_high = (math.sqrt((n - 1) * sd**2 / c) for c in chi)
    pair_s = statistics.median(sum(runs[m][s]["wall_time_s"] for m in args.models) for s in args.seeds)
    needed = seeds_for_power(args.paper_gap, sd)
    low, high = comparison.ci
    return {
        "epochs": epochs,
        "n": n,
        f"{ahead} top-1": f"{sum(r['top1'] for r in runs[ahead].values()) / n:.2f}",
        f"{behind} top-1": f"{sum(r['top1'] for r in runs[behind].values()) / n:.2f}",
        "Δ [95% CI]": f"{comparison.mean:+.2f} [{low:+.2f}, {high:+.2f}]",
        "σ of Δ [95% CI]": f"{sd:.2f} [{sd_low:.2f}, {sd_high:.2f}]",
        "CPU-s per seed (pair)": f"{pair_s:.0f}",
        f"seeds for {args.paper_gap:+.1f} pp": needed if needed is not None else "—",
        "CPU-min to resolve": f"{needed * pair_s / 60:.0f}" if needed is not None else "—",
        "power per CPU-min": f"{60 / (sd**2 * pair_s):.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs=2, default=["pokernet_100", "ghostnet_100"])
    parser.add_argument("--epochs", nargs="+", type=int, default=[4, 8, 12])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--paper-gap", type=float, default=-0.3, help="the paper's top-1 gap, pp (Table 2, 1.0x)")
    parser.add_argument("--subset", type=int, default=500, help="train images per class (the profile's 500)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (the profile's --cores 2)")
    parser.add_argument("--work", type=Path, default=Path("work/epochs_seeds"))
    args = parser.parse_args()
    if len(set(args.seeds)) != len(args.seeds) or len(args.seeds) < 2:
        parser.error("--seeds: at least two distinct seeds")
    train_all(args)
    rows = [row_for(args, epochs) for epochs in args.epochs]
    print(
        f"Epochs × seeds on the key pair: `python benchmarks/epochs_seeds.py {' '.join(sys.argv[1:])}` at "
        f"{code_version(git_commit())}; "
        f"proxy_fashion_mnist, {args.subset} images/class, 1 thread per run, {args.jobs} runs at once, "
        f"{cpu_model()}.\n"
    )
    print(tabulate(rows, headers="keys", tablefmt="github"))


if __name__ == "__main__":
    main()
