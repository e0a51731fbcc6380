"""``pokernet train``: train a registered model with a recipe (see pokernet/recipes/).

Multi-GPU: ``torchrun --nproc_per_node N -m pokernet train ...`` (the recipe's batch stays
the global batch). Writes RUN_DIR/checkpoint.pt (every epoch), metrics.json and train.log.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pokernet.commands import add_model_options, model_options_from_args, positive_int

from .data import DATASETS


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, choices=DATASETS, help="dataset name")
    parser.add_argument("--data-root", metavar="PATH",
                        help="dataset location: imagenet: a folder with train/ and val/ ImageFolders; "
                             "cifar10: an ImageFolder copy (train/, test/) or torchvision's root; "
                             "fashion_mnist: the raw IDX files (default: /usr/share/datasets/fashion-mnist, "
                             "then $POKERNET_DATA_ROOT/fashion_mnist)")
    parser.add_argument("--download", action="store_true",
                        help="let torchvision download cifar10 / fashion_mnist if not found (needs internet)")
    parser.add_argument("--subset", type=positive_int, metavar="N",
                        help="a deterministic class-balanced subset: N images per class of train and of val")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="CPU threads per process (default: all cores this process may use)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a registered model (see `pokernet models`)")
    add_model_options(parser)
    parser.add_argument("--recipe", metavar="RECIPE",
                        help="a recipe file or a packaged recipe name (imagenet, cifar10, "
                             "proxy_fashion_mnist); default: the proxy recipe of the dataset")
    add_data_options(parser)
    parser.add_argument("--out", metavar="RUN_DIR",
                        help="run directory (default: runs/MODEL-DATASET[-subN]-RECIPE-seedS)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=positive_int, help="override the recipe's epochs "
                        "(LR milestones scale proportionally)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from RUN_DIR/checkpoint.pt if it exists, else start: the same "
                             "command starts a run and continues it after an interruption")
    parser.add_argument("--stop-after", type=positive_int, metavar="EPOCH",
                        help="stop once this epoch is done (time-limited jobs); continue with --resume")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="DataLoader workers when data streams from disk (full imagenet)")
    parser.add_argument("--no-amp", dest="amp", action="store_false", help="no bf16 autocast on CUDA")
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                        help="keep the NCHW memory format (channels_last is the default: faster on "
                             "CUDA and on this project's AVX-512 CPU)")


def run(args: argparse.Namespace) -> int:
    from pokernet.models import get_entry

    from .engine import TrainConfig, train
    from .recipe import DEFAULT_RECIPES, load_recipe, recipe_path, resolve_recipe

    get_entry(args.model)  # unknown model: a clear error before any work
    recipe_spec = args.recipe or DEFAULT_RECIPES[args.data]
    recipe = resolve_recipe(load_recipe(recipe_spec), args.model, args.epochs)
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    subset = f"-sub{args.subset}" if args.subset else ""
    out = Path(args.out or f"runs/{args.model}-{args.data}{subset}-{recipe_path(recipe_spec).stem}-seed{args.seed}")
    train(TrainConfig(
        model=args.model, recipe=recipe, dataset=args.data, out_dir=out,
        model_options=model_options_from_args(args), data_root=args.data_root, subset=args.subset,
        seed=args.seed, resume=args.resume, stop_after=args.stop_after, download=args.download,
        threads=args.threads, workers=args.workers, device=args.device, amp=args.amp,
        channels_last=args.channels_last,
    ))
    return 0
