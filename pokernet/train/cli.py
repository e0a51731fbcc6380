"""``pokernet train``: train a registered model with a recipe (see pokernet/recipes/);
``pokernet evaluate``: top-1/top-5/loss of a checkpoint on a dataset's validation split,
single center crop, with the preprocessing of the recipe the checkpoint was trained with.

Multi-GPU: ``torchrun --nproc_per_node N -m pokernet train ...`` (the recipe's batch stays
the global batch). Writes RUN_DIR/checkpoint.pt (every epoch), metrics.json and train.log.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pokernet.cliargs import (
    add_model_options,
    model_options_from_args,
    number,
    options_for,
    positive_int,
    seed,
    thread_count,
)
from pokernet.fileio import check_output_folder, path_problem, shown
from pokernet.protocol import record as protocol_record

from .recipe import DATASETS

CODE_CHOICES = ("stop", "restart", "continue")  # --on-code-change (train/continuity.py)


def data_root(text: str) -> str:
    if problem := path_problem(Path(text).expanduser()):
        raise argparse.ArgumentTypeError(f"{shown(text)} {problem}")
    if Path(text).expanduser().exists() and not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return text


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, choices=DATASETS, help="dataset name")
    parser.add_argument(
        "--data-root",
        metavar="PATH",
        type=data_root,
        help="dataset location: imagenet: a folder with train/ and val/ ImageFolders; "
        "cifar10: an ImageFolder copy (train/, test/) or torchvision's root; "
        "fashion_mnist: the raw IDX files (default: /usr/share/datasets/fashion-mnist, "
        "then $POKERNET_DATA_ROOT/fashion_mnist)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="let torchvision download cifar10 / fashion_mnist if not found (needs internet)",
    )
    parser.add_argument(
        "--subset",
        type=positive_int,
        metavar="N",
        help="a class-balanced subset of train drawn by --seed: N images per class "
        "(ImageNet: of val too, one fixed draw)",
    )
    parser.add_argument(
        "--eval-split",
        choices=("test", "val"),
        default="test",
        help="the split evaluated: test, the dataset's official test split (imagenet: val/), or val, "
        "a fixed class-balanced holdout carved from train (as many images per class as test; "
        "no train subset touches it): choose a protocol on val, never on test",
    )
    parser.add_argument(
        "--threads",
        type=thread_count,
        metavar="N",
        help="CPU threads of the job on one node, split evenly among its processes "
        "(default: all cores this process may use)",
    )
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def configure_train(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a registered model (see `pokernet models`)")
    add_model_options(parser)
    parser.add_argument(
        "--recipe",
        metavar="RECIPE",
        help="a recipe file or a packaged recipe name (imagenet, cifar10, "
        "proxy_fashion_mnist); default: the proxy recipe of the dataset",
    )
    add_data_options(parser)
    add_run_options(parser)
    add_distribution_options(parser)
    add_execution_options(parser)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Where the run goes, its seed and length, and how it continues after an interruption."""
    parser.add_argument(
        "--out", metavar="RUN_DIR", help="run directory (default: runs/MODEL-DATASET[-subN]-RECIPE-seedS)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="in [0, 2**63) (default 0)")
    parser.add_argument(
        "--epochs", type=positive_int, help="override the recipe's epochs (LR milestones scale proportionally)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from RUN_DIR/checkpoint.pt if it exists, else start: the same "
        "command starts a run and continues it after an interruption",
    )
    parser.add_argument(
        "--restart-stale",
        action="store_true",
        help="with --resume: a run this code and configuration cannot continue (another "
        "configuration, a finished run without metrics.json) is moved aside to "
        "RUN_DIR.replaced-COMMIT (the commit that trained it) and the run starts from scratch "
        "(the workflow's train rule: --forceall and a changed config retrain)",
    )
    parser.add_argument(
        "--on-code-change",
        choices=CODE_CHOICES,
        default=os.environ.get("POKERNET_ON_CODE_CHANGE", "stop"),
        help="with --resume, when the code that defines training (pokernet/train, models, datasets) "
        "changed since the run's last epoch: stop with one line naming the files (default), restart "
        "(move the run aside to RUN_DIR.replaced-COMMIT), or continue (its epochs record both codes); "
        "default: $POKERNET_ON_CODE_CHANGE (how a workflow run chooses), else stop",
    )
    parser.add_argument(
        "--protocol",
        metavar="FILE",
        help="the frozen protocol this run confirms (workflow/protocol.yaml): its sha256 and commit go "
        "into metrics.json, and the report refuses runs of another protocol",
    )
    parser.add_argument(
        "--stop-after",
        type=positive_int,
        metavar="EPOCH",
        help="stop once this epoch is done (time-limited jobs); continue with --resume",
    )


def add_distribution_options(parser: argparse.ArgumentParser) -> None:
    """Processes and nodes of one run (DDP under torchrun)."""
    parser.add_argument(
        "--procs-per-node",
        type=number(int, 1, 64),
        default=1,
        metavar="N",
        help="processes per node (one per GPU with --device cuda); > 1 or --nodes > 1 "
        "starts them with torchrun (DDP); the recipe's batch stays the global batch",
    )
    parser.add_argument(
        "--nodes",
        type=number(int, 1, 1024),
        default=1,
        metavar="K",
        help="nodes of one run: run this same command once per node (srun --nodes K "
        "--ntasks-per-node 1); they meet at --rdzv-endpoint",
    )
    parser.add_argument(
        "--rdzv-endpoint",
        metavar="HOST:PORT",
        help="with --nodes > 1: the first node's address for torchrun's c10d rendezvous",
    )


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """How each step runs: data workers, autocast, micro-batches, memory format."""
    parser.add_argument(
        "--workers", type=int, metavar="N", help="DataLoader workers when data streams from disk (full imagenet)"
    )
    parser.add_argument("--no-amp", dest="amp", action="store_false", help="no bf16 autocast on CUDA")
    parser.add_argument(
        "--accumulate",
        type=positive_int,
        default=1,
        metavar="K",
        help="gradient accumulation: each rank's share of the recipe's global batch in K "
        "micro-batches, one optimizer step per batch (the global batch and lr stay the recipe's)",
    )
    parser.add_argument(
        "--no-channels-last",
        dest="channels_last",
        action="store_false",
        help="keep the NCHW memory format (channels_last is the default: faster on "
        "CUDA and on this project's AVX-512 CPU)",
    )


def run_train(args: argparse.Namespace) -> int:
    from pokernet.models import get_entry

    from .engine import TrainConfig, train
    from .launch import check_devices, relaunch_under_torchrun, under_torchrun
    from .recipe import DEFAULT_RECIPES, load_recipe, recipe_path, resolve_recipe

    get_entry(args.model)  # unknown model: a clear error before any work
    protocol = protocol_record(args.protocol) if args.protocol else None
    model_options = options_for(args.model, model_options_from_args(args), strict=True)
    recipe_spec = args.recipe or DEFAULT_RECIPES[args.data]
    recipe = resolve_recipe(load_recipe(recipe_spec), args.model, args.epochs)
    if args.on_code_change not in CODE_CHOICES:  # the default from the environment is not checked by argparse
        raise ValueError(
            f"POKERNET_ON_CODE_CHANGE must be one of {', '.join(CODE_CHOICES)}, got {args.on_code_change!r}"
        )
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    subset = f"-sub{args.subset}" if args.subset else ""
    out = Path(args.out or f"runs/{args.model}-{args.data}{subset}-{recipe_path(recipe_spec).stem}-seed{args.seed}")
    check_output_folder(out, "--out")
    check_devices(args.device, args.procs_per_node, full_size_data=args.data == "imagenet" and not args.subset)
    if (args.procs_per_node > 1 or args.nodes > 1) and not under_torchrun():
        relaunch_under_torchrun(args.procs_per_node, args.nodes, args.rdzv_endpoint)
    train(
        TrainConfig(
            model=args.model,
            recipe=recipe,
            dataset=args.data,
            out_dir=out,
            model_options=model_options,
            data_root=args.data_root,
            subset=args.subset,
            eval_split=args.eval_split,
            seed=args.seed,
            resume=args.resume or args.restart_stale,
            restart_stale=args.restart_stale,
            on_code_change=args.on_code_change,
            stop_after=args.stop_after,
            download=args.download,
            threads=args.threads,
            workers=args.workers,
            device=args.device,
            amp=args.amp,
            channels_last=args.channels_last,
            accumulate=args.accumulate,
            protocol=protocol,
        )
    )
    return 0


def configure_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", required=True, metavar="PATH", help="a RUN_DIR (its checkpoint.pt) or a checkpoint file"
    )
    add_data_options(parser)
    parser.add_argument("--batch-size", type=positive_int, default=256)
    parser.add_argument(
        "--workers", type=int, metavar="N", help="DataLoader workers when data streams from disk (full imagenet)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run_evaluate(args: argparse.Namespace) -> int:
    import torch

    from pokernet.provenance import available_cores

    from .checkpoint import checkpoint_file, load_checkpoint, model_from_checkpoint
    from .data import build_pipeline, load_data
    from .loops import evaluate

    path = checkpoint_file(args.checkpoint)
    checkpoint = load_checkpoint(path)
    model = model_from_checkpoint(checkpoint, str(path))
    data_cfg = checkpoint["config"]["recipe"]["data"]
    source = (args.data, args.data_root, args.subset, args.download)
    data = load_data(*source, resize=data_cfg["resize"], splits=("val",), eval_split=args.eval_split)
    if data.classes != checkpoint["classes"]:
        raise ValueError(
            f"{path} was trained on {len(checkpoint['classes'])} classes "
            f"({', '.join(checkpoint['classes'][:3])}, ...), {args.data} has "
            f"{len(data.classes)} ({', '.join(data.classes[:3])}, ...)"
        )
    torch.set_num_threads(args.threads or available_cores())
    if args.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda, but CUDA is not available here")
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")
    workers = args.workers if args.workers is not None else min(8, available_cores())
    if workers < 0:
        raise ValueError(f"--workers must be >= 0, got {workers}")
    pipeline = build_pipeline(data, data_cfg, args.batch_size, device=device, workers=workers)
    model = model.to(device, memory_format=torch.channels_last)
    result = evaluate(model, pipeline.val_batches(), device, amp=device.type == "cuda", channels_last=True)
    report = {
        "checkpoint": str(path),
        "model": checkpoint["model"],
        "model_options": checkpoint["model_options"],
        "epoch": checkpoint["epoch"],
        "dataset": args.data,
        "subset_per_class": args.subset,
        "val_size": result["images"],
        "top1": result["top1"],
        "top5": result["top5"],
        "loss": result["loss"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{checkpoint['model']} (epoch {checkpoint['epoch']}) on {args.data} val "
            f"({result['images']} images): top-1 {result['top1']:.2f}%  top-5 {result['top5']:.2f}%  "
            f"loss {result['loss']:.4f}"
        )
    return 0
