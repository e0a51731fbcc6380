"""``pokernet evaluate``: top-1/top-5/loss of a checkpoint on a dataset's validation split,
single center crop, with the preprocessing of the recipe the checkpoint was trained with."""
from __future__ import annotations

import argparse
import json

from pokernet.commands import positive_int

from .cli import add_data_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a RUN_DIR (its checkpoint.pt) or a checkpoint file")
    add_data_options(parser)
    parser.add_argument("--batch-size", type=positive_int, default=256)
    parser.add_argument("--workers", type=int, metavar="N",
                        help="DataLoader workers when data streams from disk (full imagenet)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    import torch

    from .data import build_pipeline, load_data
    from .engine import available_cores, checkpoint_file, evaluate, load_checkpoint, model_from_checkpoint

    path = checkpoint_file(args.checkpoint)
    checkpoint = load_checkpoint(path)
    model = model_from_checkpoint(checkpoint)
    data_cfg = checkpoint["config"]["recipe"]["data"]
    data = load_data(args.data, args.data_root, args.subset, args.download, resize=data_cfg["resize"],
                     splits=("val",))
    if data.classes != checkpoint["classes"]:
        raise ValueError(f"{path} was trained on {len(checkpoint['classes'])} classes "
                         f"({', '.join(checkpoint['classes'][:3])}, ...), {args.data} has "
                         f"{len(data.classes)} ({', '.join(data.classes[:3])}, ...)")
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
    report = {"checkpoint": str(path), "model": checkpoint["model"],
              "model_options": checkpoint["model_options"], "epoch": checkpoint["epoch"],
              "dataset": args.data, "subset_per_class": args.subset, "val_size": result["images"],
              "top1": result["top1"], "top5": result["top5"], "loss": result["loss"]}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{checkpoint['model']} (epoch {checkpoint['epoch']}) on {args.data} val "
              f"({result['images']} images): top-1 {result['top1']:.2f}%  top-5 {result['top5']:.2f}%  "
              f"loss {result['loss']:.4f}")
    return 0
