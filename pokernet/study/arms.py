"""The arms of the key study: the variants behind the accuracy claims of Tables 2, 4 and 5,
named as the workflow names them (``pokernet.models.variant``)."""

from __future__ import annotations

from pokernet.models.variant import ABLATIONS, Variant

WIDTHS = ("pokernet_050", "pokernet_100")

# Key arms first (PokerNet and its reference GhostNet at each width), then the ablations.
STUDY_ARMS: tuple[Variant, ...] = (
    *(Variant(model) for model in WIDTHS),
    *(Variant(model).reference for model in WIDTHS),
    *(Variant(model, ablation) for ablation in ABLATIONS for model in WIDTHS),
)


def arm_by_variant(name: str) -> Variant:
    arm = Variant.parse(name)
    if arm not in STUDY_ARMS:
        raise ValueError(f"unknown study arm {name!r}; arms: {', '.join(a.name for a in STUDY_ARMS)}")
    return arm
