"""One registry of model names (PokerNet and every baseline of Table 2)."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    paper_row: str  # the row label of Table 2
    source: str  # where the implementation comes from


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, paper_row: str, source: str) -> Callable:
    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name] = ModelEntry(name, builder, paper_row, source)
        return builder
    return wrap


def _entries() -> dict[str, ModelEntry]:
    # The builders register themselves on import; import both packages lazily so the
    # registry can be imported by them without a cycle.
    from . import zoo  # noqa: F401
    import baselines  # noqa: F401
    return _REGISTRY


def list_models() -> list[str]:
    return list(_entries())


def get_entry(name: str) -> ModelEntry:
    entries = _entries()
    if name not in entries:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(entries)}")
    return entries[name]


def create_model(name: str, **options: Any) -> nn.Module:
    """Build a registered model. Options a model does not take are an error, not ignored."""
    entry = get_entry(name)
    accepted = inspect.signature(entry.builder).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"model {name!r} does not take option(s) {', '.join(unknown)}; "
                         f"it takes: {', '.join(accepted)}")
    return entry.builder(**options)


def model_options(name: str) -> list[str]:
    return list(inspect.signature(get_entry(name).builder).parameters)
