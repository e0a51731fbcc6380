#!/usr/bin/env bash
# One-off GPU check of the training engine (issue 3), for a lent H100/H200: < 4 minutes.
#
#   bash benchmarks/gpu_check.sh          # report in $OUT/gpu_check.txt (./gpu_check.txt without $OUT)
#
# What only a GPU can show:
#   1. pokernet_100 at 224x224, batch 128 (the paper's per-GPU batch): img/s of
#      forward+backward+step in fp32/NCHW, fp32/channels_last, bf16/NCHW, bf16/channels_last,
#      and through pokernet's in-memory pipeline (imagenet recipe augmentation on the GPU).
#   2. `pokernet train` on CUDA (bf16 AMP + channels_last): the streamed ImageFolder path with
#      DataLoader workers, --stop-after then --resume (CUDA RNG state in the checkpoint),
#      `pokernet evaluate`, and the in-memory (--subset) path.
#   3. `torchrun --nproc_per_node 1`: DDP start-up over NCCL.
# Data is synthetic (random JPEGs written here): no download, no dataset needed.
# GPU_CHECK_STEPS (default 150) sets the measured steps per configuration of part 1.
set -u
cd "$(dirname "$0")/.."
REPORT="${OUT:-.}/gpu_check.txt"
mkdir -p "$(dirname "$REPORT")"
exec > >(tee "$REPORT") 2>&1
SECONDS=0
STATUS=0
section() { echo; echo "=== $* [t=${SECONDS}s]"; }
check() {  # check NAME COMMAND...: run, report OK/FAILED, keep going
    local name=$1; shift
    if "$@"; then echo "--- $name: OK"; else echo "--- $name: FAILED (exit $?)"; STATUS=1; fi
}

section "setup"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
WORK=$(mktemp -d)
if ! pip install -e . --no-deps --no-build-isolation -q >"$WORK/pip.log" 2>&1; then
    tail -3 "$WORK/pip.log"
    pip install -e . --no-deps -q 2>&1 | tail -3
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # in case the install failed
for module in timm yaml tqdm PIL; do
    python -c "import $module" 2>/dev/null || { echo "missing $module: trying pip"; \
        pip install -q "$([ $module = yaml ] && echo pyyaml || ([ $module = PIL ] && echo pillow || echo $module))" 2>&1 | tail -1; }
done
python -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__,
'| CUDA', torch.version.cuda, '| GPU', torch.cuda.get_device_name() if torch.cuda.is_available() else None,
'| bf16', torch.cuda.is_available() and torch.cuda.is_bf16_supported(), '| NCCL',
torch.distributed.is_nccl_available())"
POKERNET="python -m pokernet"

section "1. throughput: pokernet_100 @224, batch 128"
timeout 150 python - <<'EOF'
import itertools, os, statistics, torch
from torch import nn
from pokernet.models import create_model
from pokernet.train.core import make_loss, make_optimizer
from pokernet.train.data import MemoryPipeline, MemorySplit
from pokernet.train.loops import StepSettings, train_one_epoch
from pokernet.train.recipe import load_recipe, resolve_recipe

device = torch.device("cuda")
torch.backends.cudnn.benchmark = True
steps, batch = int(os.environ.get("GPU_CHECK_STEPS", 150)), 128
recipe = resolve_recipe({**load_recipe("imagenet"), "batch_size": batch}, "pokernet_100")  # lr for this batch
data_cfg = recipe["data"]
torch.manual_seed(0)
# 1024 images stored as the in-memory pipeline stores ImageNet: 256x256 uint8
split = MemorySplit(torch.randint(0, 256, (1024, 3, 256, 256), dtype=torch.uint8), torch.randint(0, 1000, (1024,)))
pipeline = MemoryPipeline(split, split, data_cfg, batch, device=device)
print(f"in-memory images on {pipeline.train.images.device}")
fixed = next(iter(pipeline.train_batches(0)))

def measure(amp, channels_last, batches, label):
    model = create_model("pokernet_100").to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(recipe, model.parameters())
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [10 ** 9])
    loss = make_loss(recipe)
    settings = StepSettings(device, amp, channels_last)
    train_one_epoch(model, batches(), opt, sched, loss, settings, max_steps=20)  # warm-up
    stats = train_one_epoch(model, batches(), opt, sched, loss, settings, max_steps=steps)
    rate = stats.images / stats.seconds
    print(f"{label:48s} {rate:8.0f} img/s  ({steps} steps, peak mem {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB)", flush=True)
    torch.cuda.reset_peak_memory_stats()
    return rate

in_memory = lambda: itertools.repeat(fixed)
def piped():
    for epoch in itertools.count():
        yield from pipeline.train_batches(epoch)

fp32 = measure(False, False, in_memory, "tensor in memory, fp32, NCHW")
measure(False, True, in_memory, "tensor in memory, fp32, channels_last")
measure(True, False, in_memory, "tensor in memory, bf16 AMP, NCHW")
best = measure(True, True, in_memory, "tensor in memory, bf16 AMP, channels_last")
through = measure(True, True, piped, "pipeline (crop/flip/jitter on GPU), bf16 + CL")
print(f"speed-up of bf16 AMP + channels_last over fp32 NCHW: {best / fp32:.2f}x")
print(f"pipeline / tensor-in-memory ratio (bf16 + CL): {through / best:.3f}")
EOF
[ $? -eq 0 ] && echo "--- throughput: OK" || { echo "--- throughput: FAILED"; STATUS=1; }

section "2. pokernet train on CUDA: streamed ImageFolder, stop + resume, evaluate, in-memory subset"
python - "$WORK" <<'EOF'
import sys, torch
from pathlib import Path
from PIL import Image
root = Path(sys.argv[1]) / "folder"
g = torch.Generator().manual_seed(0)
for split, count in (("train", 32), ("val", 8)):
    for c in range(10):
        (root / split / f"class{c}").mkdir(parents=True)
        for i in range(count):
            pixels = torch.randint(0, 256, (300, 340, 3), generator=g, dtype=torch.uint8)
            pixels[..., c % 3] = pixels[..., c % 3] // 2 + 100  # a class tint
            Image.fromarray(pixels.numpy()).save(root / split / f"class{c}" / f"{i}.jpg", quality=90)
(Path(sys.argv[1]) / "gpu.yaml").write_text(
    "name: gpu_check\nderives_from: imagenet\n"
    "changes: ['epochs: 300 -> 3, batch_size: 1024 -> 64 (a check, not a run)']\n"
    "epochs: 3\nbatch_size: 64\n")
print("wrote", root)
EOF
TRAIN="$POKERNET train --model pokernet_100 --data imagenet --data-root $WORK/folder --recipe $WORK/gpu.yaml"
check "train --stop-after 1 (streamed, 8 workers)" timeout 120 $TRAIN --out "$WORK/run" --workers 8 --stop-after 1
check "train --resume" timeout 120 $TRAIN --out "$WORK/run" --workers 8 --resume
check "evaluate" timeout 60 $POKERNET evaluate --checkpoint "$WORK/run" --data imagenet --data-root "$WORK/folder" --json
check "train --subset 16 (in-memory, on GPU)" timeout 120 $TRAIN --subset 16 --out "$WORK/run_subset" --epochs 2
python - "$WORK" <<'EOF'
import json, sys
for run in ("run", "run_subset"):
    try:
        m = json.load(open(f"{sys.argv[1]}/{run}/metrics.json"))
        print(run, {k: m[k] for k in ("device", "amp_bf16", "channels_last", "world_size", "epochs", "top1",
                                      "train_img_per_s", "wall_time_s")})
    except Exception as error:
        print(run, "no metrics.json:", error)
EOF

section "3. torchrun --nproc_per_node 1 (DDP over NCCL)"
check "torchrun" timeout 120 torchrun --standalone --nproc_per_node 1 -m pokernet train --model pokernet_100 \
    --data imagenet --data-root "$WORK/folder" --recipe "$WORK/gpu.yaml" --subset 16 --epochs 2 --out "$WORK/ddp"
check "log says DDP over nccl" grep -q "DDP over nccl" "$WORK/ddp/train.log"

section "done: $([ $STATUS -eq 0 ] && echo 'all OK' || echo 'SOME CHECKS FAILED')"
rm -rf "$WORK"
exit $STATUS
