#!/usr/bin/env bash
# One GPU window of the accumulating CIFAR-10 study (issue 19): the next missing runs of the
# study's fixed list (recipe cifar10_gpu's `study` fields: PokerNet/GhostNet 0.5x/1.0x seeds
# 0-9 first, then the ablation arms seeds 0-4; 30 epochs each) that fit the budget, trained by
# the fused trainer, each evaluated on the whole 10,000-image test split. A run that would not
# finish inside the budget (measured rate + the recipe's safety margin) is not started.
#
#   bash scripts/gpu_study.sh --budget-s 420      # any `pokernet study next` option
#   bash scripts/gpu_study.sh run --seeds 0 --arms pokernet_050 --epochs 1   # `pokernet study run`
#
# Needs this checkout, committed (runs record the commit; ingest refuses a dirty one), and the
# CIFAR-10 JPEG archive (CIFAR10_ARCHIVE, default .gpudata/cifar10-jpeg.tar.gz, a folder git
# ignores: carry it); python3 with torch, torchvision, timm, pyyaml, pillow, jsonschema (else
# wheels in .whl/, installed here: `pip download jsonschema ... -d .whl`). The runs already held
# (work/cifar10/runs) and the last window's rate (work/cifar10/study.json) come with the checkout.
# Leaves in $OUT (./gpu_study_out without $OUT): cifar10_study.tar.gz (study/study.json,
# study/block<i>/runs/<variant>/seed<s>/metrics.json, study/study.log; no checkpoints; one file,
# as the device machine returns at most 8) and study.log. The archive is written whatever happens.
# On the CPU machine:
#   pokernet study ingest cifar10_study.tar.gz    # -> work/cifar10/runs/<variant>/seed<s>/metrics.json
#   pokernet study plan                           # held / missing runs, windows left
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu_study_out}"
ARCHIVE="${CIFAR10_ARCHIVE:-.gpudata/cifar10-jpeg.tar.gz}"
DATA="${TMPDIR:-/tmp}/pokernet-cifar10"
ACTION=next
if [ "${1:-}" = run ]; then ACTION=run; shift; fi
if [ ! -d "$DATA/train" ] && [ ! -f "$ARCHIVE" ]; then
    echo "gpu_study.sh: missing $ARCHIVE (CIFAR-10 as JPEGs); make it with" \
         "\`mkdir -p .gpudata && cp ../shared/datasets/cifar10-jpeg.tar.gz .gpudata/\` and carry .gpudata" >&2
    exit 2
fi
WORK="$(mktemp -d)"
mkdir -p "$OUT" "$WORK/study"
exec > >(tee "$OUT/study.log") 2>&1
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "gpu_study.sh $ACTION $* ($(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
if [ ! -d "$DATA/train" ]; then
    mkdir -p "$DATA" && tar xzf "$ARCHIVE" -C "$DATA" || { echo "gpu_study.sh: cannot unpack $ARCHIVE"; exit 2; }
fi
if ! python3 -c "import jsonschema" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    # no registry there: the recipe validation's jsonschema comes as wheels carried in .whl/
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/pokernet-site .whl/*.whl
    export PYTHONPATH="/tmp/pokernet-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -m pokernet.study.cli "$ACTION" --data-root "$DATA" --out "$WORK/study" "$@"
STATUS=$?
echo "study exit status $STATUS"
cp "$OUT/study.log" "$WORK/study/study.log"
tar czf "$OUT/cifar10_study.tar.gz" -C "$WORK" study && echo "wrote $OUT/cifar10_study.tar.gz"
rm -rf "$WORK"
exit $STATUS
