"""One registry of model names (PokerNet and every baseline of Table 2).

A leaf without torch: the names and their Table 2 data are ``catalog.MODELS``; each model file
registers its builder under its name on import (``register``), and ``builder(name)`` imports
the file the catalog names on first use. Listing or checking names imports no model file.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .catalog import MODELS, ModelInfo

if TYPE_CHECKING:
    from torch import nn

# The one name -> model table; get_entry's answer (ModelEntry kept as the name callers use).
ModelEntry = ModelInfo
_ENTRIES: dict[str, ModelInfo] = {info.name: info for info in MODELS}
_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register(name: str) -> Callable:
    """Register the builder of a catalogued model (``catalog.MODELS`` holds its data)."""
    get_entry(name)

    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _BUILDERS[name] = builder
        return builder

    return wrap


def list_models() -> list[str]:
    return list(_ENTRIES)


def get_entry(name: str) -> ModelInfo:
    if name not in _ENTRIES:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(_ENTRIES)}")
    return _ENTRIES[name]


def builder(name: str) -> Callable[..., nn.Module]:
    """The builder of a registered model, importing the file that registers it."""
    importlib.import_module(get_entry(name).module)
    return _BUILDERS[name]


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
    parameters = inspect.signature(builder(name)).parameters.values()
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
    return builder(name)(**options)


def model_options(name: str) -> list[str]:
    return list(option_defaults(name))
