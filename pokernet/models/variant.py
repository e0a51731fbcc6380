"""An arm of the study as one type: a registered model and, optionally, one ablation of
Table 4 or 5. It parses and prints the names the workflow uses (``pokernet_050-no_se``),
knows its options, its `pokernet` flags and its reference arm (GhostNet of the same width).

Adding an ablation is one line in ``ABLATIONS``; adding a width is one line in
``catalog.MODELS`` (``pokernet_entry(width)`` for PokerNet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .registry import get_entry, list_models, option_defaults

# The family every width's accuracy and latency are compared against (Tables 2 and 3).
POKERNET_FAMILY = "pokernet"
REFERENCE_FAMILY = "ghostnet"
SEPARATOR = "-"
# Options that say what a run was trained on or with, not which variant it is (a Fashion-MNIST
# run has in_chans=1, num_classes=10; the recipe sets drop_rate).
DATA_OPTIONS = ("num_classes", "in_chans", "drop_rate")


@dataclass(frozen=True)
class Ablation:
    table: str  # the paper's table that reports it
    options: Mapping[str, Any]  # the model options that make it
    label: str  # as the paper's table prints the setting


# The one table of ablations: suffix -> what it changes. Only PokerNet takes these options.
ABLATIONS: Mapping[str, Ablation] = MappingProxyType(
    {
        "no_se": Ablation("table4", MappingProxyType({"se": False}), "SE: No"),
        "act_relu": Ablation("table5", MappingProxyType({"act": "relu"}), "Act: ReLU"),
        "act_relu6": Ablation("table5", MappingProxyType({"act": "relu6"}), "Act: ReLU6"),
    }
)


@dataclass(frozen=True, order=True)
class Variant:
    model: str
    ablation: str = ""  # a key of ABLATIONS, or "" for the model as published

    def __post_init__(self) -> None:
        get_entry(self.model)  # unknown model: the registry's message lists the known ones
        if self.ablation and self.ablation not in ABLATIONS:
            raise ValueError(f"unknown ablation {self.ablation!r} in {self.name!r}; known: {', '.join(ABLATIONS)}")

    @classmethod
    def parse(cls, name: str) -> Variant:
        """``pokernet_050`` or ``pokernet_050-no_se`` (the workflow's run folder names)."""
        model, _, ablation = name.partition(SEPARATOR)
        return cls(model, ablation)

    @classmethod
    def from_options(cls, model: str, options: Mapping[str, Any]) -> Variant:
        """The variant a (model, options) record is: options at their defaults and the data
        options are ignored; what is left must be exactly one ablation's options (or none)."""
        defaults = option_defaults(model)
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ValueError(f"model {model!r} does not take option(s) {', '.join(unknown)}")
        changed = {k: v for k, v in options.items() if k not in DATA_OPTIONS and defaults[k] != v}
        if not changed:
            return cls(model)
        for suffix, ablation in ABLATIONS.items():
            if changed == dict(ablation.options):
                return cls(model, suffix)
        raise ValueError(
            f"model {model!r} with options {changed} is no known variant "
            f"(ablations: {', '.join(f'{k} = {dict(a.options)}' for k, a in ABLATIONS.items())})"
        )

    @property
    def name(self) -> str:
        return f"{self.model}{SEPARATOR}{self.ablation}" if self.ablation else self.model

    def __str__(self) -> str:
        return self.name

    @property
    def options(self) -> dict[str, Any]:
        """The model options that make this variant (none for a published model)."""
        return dict(ABLATIONS[self.ablation].options) if self.ablation else {}

    @property
    def width(self) -> float | None:
        return get_entry(self.model).width

    @property
    def family(self) -> str:
        return get_entry(self.model).family

    @property
    def reference(self) -> Variant | None:
        """PokerNet's reference arm: GhostNet of the same width, as published (Tables 2 and 3).
        None for every other family (the paper pairs only PokerNet with GhostNet)."""
        if self.family != POKERNET_FAMILY:
            return None
        return next(
            (
                Variant(m)
                for m in list_models()
                if get_entry(m).family == REFERENCE_FAMILY and get_entry(m).width == self.width
            ),
            None,
        )

    def cli_flags(self) -> list[str]:
        """The `pokernet train/complexity` flags that select this variant's options."""
        flags: list[str] = []
        for key, value in self.options.items():
            if isinstance(value, bool):
                flags += [] if value else [f"--no-{key.replace('_', '-')}"]
            else:
                flags += [f"--{key.replace('_', '-')}", str(value)]
        return flags


def ablated(models: list[str], table: str) -> list[Variant]:
    """The variants of one ablation table: each model as published, then with each ablation."""
    base = [Variant(m) for m in models]
    return base + [Variant(m, suffix) for m in models for suffix, a in ABLATIONS.items() if a.table == table]
