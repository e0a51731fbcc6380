"""``pokernet study run``: the key CIFAR-10 study on one GPU (``scripts/gpu_study.sh``);
``pokernet study ingest ARCHIVE``: its runs into a profile's work dir for the DAG to render."""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from pokernet.cliargs import positive_float, positive_int


def configure_study(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    parser_class=type(parser))
    run = actions.add_parser("run", help="train and evaluate every arm x seed (a GPU; --device cpu for dry runs)")
    run.add_argument("--data-root", type=Path, required=True, help="ImageFolder copy of CIFAR-10 (train/, test/)")
    run.add_argument("--out", type=Path, required=True, help="receives runs/<variant>/seed<s>/metrics.json, study.json")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    run.add_argument("--arms", nargs="+", metavar="VARIANT", help="default: the 10 arms of the key study")
    run.add_argument("--recipe", default="cifar10_gpu")
    run.add_argument("--budget-s", type=positive_float, default=420.0,
                     help="wall-clock seconds for everything (epochs are sized to end within it)")
    run.add_argument("--deadline-s", type=positive_float, help="hard stop of training (default budget + 15%%)")
    run.add_argument("--epochs", type=positive_int, help="train this many epochs instead of sizing them")
    run.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    run.add_argument("--no-graphs", dest="graphs", action="store_false", help="eager steps (no CUDA graphs)")
    run.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false")
    run.add_argument("--decode-workers", type=positive_int, default=16)
    run.add_argument("--threads", type=positive_int, help="torch CPU threads")
    dry = run.add_argument_group("dry runs only (the results are then not the study's)")
    dry.add_argument("--subset", type=positive_int, help="train images per class")
    dry.add_argument("--val-limit", type=positive_int, help="first N test images only")
    dry.add_argument("--max-steps", type=positive_int, help="steps per epoch")
    ingest = actions.add_parser("ingest", help="write an archive's runs to WORK/runs/<variant>/seed<s>/metrics.json")
    ingest.add_argument("archive", type=Path, help="the study's cifar10_study.tar.gz")
    ingest.add_argument("--work-dir", type=Path, default=Path("work/cifar10"),
                        help="the profile's work_dir (default: work/cifar10, the cifar10 profile's)")
    ingest.add_argument("--force", action="store_true", help="replace runs already there with other content")


def run_study(args: argparse.Namespace) -> int:
    if args.action == "ingest":
        return _ingest(args)
    from .arms import STUDY_ARMS, arm_by_variant
    from .run import StudyConfig, execute
    arms = tuple(arm_by_variant(v) for v in args.arms) if args.arms else STUDY_ARMS
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise ValueError(f"--seeds must be distinct whole numbers >= 0, got {args.seeds}")
    config = StudyConfig(args.data_root, args.out, list(args.seeds), arms, args.recipe, args.budget_s,
                         args.deadline_s, args.epochs, args.subset, args.val_limit, args.max_steps,
                         args.device, args.graphs, args.cudnn_benchmark, decode_workers=args.decode_workers,
                         threads=args.threads)
    summary = execute(config)
    return 0 if summary["status"] == "complete" else 1


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest
    runs = ingest(args.archive, args.work_dir, args.force)
    seeds = defaultdict(list)
    for run in runs:
        seeds[run.variant].append(run.seed)
    for variant, found in seeds.items():
        print(f"{variant}: seeds {found}")
    print(f"wrote {len(runs)} runs under {args.work_dir}/runs; render with "
          f"`snakemake --profile workflow/profiles/cifar10 tables`")
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
