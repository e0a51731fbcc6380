"""Training throughput on a GPU at the study's resolution: plain vs fused, one run and the study layout.

    python benchmarks/gpu_throughput.py --data-root DIR [--out FILE]

- plain, one run: ``pokernet train``'s step (``engine.train_one_epoch`` over ``MemoryPipeline``,
  bf16 AMP + channels_last, its defaults on CUDA), pokernet_100, recipe ``cifar10_gpu`` (64x64,
  batch 128), synthetic uint8 images on the GPU (the pipeline's work is the same).
- plain, study layout: the 10 arms of the key study as 10 such processes at once (one seed each,
  as the issue measured them), measured over a common window; img/s summed.
- fused, one arm: pokernet_100 x 5 seeds as one fused network, its step a CUDA graph, through
  the study's data path (``pokernet.study.run.Study``), real CIFAR-10 images.
- fused, study layout: 10 arms x 5 seeds, one process, one graph and stream per arm
  (``--study-layout``; ``scripts/gpu_study.sh`` measures it again before sizing its epochs).
Warm-up (cuDNN autotuning, graph capture) is excluded from the rates and reported beside them.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def plain_worker(model: str, options: dict, seconds: float, barrier: Path | None, parties: int) -> dict:
    from torch import nn

    from pokernet.models import create_model
    from pokernet.train.data import MemoryPipeline, MemorySplit
    from pokernet.train.loops import train_one_epoch
    from pokernet.train.recipe import load_recipe, resolve_recipe

    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    recipe = resolve_recipe(load_recipe("cifar10_gpu"), model)
    batch = recipe["batch_size"]
    split = MemorySplit(torch.randint(0, 256, (4096, 3, 64, 64), dtype=torch.uint8),
                        torch.randint(0, 10, (4096,)))
    pipeline = MemoryPipeline(split, split, recipe["data"], batch, device=device)
    torch.manual_seed(0)
    net = create_model(model, num_classes=10, drop_rate=recipe["dropout"], **options).to(device)
    net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(net.parameters(), lr=recipe["resolved"]["lr"], momentum=0.9,
                                weight_decay=recipe["resolved"]["weight_decay"])
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [10 ** 9])
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def batches():
        for epoch in itertools.count():
            yield from pipeline.train_batches(epoch)

    start = time.perf_counter()
    train_one_epoch(net, batches(), optimizer, scheduler, criterion, device, True, True, max_steps=25)
    warmup = time.perf_counter() - start
    if barrier is not None:  # every process warmed up: measure over a common window
        (barrier / f"{os.getpid()}.ready").touch()
        waited = time.perf_counter()
        while len(list(barrier.glob("*.ready"))) < parties and time.perf_counter() - waited < 90:
            time.sleep(0.05)
    images, start = 0, time.perf_counter()
    stream = batches()
    while time.perf_counter() - start < seconds:
        stats = train_one_epoch(net, stream, optimizer, scheduler, criterion, device, True, True, max_steps=20)
        images += stats.images
    return {"img_per_s": images / (time.perf_counter() - start), "warmup_s": warmup}


def plain_study_layout(seconds: float) -> dict:
    from pokernet.study.arms import STUDY_ARMS
    barrier = Path(os.environ.get("TMPDIR", "/tmp")) / f"gpu_throughput_barrier_{os.getpid()}"
    barrier.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", arm.model, json.dumps(arm.options),
                               str(seconds), str(barrier), str(len(STUDY_ARMS))],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT) for arm in STUDY_ARMS]
    outputs = [p.communicate()[0].strip().splitlines() for p in procs]
    failed = [arm.variant for arm, out in zip(STUDY_ARMS, outputs) if not out or not out[-1].startswith("{")]
    if failed:
        raise RuntimeError(f"plain workers failed: {', '.join(failed)}")
    rates = [json.loads(out[-1])["img_per_s"] for out in outputs]
    return {"img_per_s": sum(rates), "per_process": [round(r) for r in rates],
            "processes": len(procs), "wall_s": time.perf_counter() - start}


def fused(data_root: Path, arms: tuple, seeds: list[int], steps: int, data=None) -> dict:
    from pokernet.study.run import Study, StudyConfig
    config = StudyConfig(data_root, Path("/tmp/unused"), seeds, arms)
    study = Study(config, data)
    start = time.perf_counter()
    study.capture()
    capture_s = time.perf_counter() - start
    seconds = study.measure(steps)
    images = len(arms) * len(seeds) * study.batch
    result = {"img_per_s": images / seconds, "ms_per_step": 1000 * seconds, "capture_s": capture_s,
              "arms": len(arms), "seeds": len(seeds)}
    data = study.data
    del study
    torch.cuda.empty_cache()
    return result, data


def versions() -> str:
    import timm
    import torchvision
    props = torch.cuda.get_device_properties(0)
    return (f"device: {props.name} ({props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs); "
            f"torch {torch.__version__}, torchvision {torchvision.__version__}, timm {timm.__version__}, "
            f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; python {sys.version.split()[0]}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        model, options, seconds, barrier, parties = sys.argv[2:7]
        print(json.dumps(plain_worker(model, json.loads(options), float(seconds), Path(barrier), int(parties))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True, help="ImageFolder copy of CIFAR-10")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window of the plain runs")
    parser.add_argument("--steps", type=int, default=25, help="measured steps of the fused runs")
    parser.add_argument("--study-layout", action="store_true", help="also the fused 10 arms x 5 seeds")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    from pokernet.study.arms import STUDY_ARMS, arm_by_variant

    lines = [f"# gpu_throughput.py, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}", versions(),
             "recipe cifar10_gpu: 64x64, batch 128 per run; fp32 (TF32 convs) for the fused trainer, "
             "bf16 AMP + channels_last for the plain one (pokernet train's defaults)"]

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    for line in lines:
        print(line)
    one = plain_worker("pokernet_100", {}, args.seconds, None, 1)
    report(f"plain, one run (pokernet_100, 1 process):            {one['img_per_s']:9,.0f} img/s "
           f"(warm-up {one['warmup_s']:.1f} s)")
    try:
        layout = plain_study_layout(args.seconds)
        report(f"plain, study layout (10 arms, 10 processes, 1 seed):  {layout['img_per_s']:9,.0f} img/s summed "
               f"(per process {layout['per_process']}; {layout['wall_s']:.0f} s with start-up)")
    except RuntimeError as error:
        report(f"plain, study layout: FAILED ({error})")
    arm, data = fused(args.data_root, (arm_by_variant("pokernet_100"),), [0, 1, 2, 3, 4], args.steps)
    report(f"fused, one arm (pokernet_100 x 5 seeds, CUDA graph):  {arm['img_per_s']:9,.0f} img/s "
           f"({arm['ms_per_step']:.1f} ms/step; capture + autotuning {arm['capture_s']:.1f} s)")
    if args.study_layout:
        study, _ = fused(args.data_root, STUDY_ARMS, [0, 1, 2, 3, 4], args.steps, data)
        report(f"fused, study layout (10 arms x 5 seeds, 1 process): {study['img_per_s']:9,.0f} img/s "
               f"({study['ms_per_step']:.1f} ms/step; capture + autotuning {study['capture_s']:.1f} s)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
