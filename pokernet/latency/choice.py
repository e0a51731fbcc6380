"""The recorded choice (``expansion_choice.json``, written by
benchmarks/poker_expansion_variants.py from measurements): which Poker expansion variant and
which whole-model options (memory format, Ghost padding) are fastest per runtime, memory
format, thread count and layer shape. Nothing recorded: the model as trained."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CHOICE_FILE = Path(__file__).with_name("expansion_choice.json")

# A runtime fed another runtime's graph takes that runtime's recorded choice where nothing is
# recorded for itself: OpenVINO runs the ONNX export of the ONNX Runtime row, so it gets the
# Poker expansion variant and Ghost padding measured fastest in ONNX Runtime (no OpenVINO
# measurement is implied; benchmarks/poker_expansion_variants.py can record its own).
RECORDED_FOR = {"openvino": "onnxruntime", "paper_parallel": "torchscript"}


@cache
def _read_choice(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}


def load_choice(path: Path | str = CHOICE_FILE) -> dict:
    """The measured choice (benchmarks/poker_expansion_variants.py writes it); {} if absent."""
    return _read_choice(str(path))


def choice_note(isa_here: str, optimized: bool = True, choice: dict | None = None) -> str:
    """Which recorded choice a latency run applies, and whether it was measured on this CPU's ISA
    (``isa_here``: torch.backends.cpu.get_cpu_capability()): Table 3 prints it."""
    if not optimized:
        return "none (--direct: the models as built)"
    choice = load_choice() if choice is None else choice
    if not choice:
        return f"none recorded ({CHOICE_FILE.name} absent): every model as trained, contiguous, Ghost padding 1"
    made = choice.get("hardware", {})
    isa = made.get("isa", "unknown ISA")
    source = (
        f"{CHOICE_FILE.name}, measured on {made.get('cpu', 'an unknown CPU')} ({isa}, threads "
        f"{', '.join(map(str, made.get('threads', []))) or '?'}) on {str(choice.get('date', '?'))[:10]}"
    )
    if isa == isa_here:
        return f"{source}: this CPU's ISA"
    return (
        f"{source}, applied as recorded on this {isa_here} CPU: no choice measured for {isa_here} "
        f"(python benchmarks/poker_expansion_variants.py measures one)"
    )


def shape_key(m: int, k: int, size: int) -> str:
    return f"M{m}_k{k}_s{size}"


def config_key(runtime: str, memory_format: str = "contiguous") -> str:
    """Expansion choices are recorded per runtime and memory format ("eager+channels_last")."""
    return runtime if memory_format == "contiguous" else f"{runtime}+{memory_format}"


def recorded(table: dict, config: str) -> dict:
    """``table[config]``, else the entry of the runtime whose graph ``config`` runs (RECORDED_FOR)."""
    if config in table:
        return table[config]
    runtime, plus, memory_format = config.partition("+")
    return table.get(RECORDED_FOR[runtime] + plus + memory_format, {}) if runtime in RECORDED_FOR else {}


def by_threads(table: dict, threads: int):
    """The entry recorded for ``threads``, else for the nearest recorded thread count."""
    if not table:
        return None
    if str(threads) in table:
        return table[str(threads)]
    return table[min(table, key=lambda t: (abs(int(t) - threads), -int(t)))]


def chosen_variant(config: str, threads: int, m: int, k: int, size: int | None, choice: dict | None = None) -> str:
    """Variant recorded for this runtime config/threads/shape; the config's overall winner
    for a shape not measured; ``grouped`` (the module as trained) when nothing is recorded."""
    expansion = (load_choice() if choice is None else choice).get("expansion", {})
    per_shape = by_threads(recorded(expansion.get("choice", {}), config), threads) or {}
    if size is not None and shape_key(m, k, size) in per_shape:
        return per_shape[shape_key(m, k, size)]
    return by_threads(recorded(expansion.get("overall", {}), config), threads) or "grouped"


def model_choice(model_name: str, runtime: str, threads: int, choice: dict | None = None) -> dict[str, Any]:
    """Whole-model options measured best for this model (memory format, Ghost padding),
    as recorded by benchmarks/poker_expansion_variants.py; defaults when not recorded."""
    choice = load_choice() if choice is None else choice
    per_model = by_threads(recorded(choice.get("model", {}).get("choice", {}), runtime), threads) or {}
    return {"memory_format": "contiguous", "ghost_pad": 1, **per_model.get(model_name, {})}
