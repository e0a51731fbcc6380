"""Exactly equivalent formulations of the Poker module's k-depthwise expansion (§3.1.2).

The training module stores the expansion as one grouped conv (groups=M, out=kM, weight
[kM, 1, d, d]); output channel ``i*k + b`` is branch ``b`` on input channel ``i``. CPU
libraries run that "channel multiplier" conv on a slow generic grouped path, while a
plain depthwise conv (multiplier 1) has a fast kernel everywhere. The variants below
trade the multiplier for a plain depthwise conv over kM channels:

* ``grouped``    the reference: the grouped conv itself (BN folded).
* ``interleave`` repeat every input channel k times in place (order ``i*k + b``), then
                 one depthwise conv over kM channels with the unchanged weights.
* ``tile``       repeat the whole input k times (order ``b*M + i``), one depthwise conv.
* ``split``      k separate depthwise M->M convs, concatenated (order ``b*M + i``).

``tile`` and ``split`` emit the channels in another order. The Poker bottleneck folds that
permutation into the layers that read the expansion
(:meth:`pokernet.models.layers.PokerBottleneck.replace_expansion`), so the block output is
unchanged and no runtime shuffle is paid; a PokerModule outside a Poker bottleneck gets an
explicit un-permute.
Every variant folds the expansion's BatchNorm into the conv; the activation is kept.

The variant used per runtime/thread count/layer shape is read from
``expansion_choice.json`` (:mod:`.choice`), which ``pokernet latency --choose`` (:mod:`.choose`)
writes from measurements.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from pokernet.models import create_model
from pokernet.models.layers import PokerBottleneck, PokerModule

from .choice import chosen_variant, config_key

VARIANTS = ("grouped", "interleave", "tile", "split")


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of conv followed by eval-mode BN, as one conv: torch's fold (the one the fx
    fuser of ``prepare.fold_bn_eager`` applies)."""
    weight, bias = fuse_conv_bn_weights(
        conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return weight.detach().clone(), bias.detach().clone()


def _depthwise(weight: torch.Tensor, bias: torch.Tensor, like: nn.Conv2d) -> nn.Conv2d:
    channels = weight.shape[0]
    conv = nn.Conv2d(
        channels, channels, like.kernel_size, like.stride, like.padding, like.dilation, groups=channels, bias=True
    )
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    return conv


def tile_order(m: int, k: int) -> torch.Tensor:
    """perm[j] = original channel at position j when channels come as b*M + i."""
    return torch.arange(m * k).reshape(m, k).t().reshape(-1)


class Expansion(nn.Module):
    """Base of the variants: ``order`` is the permutation of the output channels
    (None = the reference order i*k + b); ``restore`` undoes it at run time."""

    order: torch.Tensor | None = None

    def __init__(self, act: nn.Module):
        super().__init__()
        self.act = act
        self.restore: torch.Tensor | None = None

    def _finish(self, y: torch.Tensor) -> torch.Tensor:
        y = self.act(y)
        if self.restore is not None:
            y = y.index_select(1, self.restore)
        return y


class GroupedExpansion(Expansion):
    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, act: nn.Module):
        super().__init__(act)
        weight, bias = fold_bn(conv, bn)
        self.conv = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            groups=conv.groups,
            bias=True,
        )
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(self.conv(x))


class InterleaveExpansion(Expansion):
    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, act: nn.Module):
        super().__init__(act)
        self.k = conv.out_channels // conv.in_channels
        self.conv = _depthwise(*fold_bn(conv, bn), conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, M, H, W) -> (N, M, k, H, W) -> (N, kM, H, W): channel i*k + b = input i.
        x = x.unsqueeze(2).expand(-1, -1, self.k, -1, -1).flatten(1, 2)
        return self._finish(self.conv(x))


class TileExpansion(Expansion):
    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, act: nn.Module):
        super().__init__(act)
        self.k = conv.out_channels // conv.in_channels
        self.order = tile_order(conv.in_channels, self.k)
        weight, bias = fold_bn(conv, bn)
        self.conv = _depthwise(weight[self.order], bias[self.order], conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(self.conv(torch.cat([x] * self.k, 1)))


class SplitExpansion(Expansion):
    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, act: nn.Module):
        super().__init__(act)
        k = conv.out_channels // conv.in_channels
        self.order = tile_order(conv.in_channels, k)
        weight, bias = fold_bn(conv, bn)
        self.branches = nn.ModuleList(_depthwise(weight[b::k], bias[b::k], conv) for b in range(k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(torch.cat([branch(x) for branch in self.branches], 1))


_CLASSES = {
    "grouped": GroupedExpansion,
    "interleave": InterleaveExpansion,
    "tile": TileExpansion,
    "split": SplitExpansion,
}


def make_expansion(expand: nn.Sequential, variant: str, restore_order: bool = True) -> Expansion:
    """The variant built from a PokerModule.expand (conv, BN, act) with the same weights.

    With ``restore_order`` a permuting variant un-permutes its output at run time;
    without, the caller must fold ``.order`` into the consumers.
    """
    if variant not in _CLASSES:
        raise ValueError(f"unknown expansion variant {variant!r}; choose from {', '.join(VARIANTS)}")
    conv, bn = expand[0], expand[1]
    act = copy.deepcopy(expand[2]) if len(expand) > 2 else nn.Identity()
    module = _CLASSES[variant](conv, bn, act)
    if restore_order and module.order is not None:
        module.restore = torch.argsort(module.order)
    return module


def poker_modules(model: nn.Module) -> Iterator[tuple[nn.Module, str, PokerModule]]:
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, PokerModule):
                yield parent, name, child


def poker_input_sizes(model: nn.Module, resolution: int, in_chans: int = 3) -> dict[int, int]:
    """id(PokerModule) -> spatial size of its input for one resolution×resolution image."""
    sizes: dict[int, int] = {}
    hooks = [
        m.register_forward_pre_hook(lambda mod, args: sizes.__setitem__(id(mod), args[0].shape[-1]))
        for _, _, m in poker_modules(model)
    ]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, in_chans, resolution, resolution))
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


def poker_module_rows(models: tuple[str, ...], resolution: int = 224) -> Iterator[dict]:
    """One row per Poker module of each named model: the model, M, k, its input size at
    ``resolution`` and the module itself (what the per-layer timings group by shape)."""
    for name in models:
        model = create_model(name).eval()
        sizes = poker_input_sizes(model, resolution)
        for _, _, poker in poker_modules(model):
            yield {
                "model": name,
                "m": poker.expand[0].in_channels,
                "k": poker.k,
                "size": sizes[id(poker)],
                "poker": poker,
            }


def replace_expansions(model: nn.Module, pick) -> dict[str, int]:
    """Swap every PokerModule.expand, in place, for ``pick(M, k, poker_module)``'s variant.

    A Poker bottleneck folds a variant's channel order into its own layers; a PokerModule
    elsewhere un-permutes at run time. Returns how many modules got each variant."""
    used: dict[str, int] = {}
    for parent, _, poker in list(poker_modules(model)):
        conv = poker.expand[0]
        variant = pick(conv.in_channels, conv.out_channels // conv.in_channels, poker)
        in_block = isinstance(parent, PokerBottleneck)
        module = make_expansion(poker.expand, variant, restore_order=not in_block)
        if in_block:
            parent.replace_expansion(module, module.order)
        else:
            poker.replace_expansion(module)
        used[variant] = used.get(variant, 0) + 1
    return used


def optimize_for_inference(
    model: nn.Module,
    runtime: str,
    threads: int = 1,
    resolution: int | None = 224,
    variant: str | None = None,
    choice: dict | None = None,
    memory_format: str = "contiguous",
) -> tuple[nn.Module, dict[str, int]]:
    """A copy of ``model`` (eval mode) whose Poker expansions use the recorded fastest
    formulation for ``runtime`` (in ``memory_format``) and ``threads``, or ``variant`` for all.

    The training model and its state_dict are untouched. Returns the copy and the count of
    each variant used (empty for a model without Poker modules).
    """
    model = copy.deepcopy(model).eval()
    sizes = poker_input_sizes(model, resolution) if resolution and variant is None else {}

    def pick(m: int, k: int, poker: PokerModule) -> str:
        if variant is not None:
            return variant
        return chosen_variant(config_key(runtime, memory_format), threads, m, k, sizes.get(id(poker)), choice)

    used = replace_expansions(model, pick)
    return model, used
