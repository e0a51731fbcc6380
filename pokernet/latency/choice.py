"""The recorded choice (``expansion_choice.json``, written by ``pokernet latency --choose``
from measurements): which Poker expansion variant and which whole-model options (memory
format, Ghost padding) are fastest, per CPU ISA, runtime, memory format, thread count and
layer shape. The file holds one entry per ISA (``entries[ISA]``, each carrying the hardware it
was measured on, ISA included). A run applies the entry of its CPU's ISA; where none is
recorded it applies another ISA's entry and says so (``rewrite_choice`` in the latency JSON,
printed by Table 3). Nothing recorded: the model as trained."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CHOICE_FILE = Path(__file__).with_name("expansion_choice.json")
_IN_USE = {"path": CHOICE_FILE}

# A runtime fed another runtime's graph takes that runtime's recorded choice where nothing is
# recorded for itself: OpenVINO runs the ONNX export of the ONNX Runtime row, so it gets the
# Poker expansion variant and Ghost padding measured fastest in ONNX Runtime (no OpenVINO
# measurement is implied; ``pokernet latency --choose --runtime openvino`` records its own).
RECORDED_FOR = {"openvino": "onnxruntime", "paper_parallel": "torchscript"}


def use_choice_file(path: Path | str) -> None:
    """Make ``path`` the choice file this process applies (``pokernet latency --choice``)."""
    _IN_USE["path"] = Path(path)


def choice_file() -> Path:
    return _IN_USE["path"]


@cache
def _read_choice(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}


def load_choice(path: Path | str | None = None) -> dict:
    """The choice file (default: the one in use) as recorded, {"entries": {ISA: entry}}; {} if absent."""
    return _read_choice(str(path or choice_file()))


def cpu_isa() -> str:
    """This CPU's ISA as torch dispatches to it (the ``hardware.isa`` of every latency record)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def entry_for(isa: str, record: dict | None = None) -> tuple[dict, str | None]:
    """The entry to apply on a CPU with ``isa`` and the ISA it was recorded on: this ISA's
    entry; else the first other ISA's (the caller says so); ({}, None) when nothing is recorded."""
    entries = (load_choice() if record is None else record).get("entries", {})
    if isa in entries:
        return entries[isa], isa
    for other in sorted(entries):
        return entries[other], other
    return {}, None


def applied_entry() -> dict:
    """The entry this process applies (the choice file in use, this CPU's ISA)."""
    return entry_for(cpu_isa())[0]


def choice_note(isa_here: str, optimized: bool = True, record: dict | None = None) -> str:
    """Which recorded choice a latency run applies, and whether it was measured on this CPU's ISA
    (``isa_here``): the latency JSON's ``rewrite_choice``, printed by Table 3."""
    if not optimized:
        return "none (--direct: the models as built)"
    name = choice_file().name
    entry, isa = entry_for(isa_here, record)
    if isa is None:
        return f"none recorded ({name} absent or empty): every model as trained, contiguous, Ghost padding 1"
    made = entry.get("hardware", {})
    source = (
        f"{name} entry {isa}, measured on {made.get('cpu', 'an unknown CPU')} ({made.get('isa', '?')}, threads "
        f"{', '.join(map(str, made.get('threads', []))) or '?'}) on {str(entry.get('date', '?'))[:10]}"
    )
    if isa == isa_here:
        return f"{source}: this CPU's ISA"
    return (
        f"{source}, applied on this {isa_here} CPU: NOT recorded on this ISA "
        f"(`pokernet latency --choose` records a choice for {isa_here})"
    )


def record_entry(record: dict, entry: dict) -> dict:
    """``record`` with ``entry`` as its ISA's entry; the runtimes and thread counts of an earlier
    entry for that ISA that ``entry`` did not measure are kept (its hardware, date and command
    are then those of the latest run)."""
    entries = dict(record.get("entries", {}))
    isa = entry["hardware"]["isa"]
    entries[isa] = merge(json.loads(json.dumps(entries.get(isa, {}))), entry)
    return {**record, "entries": entries}


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
    expansion = (applied_entry() if choice is None else choice).get("expansion", {})
    per_shape = by_threads(recorded(expansion.get("choice", {}), config), threads) or {}
    if size is not None and shape_key(m, k, size) in per_shape:
        return per_shape[shape_key(m, k, size)]
    return by_threads(recorded(expansion.get("overall", {}), config), threads) or "grouped"


def model_choice(model_name: str, runtime: str, threads: int, choice: dict | None = None) -> dict[str, Any]:
    """Whole-model options measured best for this model (memory format, Ghost padding),
    as recorded by ``pokernet latency --choose``; defaults when not recorded."""
    choice = applied_entry() if choice is None else choice
    per_model = by_threads(recorded(choice.get("model", {}).get("choice", {}), runtime), threads) or {}
    return {"memory_format": "contiguous", "ghost_pad": 1, **per_model.get(model_name, {})}


def merge(into: dict, part: dict) -> dict:
    """Deep-merge nested dicts (``part`` wins where both hold a value)."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into
