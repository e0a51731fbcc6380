"""The exploration study behind the frozen protocol (workflow/protocol.yaml): validation split, exploration seeds.

Trains model pairs with the default profile's recipe (``proxy_fashion_mnist``, 500 images per class, 1 thread
per run, ``--jobs`` runs at once) through ``pokernet train --eval-split val`` — evaluated on the holdout carved
from the train split (``pokernet.train.data.HOLDOUT_PER_CLASS``), never on the test split — for each training
length in ``--lengths`` and each exploration seed in ``--seeds`` (disjoint from every seed of a confirming run).
The recipe is the profile's with ``eval_every`` = ``--eval-every`` (evaluation changes no training draw), so
each run also gives its validation curve. ``--resume``: finished runs under ``--work`` are reused.

Then it applies the protocol's frozen rules (``pokernet.protocol``) to the validation results and prints, as
Markdown: the curves, the last-quarter gains, the paired differences with their σ (and σ's χ² CI), the training
length and seeds per arm the rules give, and the confirming re-run's estimated wall time.

    nice python benchmarks/protocol_explore.py --lengths 9 12 16 --seeds 100 101 102 103 104 \\
        > results/benchmarks/protocol_explore.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from tabulate import tabulate

from pokernet.protocol import explore_summary, load_protocol
from pokernet.provenance import cpu_model, git_commit

PAIRS = {"1.0x": ("pokernet_100", "ghostnet_100"), "0.5x": ("pokernet_050", "ghostnet_050")}
KEY_PAIR_MODELS = ["pokernet_050", "pokernet_100", "ghostnet_050", "ghostnet_100"]  # Table 2's paired arms


def per_epoch_seconds(runs: Path) -> dict:
    """Each variant's median wall_time_s / epochs over the committed default runs (2 jobs at once, 2 cores)."""
    times: dict[str, list[float]] = {}
    for path in sorted(runs.glob("*/seed*/metrics.json")):
        metrics = json.loads(path.read_text())
        times.setdefault(path.parent.parent.name, []).append(metrics["wall_time_s"] / metrics["epochs"])
    seconds = {variant: round(statistics.median(values), 2) for variant, values in times.items()}
    return {"key_pair_models": KEY_PAIR_MODELS, "per_epoch_seconds": seconds}


def write_choice(path: Path, choice: dict) -> None:
    """Replace the protocol file's ``choice`` section (the rules above it stay as written)."""
    text = path.read_text()
    rules = text[: text.index("\nchoice:")] if "\nchoice:" in text else text.rstrip("\n")
    header = "\n\n# The rules applied to the exploration (benchmarks/protocol_explore.py --write-choice).\n"
    path.write_text(rules + header + yaml.safe_dump({"choice": choice}, sort_keys=False, width=110))
    load_protocol(path)


def run_folder(work: Path, model: str, epochs: int, seed: int) -> Path:
    return work / f"{model}-e{epochs}" / f"seed{seed}"


def write_recipe(work: Path, eval_every: int) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    path = work / "explore_recipe.yaml"
    path.write_text(
        "name: protocol_explore\nderives_from: proxy_fashion_mnist\n"
        "changes: ['eval_every -> every N epochs (the validation curve; evaluation changes no training draw)']\n"
        f"eval_every: {eval_every}\n"
    )
    return path


def train_command(model: str, epochs: int, seed: int, out: Path, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "pokernet", "train", "--model", model, "--data", "fashion_mnist",
        "--recipe", str(args.recipe), "--eval-split", "val", "--subset", str(args.subset), "--epochs", str(epochs),
        "--threads", "1", "--seed", str(seed), "--out", str(out), "--resume",
    ]  # fmt: skip


def train_all(args: argparse.Namespace, models: list[str]) -> None:
    """Seed-major order: stopped early, the study still has whole seeds of every length and arm."""
    commands = [
        train_command(model, epochs, seed, run_folder(args.work, model, epochs, seed), args)
        for seed in args.seeds
        for epochs in args.lengths
        for model in models
    ]
    with ThreadPoolExecutor(args.jobs) as pool:
        for command, result in zip(
            commands, pool.map(lambda c: subprocess.run(c, capture_output=True, text=True), commands)
        ):
            if result.returncode != 0:
                print(
                    f"protocol_explore: {' '.join(command[3:])} failed: {result.stderr.strip()[-300:]}", file=sys.stderr
                )


def load_runs(args: argparse.Namespace, models: list[str]) -> dict[tuple[str, int, int], dict]:
    """Every finished run: (model, epochs, seed) -> metrics.json."""
    runs = {}
    for model in models:
        for epochs in args.lengths:
            for seed in args.seeds:
                path = run_folder(args.work, model, epochs, seed) / "metrics.json"
                if path.is_file():
                    runs[model, epochs, seed] = json.loads(path.read_text())
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", choices=PAIRS, default=["1.0x"], help="the first pair is the key pair")
    parser.add_argument("--lengths", nargs="+", type=int, default=[9, 12, 16], help="training lengths, epochs")
    parser.add_argument("--seeds", nargs="+", type=int, default=[100, 101, 102, 103, 104])
    parser.add_argument("--eval-every", type=int, default=3, help="validation curve: every N epochs (and the last)")
    parser.add_argument("--subset", type=int, default=500, help="train images per class (the profile's 500)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (the profile's 2 on 2 cores)")
    parser.add_argument("--work", type=Path, default=Path("work/protocol_explore"))
    parser.add_argument("--protocol", type=Path, default=Path("workflow/protocol.yaml"))
    parser.add_argument("--summary-only", action="store_true", help="train nothing; summarize the finished runs")
    parser.add_argument("--write-choice", action="store_true", help="write the rules' choice into --protocol")
    parser.add_argument("--timed-runs", type=Path, default=Path("work/default/runs"), help="per-epoch cost source")
    args = parser.parse_args()
    protocol = load_protocol(args.protocol)
    seeds = protocol["rules"]["seeds"]
    spent = sorted(s for s in args.seeds if s in seeds["used_before"] or s >= seeds["confirming_start"])
    if spent:
        parser.error(f"--seeds {spent}: used before or reserved for confirming runs, not exploration seeds")
    models = [model for pair in args.pairs for model in PAIRS[pair]]
    args.recipe = write_recipe(args.work, args.eval_every)
    if not args.summary_only:
        train_all(args, models)
    runs = load_runs(args, models)
    commits = ", ".join(sorted({str(run.get("git_commit")) for run in runs.values()}))
    print(
        f"Protocol exploration: `python benchmarks/protocol_explore.py {' '.join(sys.argv[1:])}` at {git_commit()}; "
        f"validation holdout (--eval-split val), proxy_fashion_mnist with eval_every {args.eval_every}, "
        f"{args.subset} images/class, 1 thread per run, {args.jobs} runs at once, {cpu_model()}; "
        f"{len(runs)} runs finished, made at commit(s) {commits}."
        "\n\nThe rules (workflow/protocol.yaml `rules`, committed before any of these results was read) are applied "
        "by pokernet.protocol; g(E) = validation top-1 at the last epoch minus at 0.75 E, within each run of E "
        "epochs (its LR schedule scaled to E); CIs are t intervals over the seeds, σ's from the χ² distribution.\n"
    )
    per_epoch = per_epoch_seconds(args.timed_runs)
    sections, choice = explore_summary(protocol, runs, [PAIRS[p] for p in args.pairs], args.lengths, per_epoch)
    for title, rows in sections:
        print(f"### {title}\n")
        print(tabulate(rows, headers="keys", tablefmt="github") if isinstance(rows, list) else rows)
        print()
    if choice and args.write_choice:
        write_choice(args.protocol, choice)


if __name__ == "__main__":
    main()
