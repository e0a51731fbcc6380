#!/usr/bin/env bash
# The key CIFAR-10 study (issue 9) in one GPU lease, one command: the 10 arms of the accuracy
# claims (PokerNet/GhostNet x 0.5/1.0, PokerNet without SE, with ReLU, with ReLU6, x 2 widths)
# x 5 seeds, recipe cifar10_gpu (64x64), trained by the fused trainer in one process, each
# evaluated on the whole 10,000-image test split.
#
#   bash scripts/gpu_study.sh [pokernet study run options]     # e.g. --budget-s 420
#
# Needs only this checkout and the CIFAR-10 JPEG archive (CIFAR10_ARCHIVE, default
# .gpudata/cifar10-jpeg.tar.gz: copy ../shared/datasets/cifar10-jpeg.tar.gz there, a folder
# that git ignores, and carry it); python3 with torch, torchvision, timm, pyyaml, pillow,
# jsonschema (else wheels in .whl/, installed here: `pip download jsonschema ... -d .whl`).
# Leaves in $OUT (./gpu_study_out without $OUT): cifar10_study.tar.gz (study/runs/<variant>/
# seed<s>/metrics.json, study/study.json, study/study.log; no checkpoints) and study.log.
# The archive is written whatever happens. On the CPU machine:
#   pokernet study ingest cifar10_study.tar.gz     # -> work/cifar10/runs/<variant>/seed<s>/metrics.json
#   snakemake --profile workflow/profiles/cifar10 tables
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu_study_out}"
ARCHIVE="${CIFAR10_ARCHIVE:-.gpudata/cifar10-jpeg.tar.gz}"
DATA="${TMPDIR:-/tmp}/pokernet-cifar10"
WORK="$(mktemp -d)"
mkdir -p "$OUT" "$WORK/study"
exec > >(tee "$OUT/study.log") 2>&1
echo "gpu_study.sh $* ($(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
if [ ! -d "$DATA/train" ]; then
    mkdir -p "$DATA" && tar xzf "$ARCHIVE" -C "$DATA" || { echo "cannot unpack $ARCHIVE"; exit 2; }
fi
if ! python3 -c "import jsonschema" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    # no registry there: the recipe validation's jsonschema comes as wheels carried in .whl/
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/pokernet-site .whl/*.whl
    export PYTHONPATH="/tmp/pokernet-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -m pokernet.study.cli run --data-root "$DATA" --out "$WORK/study" "$@"
STATUS=$?
echo "study exit status $STATUS"
cp "$OUT/study.log" "$WORK/study/study.log"
tar czf "$OUT/cifar10_study.tar.gz" -C "$WORK" study && echo "wrote $OUT/cifar10_study.tar.gz"
rm -rf "$WORK"
exit $STATUS
