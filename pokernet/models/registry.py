"""One registry of model names (PokerNet and every baseline of Table 2).

A leaf: it imports no model file. The model files register their builders on import, and
``pokernet/models/__init__.py`` imports them all (timm's ``_registry.py`` layout).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    paper_row: str  # the row label of Table 2
    source: str  # where the implementation comes from
    family: str  # the architecture family (pokernet, ghostnet, mobilenetv2, ...)
    width: float | None  # the width multiplier the name stands for


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, paper_row: str, source: str, family: str, width: float | None) -> Callable:
    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name] = ModelEntry(name, builder, paper_row, source, family, width)
        return builder

    return wrap


def list_models() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


class ModelOptionError(ValueError):
    """An option value of the wrong type for a registered model; ``option`` names it."""

    def __init__(self, model: str, option: str, problem: str):
        super().__init__(f"model {model!r}: option {option} {problem}")
        self.model, self.option, self.problem = model, option, problem


def _option_problem(default: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for an option whose default is ``default``: the default's
    type is the option's type (``se='no'`` is not a bool, ``width=True`` is not a number)."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if isinstance(default, int):
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole else f"must be a whole number, got {value!r}"
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        return None if math.isfinite(value) else f"must be a finite number, got {value!r}"
    if isinstance(default, str):
        return None if isinstance(value, str) else f"must be a string, got {value!r}"
    return None


def option_defaults(name: str) -> dict[str, Any]:
    """The options a registered model takes and their defaults: the one look at a builder's
    signature (a ``functools.partial`` builder shows its bound values as defaults). Only
    parameters with a scalar default are options; structured ones (PokerNet's ``blocks``, the
    Table 1 data) are the architecture, not a setting."""
    parameters = inspect.signature(get_entry(name).builder).parameters.values()
    return {p.name: p.default for p in parameters if isinstance(p.default, (bool, int, float, str))}


def create_model(name: str, **options: Any) -> nn.Module:
    """Build a registered model. Options a model does not take, or of the wrong type, are an
    error, not ignored (the builder checks the values' ranges)."""
    defaults = option_defaults(name)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(
            f"model {name!r} does not take option(s) {', '.join(unknown)}; it takes: {', '.join(defaults)}"
        )
    for option, value in options.items():
        if problem := _option_problem(defaults[option], value):
            raise ModelOptionError(name, option, problem)
    return get_entry(name).builder(**options)


def model_options(name: str) -> list[str]:
    return list(option_defaults(name))
