"""Measure the equivalent Poker expansion formulations and record the fastest.

Part A, per layer: for every Poker module shape of PokerNet-0.5× and -1.0× at 224 (M, k,
input size), time the whole Poker module (pointwise, expansion, SE) with each expansion
variant of pokernet/latency/variants.py, per runtime, memory format and thread count, the
variants interleaved. Each variant is first checked to give the reference module's output.

Part B, per model: for PokerNet and GhostNet at both widths, time the whole-model options
(memory format for eager/TorchScript; Ghost-module channel padding) with the Part A choice
applied, interleaved, and record the best for each model. GhostNet gets the same options.

Writes pokernet/latency/expansion_choice.json (read by ``pokernet latency``) and
results/benchmarks/poker_expansion_variants.md. Takes about 10 minutes on 2 cores.

    python benchmarks/poker_expansion_variants.py [--budget-s 0.4] [--threads 1 2] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from pokernet.fileio import atomic_write_text
from pokernet.latency.choice import CHOICE_FILE, config_key, shape_key
from pokernet.latency.equivalence import check_equal, randomize_bn
from pokernet.latency.prepare import prepare_module
from pokernet.latency.runtimes import ALL_RUNTIMES, RUNTIMES, build_call, torch_threads, use_ort_global_pool
from pokernet.latency.timing import summarize, time_interleaved
from pokernet.latency.variants import VARIANTS, make_expansion, poker_input_sizes, poker_modules
from pokernet.models import create_model
from pokernet.models.layers import PokerModule
from pokernet.provenance import available_cores, hardware_info, runtime_versions

ROOT = Path(__file__).resolve().parent.parent
WIDTH_MODELS = ("pokernet_050", "pokernet_100")
MODELS = ("pokernet_050", "ghostnet_050", "pokernet_100", "ghostnet_100")
FORMATS = {
    "eager": ("contiguous", "channels_last"),
    "torchscript": ("contiguous", "channels_last"),
    "onnxruntime": ("contiguous",),
    "openvino": ("contiguous",),
}
GHOST_PADS = {"eager": (1, 4), "torchscript": (1, 4), "onnxruntime": (1, 4, 8), "openvino": (1, 4, 8)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def poker_shapes() -> dict[str, dict]:
    """Every distinct Poker module of the two widths: key -> M, k, size, activation, SE."""
    shapes: dict[str, dict] = {}
    for name in WIDTH_MODELS:
        model = create_model(name).eval()
        sizes = poker_input_sizes(model, 224)
        for _, _, poker in poker_modules(model):
            m, k = poker.expand[0].in_channels, poker.k
            key = shape_key(m, k, sizes[id(poker)])
            entry = shapes.setdefault(
                key,
                {
                    "M": m,
                    "k": k,
                    "size": sizes[id(poker)],
                    "act": type(poker.expand[2]).__name__,
                    "se": not isinstance(poker.se, nn.Identity),
                    "models": [],
                },
            )
            if name not in entry["models"]:
                entry["models"].append(name)
    return shapes


def poker_variant(reference: PokerModule, variant: str) -> tuple[nn.Module, torch.Tensor | None]:
    """The module with ``variant`` as expansion; the permutation is folded into its SE (as
    in the network) so the output comes permuted: returns it and the order (or None)."""
    module = copy.deepcopy(reference)
    expansion = make_expansion(reference.expand, variant, restore_order=False)
    module.replace_expansion(expansion, expansion.order)
    return module.eval(), expansion.order


def part_a(runtimes: list[str], threads: list[int], budget_s: float, min_runs: int) -> dict:
    shapes = poker_shapes()
    timings: dict = {}
    for runtime in runtimes:
        for fmt in FORMATS[runtime]:
            config = config_key(runtime, fmt)
            for n_threads in threads:
                with torch_threads(n_threads):
                    for key, shape in shapes.items():
                        act = {"ReLU6": nn.ReLU6, "Hardswish": nn.Hardswish, "ReLU": nn.ReLU}[shape["act"]]
                        torch.manual_seed(0)
                        reference = randomize_bn(
                            PokerModule(shape["M"], shape["M"] * shape["k"], act, use_se=shape["se"])
                        ).eval()
                        x = torch.randn(1, shape["M"], shape["size"], shape["size"])
                        with torch.no_grad():
                            expected = reference(x)
                        calls = {}
                        for variant in VARIANTS:
                            module, order = poker_variant(reference, variant)
                            if fmt == "channels_last":
                                module = module.to(memory_format=torch.channels_last)
                            if runtime == "eager":
                                from torch.fx.experimental.optimization import fuse

                                module = fuse(module)
                            call = build_call(runtime, module, x, n_threads, fmt)
                            got = torch.as_tensor(call()).float()
                            if order is not None:
                                got = got.index_select(1, torch.argsort(order))
                            check_equal(f"{variant} {key} ({config})", got, expected)
                            calls[variant] = call
                        times = time_interleaved(calls, budget_s, min_runs, warmup_s=0.05)
                        medians = {v: round(summarize(t)["median_ms"] * 1e3, 2) for v, t in times.items()}
                        timings.setdefault(config, {}).setdefault(str(n_threads), {})[key] = medians
                        best = min(medians, key=medians.get)
                        log(
                            f"{config:26s} t={n_threads} {key:14s} "
                            + "  ".join(f"{v}={us:.0f}us" for v, us in medians.items())
                            + f"  -> {best}"
                        )
    choice = {
        c: {t: {key: min(m, key=m.get) for key, m in per_shape.items()} for t, per_shape in per_t.items()}
        for c, per_t in timings.items()
    }
    overall = {
        c: {t: min(VARIANTS, key=lambda v: sum(m[v] for m in per_shape.values())) for t, per_shape in per_t.items()}
        for c, per_t in timings.items()
    }
    return {"shapes": shapes, "timings_us": timings, "choice": choice, "overall": overall}


def part_b(expansion: dict, runtimes: list[str], threads: list[int], budget_s: float, min_runs: int) -> dict:
    draft = {"expansion": expansion}
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    timings: dict = {}
    choice: dict = {}
    for runtime in runtimes:
        for n_threads in threads:
            with torch_threads(n_threads):
                for name in MODELS:
                    model = randomize_bn(create_model(name)).eval()
                    with torch.no_grad():
                        expected = model(x)
                    calls, options_of = {}, {}
                    for fmt in FORMATS[runtime]:
                        for pad in GHOST_PADS[runtime]:
                            options = {"memory_format": fmt, "ghost_pad": pad}
                            module, notes = prepare_module(name, model, runtime, n_threads, 224, True, options, draft)
                            if pad > 1 and notes["ghost_pad"]["modules"] == 0:
                                continue  # nothing to pad: same as pad 1
                            call = build_call(runtime, module, x, n_threads, fmt)
                            check_equal(f"{name} {options} ({runtime})", call(), expected)
                            label = f"{fmt}/pad{pad}"
                            calls[label], options_of[label] = call, options
                    times = time_interleaved(calls, budget_s, min_runs, warmup_s=0.2)
                    medians = {label: summarize(t)["median_ms"] for label, t in times.items()}
                    best = min(medians, key=medians.get)
                    timings.setdefault(runtime, {}).setdefault(str(n_threads), {})[name] = medians
                    choice.setdefault(runtime, {}).setdefault(str(n_threads), {})[name] = options_of[best]
                    log(
                        f"{runtime:12s} t={n_threads} {name:13s} "
                        + "  ".join(f"{k}={v:.2f}ms" for k, v in medians.items())
                        + f"  -> {best}"
                    )
    return {"timings_ms": timings, "choice": choice}


def markdown(record: dict) -> str:
    exp = record["expansion"]
    lines = [
        "# Poker expansion formulations (measured)",
        "",
        f"Produced by `{record['command']}` on {record['hardware']['cpu']} "
        f"({record['hardware']['cores']} cores), {record['date']}, torch {record['versions']['torch']}, "
        f"onnxruntime {record['versions']['onnxruntime']}. Median µs of one whole Poker module "
        "(pointwise + expansion + SE) at batch 1; **bold** = chosen. `grouped` is the module as trained.",
        "",
    ]
    for config, per_t in exp["timings_us"].items():
        for t, per_shape in per_t.items():
            lines += [
                f"## {config}, {t} thread(s)",
                "",
                "| shape (M, k, size) | " + " | ".join(VARIANTS) + " | chosen vs grouped |",
                "|---|" + "---:|" * (len(VARIANTS) + 1),
            ]
            for key, medians in per_shape.items():
                best = min(medians, key=medians.get)
                cells = [f"**{medians[v]:.0f}**" if v == best else f"{medians[v]:.0f}" for v in VARIANTS]
                lines.append(f"| {key} | " + " | ".join(cells) + f" | {medians['grouped'] / medians[best]:.2f}× |")
            total = {v: sum(m[v] for m in per_shape.values()) for v in VARIANTS}
            lines += [
                "| **sum** | "
                + " | ".join(f"{total[v]:.0f}" for v in VARIANTS)
                + f" | overall winner: {exp['overall'][config][t]} |",
                "",
            ]
    lines += [
        "## Whole-model options (median ms)",
        "",
        "| runtime | threads | model | options timed | chosen |",
        "|---|---:|---|---|---|",
    ]
    for runtime, per_t in record["model"]["timings_ms"].items():
        for t, per_model in per_t.items():
            for name, medians in per_model.items():
                chosen = record["model"]["choice"][runtime][t][name]
                lines.append(
                    f"| {runtime} | {t} | {name} | "
                    + ", ".join(f"{k} {v:.2f}" for k, v in medians.items())
                    + f" | {chosen['memory_format']}, pad {chosen['ghost_pad']} |"
                )
    return "\n".join(lines) + "\n"


def merge(into: dict, part: dict) -> dict:
    """Deep-merge nested dicts (the cells of the record are disjoint)."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def measure_cell(runtime: str, threads: int, budget: float, model_budget: float, min_runs: int) -> dict:
    """Part A then part B for one runtime and thread count."""
    expansion = part_a([runtime], [threads], budget, min_runs)
    return {"expansion": expansion, "model": part_b(expansion, [runtime], [threads], model_budget, min_runs)}


def cell_in_child(runtime: str, threads: int, budget: float, model_budget: float, min_runs: int) -> dict:
    """ORT with several threads: a fresh process whose sessions share one thread pool
    (see pokernet.latency.runtimes.use_ort_global_pool)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cell.json"
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--cell",
                runtime,
                str(threads),
                str(budget),
                str(model_budget),
                str(min_runs),
                str(out),
            ],
            check=True,
        )
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--cell"]:  # child: one ORT cell with a shared thread pool
        runtime, threads, budget, model_budget, min_runs, out = argv[1:]
        use_ort_global_pool(int(threads))
        cell = measure_cell(runtime, int(threads), float(budget), float(model_budget), int(min_runs))
        Path(out).write_text(json.dumps(cell))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # paper_parallel's expansion is fixed (split, forked) and xnnpack records nothing yet: only
    # the runtimes with a format/padding table here are measured.
    measurable = [r for r in RUNTIMES if r in FORMATS]
    parser.add_argument("--runtime", nargs="+", choices=measurable, default=[r for r in ALL_RUNTIMES if r in FORMATS])
    parser.add_argument("--threads", nargs="+", type=int, default=sorted({1, available_cores()}))
    parser.add_argument("--budget-s", type=float, default=0.4, help="timed seconds per variant (part A)")
    parser.add_argument("--model-budget-s", type=float, default=1.5, help="timed seconds per option (part B)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets (smoke test; do not commit the result)")
    parser.add_argument("--out", type=Path, default=CHOICE_FILE)
    parser.add_argument(
        "--markdown", type=Path, default=ROOT / "results" / "benchmarks" / "poker_expansion_variants.md"
    )
    args = parser.parse_args(argv)
    budget, model_budget, min_runs = (0.02, 0.05, 3) if args.quick else (args.budget_s, args.model_budget_s, 15)
    measured: dict = {}
    for runtime in args.runtime:
        for threads in args.threads:
            if runtime == "onnxruntime" and threads > 1:
                cell = cell_in_child(runtime, threads, budget, model_budget, min_runs)
            else:
                cell = measure_cell(runtime, threads, budget, model_budget, min_runs)
            merge(measured, cell)
    record = {
        "generated_by": "benchmarks/poker_expansion_variants.py",
        "command": "python benchmarks/poker_expansion_variants.py " + " ".join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware_info(args.threads),
        "versions": runtime_versions(),
        "budget_s": {"part_a": budget, "part_b": model_budget, "min_runs": min_runs},
        **measured,
    }
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    atomic_write_text(args.markdown, markdown(record))
    log(f"wrote {args.out} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
