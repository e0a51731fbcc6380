"""Job-level A/B of the default profile's trainer: a baseline commit against this checkout, end to end.

Each arm trains the same runs (one model, seeds 0..N-1, the profile's recipe and subset, 1 thread per
job) as separate ``pokernet train`` processes, K of them at once, and is timed by the wall clock from
the first start to the last exit: images per second of the whole machine, start-up, evaluation and
checkpoints included. The baseline is checked out into a temporary git worktree and run with
``PYTHONPATH`` pointing at it, from a folder outside both trees (``python -m`` puts the working
directory first on ``sys.path``); each run's ``metrics.json`` must name the commit its arm ran.

    python benchmarks/trainer_ab.py --baseline df45132 [--arms baseline:8 baseline:2 current:2 current:8]
        [--model pokernet_100] [--runs 8] [--epochs 2] [--subset 500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tabulate import tabulate

from pokernet.provenance import cpu_model

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def train_command(args: argparse.Namespace, seed: int, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pokernet",
        "train",
        "--model",
        args.model,
        "--recipe",
        args.recipe,
        "--data",
        "fashion_mnist",
        "--subset",
        str(args.subset),
        "--epochs",
        str(args.epochs),
        "--seed",
        str(seed),
        "--threads",
        "1",
        "--out",
        str(out),
    ]


def run_arm(args: argparse.Namespace, tree: Path, at_once: int, folder: Path) -> dict:
    """All runs of one arm, ``at_once`` processes at a time; wall seconds and what the runs recorded."""
    env = {**os.environ, "PYTHONPATH": str(tree)}

    def one(seed: int) -> int:
        with open(folder / f"seed{seed}.log", "w") as log:
            command = train_command(args, seed, folder / f"seed{seed}")
            return subprocess.run(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT).returncode

    start = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        codes = list(pool.map(one, range(args.runs)))
    wall = time.perf_counter() - start
    if any(codes):
        raise SystemExit(f"trainer_ab: a run failed (exit codes {codes}); see {folder}/seed*.log")
    metrics = [json.loads((folder / f"seed{seed}" / "metrics.json").read_text()) for seed in range(args.runs)]
    return {"wall_s": wall, "metrics": metrics, "load_after": os.getloadavg()[0]}


def arm_row(name: str, at_once: int, commit: str, result: dict, images: int) -> dict:
    commits = {m["git_commit"].removesuffix("-dirty") for m in result["metrics"]}
    if commits != {commit}:
        raise SystemExit(f"trainer_ab: arm {name} was to run {commit} but its runs name {sorted(commits)}")
    return {
        "arm": f"{name} ({commit}), {at_once} at once",
        "wall s": round(result["wall_s"], 1),
        "img/s (machine)": round(images / result["wall_s"]),
        "top-1 of the runs": " ".join(f"{m['top1']:.1f}" for m in result["metrics"]),
        "load after": round(result["load_after"], 2),
    }


def parse_arms(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[tuple[str, int]]:
    """``baseline:K`` / ``current:K`` -> (tree, K runs at once); the sizes checked (one line, exit 2)."""
    arms = []
    for arm in args.arms:
        name, _, at_once = arm.partition(":")
        if name not in ("baseline", "current") or not at_once.isdigit() or int(at_once) < 1:
            parser.exit(2, f"trainer_ab: --arms {arm!r}: expected baseline:K or current:K with K >= 1\n")
        arms.append((name, int(at_once)))
    for flag in ("runs", "epochs", "subset"):
        if getattr(args, flag) < 1:
            parser.exit(2, f"trainer_ab: --{flag} must be at least 1\n")
    return arms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the baseline commit (any git revision)")
    parser.add_argument("--arms", nargs="+", default=["baseline:8", "baseline:2", "current:2", "current:8"])
    parser.add_argument("--model", default="pokernet_100")
    parser.add_argument("--recipe", default="proxy_fashion_mnist")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=500, help="images per class")
    args = parser.parse_args(argv)
    arms = parse_arms(parser, args)
    try:
        commits = {
            name: git("rev-parse", "--short", f"{rev}^{{commit}}")
            for name, rev in (("baseline", args.baseline), ("current", "HEAD"))
        }
    except subprocess.CalledProcessError:
        parser.exit(2, f"trainer_ab: --baseline {args.baseline!r} is not a commit of {ROOT}\n")
    images = args.runs * args.epochs * args.subset * 10
    rows, load_before = [], os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="trainer_ab-") as scratch:
        trees = {"baseline": Path(scratch) / "baseline", "current": ROOT}
        git("worktree", "add", "--detach", str(trees["baseline"]), commits["baseline"])
        try:
            for name, at_once in arms:
                folder = Path(scratch) / f"{name}-{at_once}"
                folder.mkdir()
                result = run_arm(args, trees[name], at_once, folder)
                rows.append(arm_row(name, at_once, commits[name], result, images))
                print(" | ".join(str(v) for v in rows[-1].values()), file=sys.stderr, flush=True)
        finally:
            git("worktree", "remove", "--force", str(trees["baseline"]))
    print(
        f"{cpu_model()}, {os.cpu_count()} cores; load average {load_before:.2f} at the start; {args.model}, "
        f"{args.runs} runs x {args.epochs} epochs x {args.subset * 10} images, {args.recipe}, 1 thread per job"
    )
    print(tabulate(rows, headers="keys", tablefmt="github"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
