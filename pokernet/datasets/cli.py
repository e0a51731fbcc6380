"""``pokernet data prepare-imagenet``: sort ILSVRC-2012's flat val/ into val/<wnid>/ class folders."""

from __future__ import annotations

import argparse
from pathlib import Path

DRY_RUN_EXAMPLES = 5


def configure_data(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    prepare = actions.add_parser(
        "prepare-imagenet", help="sort the raw validation images (flat val/) into val/<wnid>/ folders"
    )
    prepare.add_argument("val_dir", type=Path, metavar="VAL_DIR", help="the flat val/ of ILSVRC2012_val_*.JPEG")
    prepare.add_argument(
        "--ground-truth",
        type=Path,
        required=True,
        metavar="FILE",
        help="Kaggle's LOC_val_solution.csv or the devkit's ILSVRC2012_validation_ground_truth.txt",
    )
    prepare.add_argument(
        "--meta",
        type=Path,
        metavar="FILE",
        help="with the devkit's ground truth: its meta.mat (or a text file of 'ID wnid' lines)",
    )
    prepare.add_argument("--dry-run", action="store_true", help="print what would be moved, move nothing")


def run_data(args: argparse.Namespace) -> int:
    from .imagenet import apply_sort, plan_sort, read_ground_truth

    plan = plan_sort(args.val_dir, read_ground_truth(args.ground_truth, args.meta))
    classes = len({target.parent for _source, target in plan.moves})
    if not plan.moves:
        print(f"{args.val_dir}: nothing to move ({plan.in_place} images already in their class folders)")
        return 0
    if args.dry_run:
        for source, target in plan.moves[:DRY_RUN_EXAMPLES]:
            print(f"would move {source} -> {target}")
        print(
            f"dry run: would move {len(plan.moves)} images into {classes} class folders of {args.val_dir} "
            f"({plan.in_place} already in place); nothing moved"
        )
        return 0
    apply_sort(plan)
    print(
        f"moved {len(plan.moves)} images into {classes} class folders of {args.val_dir} "
        f"({plan.in_place} were already in place)"
    )
    return 0
