"""``pokernet study``: the CIFAR-10 study on one GPU, accumulated over short windows.
``next``: the next missing runs that fit a window (``scripts/gpu_study.sh``); ``plan``: the runs
held, missing and the windows left; ``ingest ARCHIVE``: a window's runs into the profile's work
dir for the DAG to render; ``run``: given arms x seeds (benchmarks, dry runs)."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from pokernet.cliargs import positive_float, positive_int, thread_count
from pokernet.fileio import check_output_folder
from pokernet.provenance import code_version, git_commit

DEFAULT_BUDGET_S = 420.0
DEFAULT_WORK_DIR = Path("work/cifar10")  # the cifar10 profile's work_dir


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """What `run` and `next` share: data, output, device and dry-run settings."""
    parser.add_argument("--data-root", type=Path, required=True, help="ImageFolder copy of CIFAR-10 (train/, test/)")
    parser.add_argument(
        "--out", type=Path, required=True, help="receives runs/<variant>/seed<s>/metrics.json and study.json"
    )
    parser.add_argument("--recipe", default="cifar10_gpu")
    parser.add_argument(
        "--budget-s",
        type=positive_float,
        default=DEFAULT_BUDGET_S,
        help="wall-clock seconds for everything; training that would not end within it is not "
        "started (default: %(default)s)",
    )
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--no-graphs", dest="graphs", action="store_false", help="eager steps (no CUDA graphs)")
    parser.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false")
    parser.add_argument("--threads", type=thread_count, help="torch CPU threads")
    dry = parser.add_argument_group("dry runs only (the results are then not the study's)")
    dry.add_argument("--subset", type=positive_int, help="train images per class")
    dry.add_argument("--val-limit", type=positive_int, help="first N test images only")
    dry.add_argument("--max-steps", type=positive_int, help="steps per epoch")


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    """What `next` and `plan` share: where the held runs are and the rate a window is sized by."""
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        help="the profile's work_dir holding the study's runs (default: %(default)s)",
    )
    parser.add_argument(
        "--img-per-s",
        type=positive_float,
        help="the rate to size the window by (default: the one WORK/study.json measured)",
    )


def configure_study(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    run = actions.add_parser("run", help="train and evaluate every arm x seed given (a GPU; --device cpu for dry runs)")
    _add_training_options(run)
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    run.add_argument("--arms", nargs="+", metavar="VARIANT", help="default: the 10 arms of the key study")
    run.add_argument("--deadline-s", type=positive_float, help="hard stop of training (default budget + 15%%)")
    run.add_argument("--epochs", type=positive_int, help="train this many epochs (if they fit) instead of sizing them")
    run.add_argument(
        "--resume", action="store_true", help="continue the runs' checkpoints under --out (a killed study)"
    )
    step = actions.add_parser("next", help="train the study's next missing runs that fit --budget-s (a GPU window)")
    _add_training_options(step)
    _add_window_options(step)
    step.add_argument(
        "--allow-dirty",
        action="store_true",
        help="train from a checkout with uncommitted changes (dry runs: ingest refuses such runs)",
    )
    plan = actions.add_parser("plan", help="the study's runs held and missing, and what a window of --budget-s trains")
    _add_window_options(plan)
    plan.add_argument("--recipe", default="cifar10_gpu")
    plan.add_argument(
        "--budget-s",
        type=positive_float,
        default=DEFAULT_BUDGET_S,
        help="the window's seconds for training (default: %(default)s)",
    )
    ingest = actions.add_parser("ingest", help="write an archive's runs to WORK/runs/<variant>/seed<s>/metrics.json")
    ingest.add_argument("archive", type=Path, help="the study's cifar10_study.tar.gz")
    ingest.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        help="the profile's work_dir (default: %(default)s, the cifar10 profile's)",
    )
    ingest.add_argument("--recipe", default="cifar10_gpu", help="the study's recipe the runs must have")


def _study_config(args: argparse.Namespace, arms: tuple, seeds: list[int]):
    from .run import StudyConfig

    return StudyConfig(
        args.data_root,
        args.out,
        seeds,
        arms,
        args.recipe,
        args.budget_s,
        getattr(args, "deadline_s", None),
        getattr(args, "epochs", None),
        args.subset,
        args.val_limit,
        args.max_steps,
        args.device,
        args.graphs,
        args.cudnn_benchmark,
        threads=args.threads,
        resume=getattr(args, "resume", False),
    )


def run_study(args: argparse.Namespace) -> int:
    if args.action == "ingest":
        return _ingest(args)
    if args.action in ("plan", "next"):
        return _window(args)
    check_output_folder(args.out, "--out")  # writable before any training
    from .arms import STUDY_ARMS, arm_by_variant
    from .run import execute

    arms = tuple(arm_by_variant(v) for v in args.arms) if args.arms else STUDY_ARMS
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise ValueError(f"--seeds must be distinct whole numbers >= 0, got {args.seeds}")
    summary = execute(_study_config(args, arms, list(args.seeds)))
    return 0 if summary["status"] == "complete" else 1


def _window(args: argparse.Namespace) -> int:
    from .window import describe, plan_window, train_window

    window = plan_window(args.work_dir, args.recipe, args.budget_s, args.img_per_s)
    if args.action == "plan":
        print("\n".join(describe(window)))
        return 0
    check_output_folder(args.out, "--out")
    commit = git_commit()
    if not args.allow_dirty and (commit is None or commit.endswith("-dirty")):
        raise ValueError(
            f"the code is {code_version(commit)}: ingest refuses runs of uncommitted code; "
            f"commit first (or --allow-dirty for a dry run)"
        )
    summary = train_window(window, _study_config(args, (), []), args.out)
    return 0 if summary["status"] in ("complete", "nothing to train") else 1


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest
    from .window import study_recipe

    runs = ingest(args.archive, args.work_dir, study_recipe(args.recipe))
    seeds = defaultdict(list)
    for run in runs:
        seeds[run.variant].append(run.seed)
    for variant, found in seeds.items():
        print(f"{variant}: seeds {found}")
    print(f"wrote {len(runs)} runs under {args.work_dir}/runs; `pokernet study plan` shows what the study holds")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m pokernet.study.cli``: this command alone (a GPU machine without the other
    commands' dependencies)."""
    from pokernet.cliargs import OneLineErrorParser

    parser = OneLineErrorParser(prog="pokernet study")
    configure_study(parser)
    args = parser.parse_args(argv)
    try:
        return run_study(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"pokernet study: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
