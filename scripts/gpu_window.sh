#!/usr/bin/env bash
# One whole GPU window (issue 19), inside a total time budget: the device command may run at
# most 600 s and the window is 15 minutes with the machine's start. Parts, in this order, each
# under its own cap (`timeout`), the study taking what is left:
#   levers   benchmarks/gpu_throughput.py: the study layout's img/s with each speed lever (ratios)
#   latency  `pokernet latency` of the 0.5x and 1.0x pairs on this host's CPU (16 cores on the
#            lent machine): the paper_parallel runtime (the paper's k branches in parallel threads)
#            and the plain runtimes, at 4 and 8 threads, invocations as Table 3 has them
#   imagenet benchmarks/imagenet_throughput.py: the imagenet recipe's GPU and loader ceilings
#   study    scripts/gpu_study.sh --budget-s <what is left>: the CIFAR-10 study's next runs
#
#   bash scripts/gpu_window.sh [--total-s 540] [--parts levers,latency,imagenet,study]
#   bash scripts/gpu_window.sh --quick          # CPU smoke test: tiny sizes, the study only planned
#
# Leaves in $OUT (./gpu_window_out without $OUT), at most 4 files as the device machine returns
# at most 8: gpu_window.log, gpu_window.tar.gz (gpu_throughput.txt, imagenet_throughput.txt,
# latency_16core/*.json and their logs), and the study's cifar10_study.tar.gz and study.log.
set -u
cd "$(dirname "$0")/.."
TOTAL_S=540
PARTS=levers,latency,imagenet,study
QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --total-s) TOTAL_S="$2"; shift 2 ;;
        --parts) PARTS="$2"; shift 2 ;;
        --quick) QUICK=1; shift ;;
        *) echo "gpu_window.sh: unknown option $1 (--total-s S, --parts LIST, --quick)" >&2; exit 2 ;;
    esac
done
case "$TOTAL_S" in
    ''|*[!0-9]*) echo "gpu_window.sh: --total-s must be whole seconds, got '$TOTAL_S'" >&2; exit 2 ;;
esac
case ",$PARTS," in
    *[!a-z,]*) echo "gpu_window.sh: --parts is a comma list of levers, latency, imagenet, study" >&2; exit 2 ;;
esac
OUT="${OUT:-$PWD/gpu_window_out}"
export OUT
WORK="$(mktemp -d)"
mkdir -p "$OUT" "$WORK/window/latency_16core"
exec > >(tee "$OUT/gpu_window.log") 2>&1
SECONDS=0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "gpu_window.sh --total-s $TOTAL_S --parts $PARTS (quick $QUICK);" \
     "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
wanted() { case ",$PARTS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
part() {  # part NAME CAP_S COMMAND...: run under a cap, never past the total
    local name=$1 cap=$2; shift 2
    local left=$((TOTAL_S - SECONDS - 5))
    [ "$cap" -gt "$left" ] && cap=$left
    if [ "$cap" -le 10 ]; then echo "=== $name: not started ($left s left of $TOTAL_S)"; return; fi
    echo "=== $name [t=${SECONDS}s, cap ${cap}s]"
    timeout --kill-after=5 "$cap" "$@"; local status=$?
    echo "--- $name: exit $status$([ $status = 124 ] && echo ' (cap reached)') [t=${SECONDS}s]"
}
# fixed words only (no value from outside reaches these lists)
if [ "$QUICK" = 1 ]; then
    LEVERS=(--device cpu --arms 1 --seeds 2 --size 16 --steps 2 --only 1)
    LATENCY_ARGS="pokernet_050 ghostnet_050 --quick"; RUNTIMES="eager"; IMAGENET=(--device cpu --quick)
else
    LEVERS=(--budget-s 150)
    LATENCY_ARGS="pokernet_050 ghostnet_050 pokernet_100 ghostnet_100 --budget-s 1 --invocations 3"
    RUNTIMES="paper_parallel onnxruntime eager"; IMAGENET=()
fi
export LATENCY_ARGS RUNTIMES WORK
wanted levers && part levers 170 python3 benchmarks/gpu_throughput.py "${LEVERS[@]}" \
    --out "$WORK/window/gpu_throughput.txt"
# shellcheck disable=SC2016  # expanded by the inner bash
LATENCY_LOOP='for threads in 4 8; do for runtime in $RUNTIMES; do
    name="$WORK/window/latency_16core/${runtime}_t${threads}"
    echo "pokernet latency $LATENCY_ARGS --runtime $runtime --threads $threads"
    python3 -m pokernet latency $LATENCY_ARGS --runtime "$runtime" --threads "$threads" --out "$name.json" \
        >"$name.log" 2>&1 || echo "  failed (exit $?): $(tail -1 "$name.log")"
done; done'
wanted latency && part latency 200 bash -c "$LATENCY_LOOP"
wanted imagenet && part imagenet 100 python3 benchmarks/imagenet_throughput.py "${IMAGENET[@]}" \
    --out "$WORK/window/imagenet_throughput.txt"
tar czf "$OUT/gpu_window.tar.gz" -C "$WORK" window && echo "wrote $OUT/gpu_window.tar.gz"
if wanted study; then
    if [ "$QUICK" = 1 ]; then
        part study 60 python3 -m pokernet.study.cli plan --budget-s 60
    else
        # what is left, less the archive's unpacking (~20 s) and the archive's packing
        BUDGET=$((TOTAL_S - SECONDS - 45))
        if [ "$BUDGET" -ge 60 ]; then
            part study $((BUDGET + 40)) bash scripts/gpu_study.sh --budget-s "$BUDGET"
        else
            echo "=== study: not started ($BUDGET s of budget left)"
        fi
    fi
fi
rm -rf "$WORK"
echo "gpu_window.sh done [t=${SECONDS}s of $TOTAL_S]"
