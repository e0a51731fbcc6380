"""One registry of model names (PokerNet and every baseline of Table 2).

A leaf: it imports no model file. The model files register their builders on import, and
``pokernet/models/__init__.py`` imports them all (timm's ``_registry.py`` layout).
"""
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


def list_models() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


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
