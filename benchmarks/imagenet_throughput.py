"""What the full ImageNet reproduction costs: training img/s at the imagenet recipe, two ceilings.

    python benchmarks/imagenet_throughput.py [--out FILE]               # on a GPU machine
    python benchmarks/imagenet_throughput.py --device cpu --quick       # smoke test

- GPU ceiling: forward + backward + SGD step of each model at 224x224, bf16 autocast +
  channels_last (``pokernet train``'s CUDA defaults), batch 1024 (the recipe's global batch) or
  the largest power-of-two that fits, on synthetic tensors already on the device.
- Loader ceiling: the suite's streamed JPEG pipeline (``pokernet.train.data.FolderPipeline``:
  DataLoader workers decoding, resizing to 256, random 224 crop, flip, jitter) on the host's
  cores, no model, over JPEGs of ImageNet's typical size (500x375, written here, random pixels
  smoothed so they compress like photos).
Then GPU-hours per run at the recipe's epochs over ImageNet's 1,281,167 training images, at the
slower of the two ceilings (the bottleneck named), for each model's Table 2 row.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as nnf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pokernet.fileio import atomic_write_text  # noqa: E402
from pokernet.models import create_model  # noqa: E402
from pokernet.train.core import make_optimizer  # noqa: E402
from pokernet.train.data import FolderPipeline, image_folder  # noqa: E402
from pokernet.train.distributed import device_name  # noqa: E402
from pokernet.train.recipe import load_recipe, resolve_recipe  # noqa: E402

IMAGENET_TRAIN_IMAGES = 1_281_167
MODELS = ("pokernet_100", "ghostnet_100", "pokernet_050", "ghostnet_050")


def gpu_ceiling(model_name: str, batch: int, size: int, steps: int, device: torch.device) -> tuple[float, int]:
    """img/s of training steps on synthetic tensors; halves the batch while it does not fit."""
    recipe = resolve_recipe(load_recipe("imagenet"), model_name)
    while True:
        try:
            model = create_model(model_name, num_classes=1000, drop_rate=recipe["dropout"]).to(device)
            model = model.to(memory_format=torch.channels_last)
            optimizer = make_optimizer(recipe, model.parameters())
            x = torch.randn(batch, 3, size, size, device=device).to(memory_format=torch.channels_last)
            y = torch.randint(0, 1000, (batch,), device=device)

            def step() -> None:
                with torch.autocast(device.type, dtype=torch.bfloat16):
                    loss = nnf.cross_entropy(model(x), y, label_smoothing=recipe["label_smoothing"])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            for _ in range(2):
                step()
            synchronize(device)
            start = time.perf_counter()
            for _ in range(steps):
                step()
            synchronize(device)
            return batch * steps / (time.perf_counter() - start), batch
        except torch.OutOfMemoryError:
            del model, optimizer
            torch.cuda.empty_cache()
            if batch == 1:
                raise
            batch //= 2


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def write_jpegs(root: Path, count: int, width: int, height: int) -> None:
    from PIL import Image, ImageFilter

    generator = torch.Generator().manual_seed(0)
    for split in ("train", "val"):
        for index in range(count):
            folder = root / split / f"class{index % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            pixels = torch.randint(0, 256, (height // 8, width // 8, 3), dtype=torch.uint8, generator=generator)
            image = Image.fromarray(pixels.numpy()).resize((width, height)).filter(ImageFilter.GaussianBlur(2))
            image.save(folder / f"{index}.jpg", quality=90)


def loader_ceiling(root: Path, workers: int, batch: int, seconds: float) -> float:
    data_cfg = load_recipe("imagenet")["data"]
    pipeline = FolderPipeline(
        image_folder(root / "train"), image_folder(root / "val"), data_cfg, batch, workers=workers
    )
    images, start, epoch = 0, None, 0
    while start is None or time.perf_counter() - start < seconds:
        for x, _ in pipeline.train_batches(epoch):
            if start is None:  # the first batch: workers started
                start = time.perf_counter()
                continue
            images += len(x)
            if time.perf_counter() - start >= seconds:
                break
        epoch += 1
    return images / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test; the figures mean nothing)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="loader processes (default: all cores)")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    device = torch.device(args.device)
    quick = args.quick
    size, batch, steps = (32, 8, 2) if quick else (224, 1024, 10)
    recipe = load_recipe("imagenet")
    name = device_name(device)
    from pokernet.provenance import cpu_model

    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines = [
        f"# imagenet_throughput.py {' '.join(sys.argv[1:])}, {stamp}",
        f"device: {name}; host: {cpu_model()}, {os.cpu_count()} cores; torch {torch.__version__}",
        f"recipe imagenet: {recipe['epochs']} epochs, global batch {recipe['batch_size']}, {size}x{size}",
    ]
    print("\n".join(lines), flush=True)

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as folder:
        write_jpegs(Path(folder), 16 if quick else 2048, 500, 375)
        loader = loader_ceiling(Path(folder), args.workers, 8 if quick else 256, 2 if quick else 20)
    report(f"loader ceiling (FolderPipeline, {args.workers} workers, 500x375 JPEGs): {loader:,.0f} img/s")
    for model in MODELS[:2] if quick else MODELS:
        rate, used = gpu_ceiling(model, batch, size, steps, device)
        one = recipe["epochs"] * IMAGENET_TRAIN_IMAGES / min(rate, loader) / 3600
        eight = recipe["epochs"] * IMAGENET_TRAIN_IMAGES / min(8 * rate, loader) / 3600
        report(
            f"{model}: GPU ceiling {rate:,.0f} img/s (batch {used}, bf16 + channels_last); {recipe['epochs']} "
            f"epochs: 1 GPU {one:,.1f} GPU-hours (bound by {'the loader' if loader < rate else 'the GPU'}); "
            f"8 GPUs sharing this host's loader {eight:,.1f} h = {8 * eight:,.1f} GPU-hours "
            f"(bound by {'the loader' if loader < 8 * rate else 'the GPUs'})"
        )
    if args.out:  # the report as printed
        atomic_write_text(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
