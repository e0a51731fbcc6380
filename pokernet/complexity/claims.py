"""Counts behind three claims of the paper's text that no table holds (paper.yaml claims
``pointwise_share``, ``width_exponent`` and ``selection_criterion``).

Convention: MAdds = multiply-accumulates of the conv and linear weights for one image (bias adds
excluded), counted from the real modules by forward hooks; their sum equals
``count_madds_flop_counter`` (torch.utils.flop_counter / 2), which the tests check. A 1×1 conv is
"pointwise" whatever its groups (ShuffleNetV1's grouped 1×1 convs, SE's 1×1 convs and the 1×1 head
conv included); "depthwise" is a k×k conv with one group per input channel (channel multiplier
allowed: the Poker expansion); "dense" is any other k×k conv (the stems); "linear" the
classifiers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from pokernet.models import TABLE1_BLOCKS, BlockConfig, PokerNet, create_model
from pokernet.paper import table

KERNEL = 3  # d of Eqs. 1-2, "often taken as 3"
RESOLUTION = 224  # the paper's MAdds are counted at 3×224×224
WIDTHS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5)
KINDS = ("pointwise", "depthwise", "dense", "linear")


# --- Eqs. 1 and 2 (§3.1.1, §4.3) --------------------------------------------------------


def ghost_module_cost(m: float, k: float, d: int = KERNEL, h: int = 1, w: int = 1) -> float:
    """Eq. 1: pointwise m -> km/2, then a d×d depthwise conv on those km/2 channels."""
    return h * w * m * (k * m / 2 + k * d * d / 2)


def poker_module_cost(m: float, k: float, d: int = KERNEL, h: int = 1, w: int = 1) -> float:
    """Eq. 2: pointwise m -> m, then k d×d depthwise convs on the m channels (SE omitted)."""
    return h * w * m * (m + k * d * d)


def eq3_as_printed(m: float, k: float, d: int = KERNEL) -> float:
    """The right-hand side of Eq. 3 as printed, 2/k·(m + kd²)/(m + d²): the reciprocal of the C_g/C_p
    that its left side names and Eqs. 1-2 give."""
    return 2 / k * (m + k * d * d) / (m + d * d)


# --- counting by layer kind ---------------------------------------------------------------


def layer_kind(module: nn.Module) -> str | None:
    if isinstance(module, nn.Linear):
        return "linear"
    if not isinstance(module, nn.Conv2d):
        return None
    if module.kernel_size == (1, 1):
        return "pointwise"
    if module.groups == module.in_channels and module.groups > 1:
        return "depthwise"
    return "dense"


def _weight_macs(module: nn.Module, output: torch.Tensor) -> int:
    """MACs of one call: every output element takes (in/groups)·kh·kw products."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)


def build_on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """A model with shapes but no data: counting needs only the shapes, and is then instant."""
    with torch.device("meta"):
        return build()


def macs_by_kind(module: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """MACs per layer kind for one input of ``input_shape`` (batch of 1), on the module's device."""
    totals = dict.fromkeys(KINDS, 0)
    handles = []
    for layer in module.modules():
        kind = layer_kind(layer)
        if kind is not None:

            def hook(layer: nn.Module, _inputs, output: torch.Tensor, kind: str = kind) -> None:
                totals[kind] += _weight_macs(layer, output)

            handles.append(layer.register_forward_hook(hook))
    module.eval()
    try:
        with torch.no_grad():
            module(torch.zeros(1, *input_shape, device=next(module.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
    return totals


@dataclass(frozen=True)
class CostShares:
    model: str
    macs: dict[str, int]  # per layer kind

    @property
    def total(self) -> int:
        return sum(self.macs.values())

    @property
    def pointwise_share(self) -> float:
        return self.macs["pointwise"] / self.total


def table2_models() -> list[str]:
    return [row["model"] for row in table("table2")["rows"]]


def pointwise_shares(models: list[str] | None = None, resolution: int = RESOLUTION) -> list[CostShares]:
    """Claim ``pointwise_share``: the MACs of every Table 2 model (1000 classes, 3×224×224) by kind."""
    return [
        CostShares(name, macs_by_kind(build_on_meta(lambda: create_model(name)), (3, resolution, resolution)))  # noqa: B023
        for name in (models or table2_models())
    ]


# --- cost against the width multiplier -------------------------------------------------------


def _ghostnet(width: float) -> nn.Module:
    # timm registers GhostNet only at 0.5/1.0/1.3; its (private) factory takes any width, with
    # the layout and rounding of the registered models.
    from timm.models.ghostnet import _create_ghostnet

    return _create_ghostnet("ghostnet_100", width=width)


WIDTH_FAMILIES: dict[str, Callable[[float], nn.Module]] = {
    "pokernet": lambda width: PokerNet(width=width),
    "ghostnet": _ghostnet,
}


def fit_exponent(widths: list[float], madds: list[float]) -> float:
    """e of MAdds ∝ α^e: the least-squares slope of log MAdds on log α."""
    slope, _ = np.polyfit(np.log(widths), np.log(madds), 1)
    return float(slope)


@dataclass(frozen=True)
class WidthFit:
    family: str
    widths: tuple[float, ...]
    madds: tuple[int, ...]

    @property
    def exponent(self) -> float:
        return fit_exponent(list(self.widths), list(self.madds))


def width_fits(widths: tuple[float, ...] = WIDTHS, resolution: int = RESOLUTION) -> list[WidthFit]:
    """Claim ``width_exponent``: MAdds of each family at every α, and the fitted exponent."""
    fits = []
    for family, build in WIDTH_FAMILIES.items():
        madds = tuple(
            sum(macs_by_kind(build_on_meta(lambda: build(width)), (3, resolution, resolution)).values())  # noqa: B023
            for width in widths
        )
        fits.append(WidthFit(family, tuple(widths), madds))
    return fits


# --- the Ghost/Poker selection criterion -------------------------------------------------------


@dataclass(frozen=True)
class SelectionRow:
    """One body row of Table 1 with the cost of both expansion choices at its position."""

    block: int  # 1-based row of Table 1's body
    kind: str  # Table 1's choice: "G" or "P"
    m: int  # input channels of the expansion (#in)
    k: float  # expansion factor #exp / #in
    size: int  # input feature-map side at 224×224
    ghost_eq: float  # Eq. 1 at this size
    poker_eq: float  # Eq. 2 at this size
    ghost_counted: int  # MACs of the whole bottleneck built as a G-bneck
    poker_counted: int  # ... and as a P-bneck (SE as Table 1's row says, for both)

    @property
    def cheaper_by_eqs(self) -> str:
        return "P" if self.poker_eq < self.ghost_eq else "G"

    @property
    def cheaper_counted(self) -> str:
        return "P" if self.poker_counted < self.ghost_counted else "G"

    @property
    def cheaper_by_printed_eq3(self) -> str:
        """The choice if Eq. 3 as printed, 2/k·(m + kd²)/(m + d²), is read as C_g/C_p."""
        return "P" if eq3_as_printed(self.m, self.k) > 1 else "G"


def _block_input_sizes(model: PokerNet, resolution: int) -> list[int]:
    sizes: list[int] = []
    handles = [
        block.register_forward_pre_hook(lambda _m, inputs: sizes.append(inputs[0].shape[-1])) for block in model.blocks
    ]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution, device=next(model.parameters()).device))
    for handle in handles:
        handle.remove()
    return sizes


def _bottleneck_macs(blocks: tuple[BlockConfig, ...], index: int, kind: str, size: int) -> int:
    flipped = blocks[:index] + (replace(blocks[index], kind=kind),) + blocks[index + 1 :]
    block = build_on_meta(lambda: PokerNet(blocks=flipped)).blocks[index]
    return sum(macs_by_kind(block, (blocks[index].in_chs, size, size)).values())


def selection_rows(blocks: tuple[BlockConfig, ...] = TABLE1_BLOCKS, resolution: int = RESOLUTION) -> list[SelectionRow]:
    """Claim ``selection_criterion``: Eqs. 1-2 and the counted bottlenecks at every row of Table 1
    (PokerNet-1.0×, where each block's input channels are Table 1's #in)."""
    sizes = _block_input_sizes(build_on_meta(lambda: PokerNet(blocks=blocks)), resolution)
    rows = []
    for index, (cfg, size) in enumerate(zip(blocks, sizes)):
        m, k = cfg.in_chs, cfg.exp_chs / cfg.in_chs
        rows.append(
            SelectionRow(
                index + 1,
                cfg.kind,
                m,
                k,
                size,
                ghost_module_cost(m, k, h=size, w=size),
                poker_module_cost(m, k, h=size, w=size),
                _bottleneck_macs(blocks, index, "G", size),
                _bottleneck_macs(blocks, index, "P", size),
            )
        )
    return rows


def count_claims(resolution: int = RESOLUTION, widths: tuple[float, ...] = WIDTHS) -> dict[str, Any]:
    """Every count behind the three claims, as the ``claims`` file contract (pokernet/schemas)."""
    return {
        "resolution": resolution,
        "pointwise_share": [asdict(shares) for shares in pointwise_shares(resolution=resolution)],
        "width_exponent": [
            {**asdict(fit), "widths": list(fit.widths), "madds": list(fit.madds)}
            for fit in width_fits(widths, resolution)
        ],
        "selection_criterion": [asdict(row) for row in selection_rows(resolution=resolution)],
    }
