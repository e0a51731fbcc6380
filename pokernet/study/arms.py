"""The arms of the key study: the models and options behind the accuracy claims of Tables 2,
4 and 5, named as the workflow names its variants (``workflow/rules/common.smk``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arm:
    model: str
    suffix: str = ""  # the workflow's variant suffix: no_se, act_relu, act_relu6
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def variant(self) -> str:
        return f"{self.model}-{self.suffix}" if self.suffix else self.model


ABLATIONS = {"no_se": {"se": False}, "act_relu": {"act": "relu"}, "act_relu6": {"act": "relu6"}}
WIDTHS = ("pokernet_050", "pokernet_100")

STUDY_ARMS: tuple[Arm, ...] = (
    *(Arm(model) for model in ("pokernet_050", "pokernet_100", "ghostnet_050", "ghostnet_100")),
    *(Arm(model, suffix, options) for suffix, options in ABLATIONS.items() for model in WIDTHS),
)


def arm_by_variant(variant: str) -> Arm:
    for arm in STUDY_ARMS:
        if arm.variant == variant:
            return arm
    raise ValueError(f"unknown study arm {variant!r}; arms: {', '.join(a.variant for a in STUDY_ARMS)}")
