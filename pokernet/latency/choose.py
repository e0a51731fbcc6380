"""``pokernet latency --choose``: measure the equivalent Poker expansion formulations and the
whole-model options, and record the fastest for this CPU's ISA (:mod:`.choice` reads it).

Part A, per layer: for every Poker module shape of PokerNet-0.5× and -1.0× at 224 (M, k,
input size), time the whole Poker module (pointwise, expansion, SE) with each expansion
variant of :mod:`.variants`, per runtime, memory format and thread count, the variants
interleaved. Each variant is first checked to give the reference module's output.

Part B, per model: for PokerNet and GhostNet at both widths, time the whole-model options
(memory format for eager/TorchScript; Ghost-module channel padding) with the Part A choice
applied, interleaved, and record the best for each model. GhostNet gets the same options.
A full run takes about 10 minutes on 2 cores; ``--quick`` seconds (a smoke test: its choice
is noise)."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pokernet.models import create_model
from pokernet.models.layers import PokerModule
from pokernet.provenance import hardware_info, runtime_versions

from .child import run_in_child
from .choice import config_key, merge, shape_key
from .equivalence import check_equal, randomize_bn
from .prepare import prepare_module
from .runtimes import build_call, torch_threads, use_ort_global_pool
from .timing import summarize, time_interleaved
from .variants import VARIANTS, make_expansion, poker_module_rows

WIDTH_MODELS = ("pokernet_050", "pokernet_100")
MODELS = ("pokernet_050", "ghostnet_050", "pokernet_100", "ghostnet_100")
FORMATS = {
    "eager": ("contiguous", "channels_last"),
    "torchscript": ("contiguous", "channels_last"),
    "onnxruntime": ("contiguous",),
    "openvino": ("contiguous",),
}
GHOST_PADS = {"eager": (1, 4), "torchscript": (1, 4), "onnxruntime": (1, 4, 8), "openvino": (1, 4, 8)}
# seconds per call timed: part_a, each expansion variant of a shape; part_b, each whole-model option
QUICK_BUDGETS = {"part_a": 0.02, "part_b": 0.05, "min_runs": 3}
QUICK_MODELS = ("pokernet_050", "ghostnet_050")  # --quick: one width, for a smoke test
FULL_BUDGETS = {"part_a": 0.4, "part_b": 1.5, "min_runs": 15}
ACTIVATIONS = {"ReLU6": nn.ReLU6, "Hardswish": nn.Hardswish, "ReLU": nn.ReLU}


def poker_shapes(models: tuple[str, ...] = WIDTH_MODELS) -> dict[str, dict]:
    """Every distinct Poker module of ``models``: key -> M, k, size, activation, SE."""
    shapes: dict[str, dict] = {}
    for row in poker_module_rows(models):
        poker = row["poker"]
        entry = shapes.setdefault(
            shape_key(row["m"], row["k"], row["size"]),
            {
                "M": row["m"],
                "k": row["k"],
                "size": row["size"],
                "act": type(poker.expand[2]).__name__,
                "se": not isinstance(poker.se, nn.Identity),
                "models": [],
            },
        )
        if row["model"] not in entry["models"]:
            entry["models"].append(row["model"])
    return shapes


def poker_variant(reference: PokerModule, variant: str) -> tuple[nn.Module, torch.Tensor | None]:
    """The module with ``variant`` as expansion; the permutation is folded into its SE (as
    in the network) so the output comes permuted: returns it and the order (or None)."""
    module = copy.deepcopy(reference)
    expansion = make_expansion(reference.expand, variant, restore_order=False)
    module.replace_expansion(expansion, expansion.order)
    return module.eval(), expansion.order


def variant_calls(shape: dict, runtime: str, fmt: str, threads: int, label: str) -> dict[str, Callable]:
    """A runnable call per expansion variant of one Poker module shape, each checked to give
    the reference module's output."""
    torch.manual_seed(0)
    reference = randomize_bn(
        PokerModule(shape["M"], shape["M"] * shape["k"], ACTIVATIONS[shape["act"]], use_se=shape["se"])
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
        call = build_call(runtime, module, x, threads, fmt)
        got = torch.as_tensor(call()).float()
        if order is not None:
            got = got.index_select(1, torch.argsort(order))
        check_equal(f"{variant} {label}", got, expected)
        calls[variant] = call
    return calls


def time_expansion_variants(
    runtime: str, threads: int, budget_s: float, min_runs: int, log: Callable[[str], None], models
) -> dict:
    """Per Poker module shape of ``models``, the median µs of each expansion variant; the fastest
    per shape and overall (least summed time), per memory format."""
    shapes = poker_shapes(tuple(m for m in models if m in WIDTH_MODELS))
    timings: dict = {}
    for fmt in FORMATS[runtime]:
        config = config_key(runtime, fmt)
        with torch_threads(threads):
            for key, shape in shapes.items():
                calls = variant_calls(shape, runtime, fmt, threads, f"{key} ({config})")
                times = time_interleaved(calls, budget_s, min_runs, warmup_s=0.05)
                medians = {v: round(summarize(t)["median_ms"] * 1e3, 2) for v, t in times.items()}
                timings.setdefault(config, {}).setdefault(str(threads), {})[key] = medians
                best = min(medians, key=medians.get)
                log(
                    f"{config:26s} t={threads} {key:14s} "
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


def option_calls(name: str, model: nn.Module, runtime: str, threads: int, x, expected, draft: dict):
    """A call per whole-model option (memory format, Ghost padding) with the part A choice
    applied, each checked against the model's output; and the options of each label."""
    calls, options_of = {}, {}
    for fmt in FORMATS[runtime]:
        for pad in GHOST_PADS[runtime]:
            options = {"memory_format": fmt, "ghost_pad": pad}
            module, notes = prepare_module(name, model, runtime, threads, 224, True, options, draft)
            if pad > 1 and notes["ghost_pad"]["modules"] == 0:
                continue  # nothing to pad: same as pad 1
            call = build_call(runtime, module, x, threads, fmt)
            check_equal(f"{name} {options} ({runtime})", call(), expected)
            label = f"{fmt}/pad{pad}"
            calls[label], options_of[label] = call, options
    return calls, options_of


def time_model_options(
    expansion: dict, runtime: str, threads: int, budget_s: float, min_runs: int, log, models
) -> dict:
    """Per model, the median ms of each whole-model option and the fastest."""
    draft = {"expansion": expansion}
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    timings: dict = {}
    choice: dict = {}
    with torch_threads(threads):
        for name in models:
            model = randomize_bn(create_model(name)).eval()
            with torch.no_grad():
                expected = model(x)
            calls, options_of = option_calls(name, model, runtime, threads, x, expected, draft)
            times = time_interleaved(calls, budget_s, min_runs, warmup_s=0.2)
            medians = {label: summarize(t)["median_ms"] for label, t in times.items()}
            best = min(medians, key=medians.get)
            timings.setdefault(runtime, {}).setdefault(str(threads), {})[name] = medians
            choice.setdefault(runtime, {}).setdefault(str(threads), {})[name] = options_of[best]
            log(
                f"{runtime:12s} t={threads} {name:13s} "
                + "  ".join(f"{k}={v:.2f}ms" for k, v in medians.items())
                + f"  -> {best}"
            )
    return {"timings_ms": timings, "choice": choice}


def cell_job(job: dict[str, Any]) -> dict:
    """Part A then part B for one runtime and thread count (a job: also run in a child process,
    :func:`.child.run_in_child`, for ONNX Runtime's shared thread pool)."""
    runtime, threads, budgets = job["runtime"], job["threads"], job["budgets"]
    if job.get("ort_global_pool"):
        use_ort_global_pool(threads)
    log = (lambda m: print(m, file=__import__("sys").stderr, flush=True)) if job["verbose"] else (lambda m: None)
    models = job["models"]
    expansion = time_expansion_variants(runtime, threads, budgets["part_a"], budgets["min_runs"], log, models)
    return {
        "expansion": expansion,
        "model": time_model_options(expansion, runtime, threads, budgets["part_b"], budgets["min_runs"], log, models),
    }


def choose(
    runtimes: list[str], threads: list[int], budgets: dict, command: str, models=MODELS, verbose: bool = True
) -> dict:
    """Measure every runtime and thread count on the Poker shapes of ``models``' PokerNets and on
    ``models`` whole; the entry for this CPU's ISA (``hardware.isa``)."""
    measured: dict = {}
    for runtime in runtimes:
        for n_threads in threads:
            job = {
                "runtime": runtime,
                "threads": n_threads,
                "budgets": budgets,
                "models": list(models),
                "verbose": verbose,
            }
            if runtime == "onnxruntime" and n_threads > 1:
                job["ort_global_pool"] = True
                cell = run_in_child("pokernet.latency.choose:cell_job", job, f"the {runtime} choice")
            else:
                cell = cell_job(job)
            merge(measured, cell)
    return {
        "generated_by": "pokernet latency --choose",
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware_info(threads),
        "versions": runtime_versions(),
        "budget_s": budgets,
        "models": list(models),
        **measured,
    }


def markdown(entry: dict) -> str:
    """The measured tables of one ISA's entry (``pokernet latency --choose`` prints them)."""
    exp, made = entry["expansion"], entry["hardware"]
    lines = [
        "# Poker expansion formulations (measured)",
        "",
        f"Produced by `{entry['command']}` on {made['cpu']} ({made['isa']}, {made['cores']} cores), "
        f"{entry['date']}, torch {entry['versions']['torch']}, onnxruntime {entry['versions'].get('onnxruntime')}. "
        "Median µs of one whole Poker module (pointwise + expansion + SE) at batch 1; **bold** = chosen. "
        "`grouped` is the module as trained.",
        "",
    ]
    for config, per_t in exp["timings_us"].items():
        for t, per_shape in per_t.items():
            lines += [f"## {config}, {t} thread(s)", "", *variant_rows(per_shape, exp["overall"][config][t]), ""]
    lines += [
        "## Whole-model options (median ms)",
        "",
        "| runtime | threads | model | options timed | chosen |",
        "|---|---:|---|---|---|",
    ]
    for runtime, per_t in entry["model"]["timings_ms"].items():
        for t, per_model in per_t.items():
            for name, medians in per_model.items():
                chosen = entry["model"]["choice"][runtime][t][name]
                lines.append(
                    f"| {runtime} | {t} | {name} | "
                    + ", ".join(f"{k} {v:.2f}" for k, v in medians.items())
                    + f" | {chosen['memory_format']}, pad {chosen['ghost_pad']} |"
                )
    return "\n".join(lines) + "\n"


def variant_rows(per_shape: dict, overall: str) -> list[str]:
    rows = [
        "| shape (M, k, size) | " + " | ".join(VARIANTS) + " | chosen vs grouped |",
        "|---|" + "---:|" * (len(VARIANTS) + 1),
    ]
    for key, medians in per_shape.items():
        best = min(medians, key=medians.get)
        cells = [f"**{medians[v]:.0f}**" if v == best else f"{medians[v]:.0f}" for v in VARIANTS]
        rows.append(f"| {key} | " + " | ".join(cells) + f" | {medians['grouped'] / medians[best]:.2f}× |")
    total = {v: sum(m[v] for m in per_shape.values()) for v in VARIANTS}
    rows.append("| **sum** | " + " | ".join(f"{total[v]:.0f}" for v in VARIANTS) + f" | overall winner: {overall} |")
    return rows
