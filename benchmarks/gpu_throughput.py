"""The GPU study layout's training throughput with each speed lever, as ratios, in one run.

    python benchmarks/gpu_throughput.py [--arms 10] [--seeds 5] [--steps 12] [--out FILE]
    python benchmarks/gpu_throughput.py --device cpu --arms 1 --seeds 2 --size 16 --steps 2   # smoke test

Layout: the study's arms (the first ``--arms`` of ``pokernet.study.arms.STUDY_ARMS``) x ``--seeds``
seeds fused per arm, one process (``pokernet.study.run.Study``), recipe cifar10_gpu (64x64, batch
128 per member), synthetic uint8 images (throughput does not depend on the pixels). Each line
is one configuration built, captured (CUDA graphs, on a GPU) and measured afresh; its ratio is to
the first line, the study as it trains today (fp32 with TF32, CUDA graphs, one stream per arm).
The levers (``pokernet.study.levers``): bf16 autocast, channels_last, torch.compile; CUDA graphs
off; per-member batch 256 (LR x 2 by the recipe's linear rule: a changed recipe, said so); the
arms on one shared stream instead of one each. Beside each lever: the relative difference of
one step's weight update from the fp32 step's, against the stated tolerance. Warm-up
(autotuning, compile, capture) is excluded from the rates and reported as set-up.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pokernet.fileio import atomic_write_text  # noqa: E402
from pokernet.study.arms import STUDY_ARMS  # noqa: E402
from pokernet.study.levers import TOLERANCE, Levers, lever_step, update_difference  # noqa: E402
from pokernet.study.run import Study, StudyConfig  # noqa: E402
from pokernet.train.data import MemorySplit  # noqa: E402
from pokernet.train.fused import seeds_batch  # noqa: E402

GOAL_IMG_PER_S = 100_000  # issue 19's goal for the study layout on an H200
LAST_MEASURED = "22,950 img/s (H200, 10 arms x 5 seeds, fp32 + graphs, results/benchmarks/gpu_throughput_h200.txt)"


@dataclass(frozen=True)
class Setting:
    name: str
    levers: Levers = Levers()
    graphs: bool = True
    batch: int | None = None  # per member; None: the recipe's
    shared_stream: bool = False


SETTINGS = (
    Setting("study today (fp32, graphs, a stream per arm)"),
    Setting("bf16 autocast", Levers(bf16=True)),
    Setting("channels_last", Levers(channels_last=True)),
    Setting("bf16 + channels_last", Levers(bf16=True, channels_last=True)),
    Setting("torch.compile", Levers(compile=True)),
    Setting("bf16 + channels_last + compile", Levers(bf16=True, channels_last=True, compile=True)),
    Setting("no CUDA graphs (eager)", graphs=False),
    Setting("batch 256 per member (lr x 2)", batch=256),
    Setting("arms on one shared stream", shared_stream=True),
)


def synthetic_data(images: int, size: int) -> tuple[MemorySplit, MemorySplit, list[str]]:
    generator = torch.Generator().manual_seed(0)
    train = MemorySplit(
        torch.randint(0, 256, (images, 3, size, size), dtype=torch.uint8, generator=generator),
        torch.randint(0, 10, (images,), generator=generator),
    )
    val = MemorySplit(train.images[:64], train.labels[:64])
    return train, val, [str(c) for c in range(10)]


def recipe_for(setting: Setting, size: int, folder: Path) -> str:
    """cifar10_gpu, or a recipe derived from it with this setting's batch and image size."""
    changes = {}
    if setting.batch:
        changes["batch_size"] = setting.batch
    if size != 64:
        changes["data"] = f"{{resolution: {size}, resize: {size}}}"
    if not changes:
        return "cifar10_gpu"
    path = folder / f"bench_{setting.batch}_{size}.yaml"
    lines = [f"{key}: {value}" for key, value in changes.items()]
    path.write_text(
        "derives_from: cifar10_gpu\nchanges: ['benchmark: " + ", ".join(changes) + "']\n" + "\n".join(lines) + "\n"
    )
    return str(path)


def measure(setting: Setting, data, args, folder: Path) -> dict:
    config = StudyConfig(
        Path("synthetic"),
        folder,
        list(range(args.seeds)),
        STUDY_ARMS[: args.arms],
        recipe_for(setting, args.size, folder),
        device=args.device,
        graphs=setting.graphs,
        threads=args.threads,
    )
    study = Study(config, data)
    difference = None
    if setting.levers != Levers():
        x, y = seeds_batch(study.train_split.images, study.train_split.labels, study.plan(0), 0, study.data_cfg)
        difference = update_difference(study.arms[0].fused, x, y, setting.levers)
        for arm in study.arms:
            arm.fused.step = lever_step(arm.fused, setting.levers)
    start = time.perf_counter()
    study.capture()
    if setting.shared_stream and study.cuda:
        for arm in study.arms:
            arm.stream = study.arms[0].stream
    seconds = study.measure(args.steps)
    images = len(study.arms) * args.seeds * study.batch
    result = {
        "img_per_s": images / seconds,
        "ms_per_step": 1000 * seconds,
        "setup_s": time.perf_counter() - start - seconds * (args.steps - 1),
        "difference": difference,
    }
    del study
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return result


def device_line(device: str) -> str:
    import timm
    import torchvision

    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        name = f"{props.name} ({props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs)"
    else:
        from pokernet.provenance import cpu_model

        name = f"CPU {cpu_model()}, {torch.get_num_threads()} threads"
    return (
        f"device: {name}; torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"timm {timm.__version__}, "
        f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
    )


def line_for(setting: Setting, result: dict, base: float) -> str:
    check = ""
    if result["difference"] is not None:
        tolerance = TOLERANCE["bf16" if setting.levers.bf16 else "fp32"]
        verdict = "within" if result["difference"] <= tolerance else "EXCEEDS"
        check = f"; update vs fp32 {result['difference']:.2e} ({verdict} {tolerance:g})"
    return (
        f"{setting.name:48s} {result['img_per_s']:10,.0f} img/s  x{result['img_per_s'] / base:5.2f}  "
        f"({result['ms_per_step']:.1f} ms/step, set-up {result['setup_s']:.1f} s{check})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", type=int, default=len(STUDY_ARMS), choices=range(1, len(STUDY_ARMS) + 1))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=12, help="measured steps per setting (after one warm-up)")
    parser.add_argument("--size", type=int, default=64, help="image size (64: the study's; smaller for smoke tests)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--budget-s", type=float, default=300.0, help="settings not started after this")
    parser.add_argument("--only", nargs="+", metavar="N", type=int, help="measure these settings only (indices)")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    start = time.perf_counter()
    lines = [
        f"# gpu_throughput.py {' '.join(sys.argv[1:])}, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        device_line(args.device),
        f"layout: {args.arms} arms x {args.seeds} seeds fused per arm, one process, {args.size}x{args.size}, "
        f"synthetic images; goal {GOAL_IMG_PER_S:,} img/s summed; last measured {LAST_MEASURED}",
    ]
    print("\n".join(lines), flush=True)
    data = synthetic_data(max(1024, 128 * 2 * args.steps), args.size)
    base = None
    with tempfile.TemporaryDirectory() as folder:
        for index, setting in enumerate(SETTINGS):
            if args.only and index not in args.only and index != 0:
                continue
            if time.perf_counter() - start > args.budget_s:
                line = f"{setting.name:48s} not measured (--budget-s {args.budget_s:.0f} s spent)"
            else:
                try:
                    result = measure(setting, data, args, Path(folder))
                    base = base or result["img_per_s"]
                    line = line_for(setting, result, base)
                except Exception as error:  # a lever that fails here is a result too
                    line = f"{setting.name:48s} FAILED: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
            print(line, flush=True)
            lines.append(line)
    if args.out:
        atomic_write_text(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
