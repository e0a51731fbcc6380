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

``tile`` and ``split`` emit the channels in another order. :func:`optimize_for_inference`
folds that permutation into the layers that read the expansion (BN/SE/downsample/Ghost
weights of the Poker bottleneck), so the block output is unchanged and no runtime
shuffle is paid; a PokerModule outside a Poker bottleneck gets an explicit un-permute.
Every variant folds the expansion's BatchNorm into the conv; the activation is kept.

The variant used per runtime/thread count/layer shape is read from
``expansion_choice.json``, which ``benchmarks/poker_expansion_variants.py`` writes from
measurements.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from timm.layers import SEModule
from timm.models.ghostnet import GhostModule

from pokernet.models.layers import PokerBottleneck, PokerModule

VARIANTS = ("grouped", "interleave", "tile", "split")
CHOICE_FILE = Path(__file__).with_name("expansion_choice.json")


def randomize_bn(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine terms, so that folding or permutation mistakes
    show (tests and benchmarks/poker_expansion_variants.py check equivalence with it)."""
    generator = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            bn.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)
    return module


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of conv followed by eval-mode BN, as one conv."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.reshape(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
    return weight.detach().clone(), bias.detach().clone()


def _depthwise(weight: torch.Tensor, bias: torch.Tensor, like: nn.Conv2d) -> nn.Conv2d:
    channels = weight.shape[0]
    conv = nn.Conv2d(channels, channels, like.kernel_size, like.stride, like.padding,
                     like.dilation, groups=channels, bias=True)
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
        self.conv = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                              conv.padding, conv.dilation, groups=conv.groups, bias=True)
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


_CLASSES = {"grouped": GroupedExpansion, "interleave": InterleaveExpansion,
            "tile": TileExpansion, "split": SplitExpansion}


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


# ---------------------------------------------------------------- permutation folding
def permute_out(conv: nn.Conv2d, order: torch.Tensor) -> None:
    with torch.no_grad():
        conv.weight.copy_(conv.weight[order])
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[order])


def permute_in(conv: nn.Conv2d, order: torch.Tensor) -> None:
    if conv.groups != 1:
        raise ValueError("cannot fold a channel permutation into a grouped conv's input")
    with torch.no_grad():
        conv.weight.copy_(conv.weight[:, order])


def _permute_bn(bn: nn.BatchNorm2d, order: torch.Tensor) -> None:
    with torch.no_grad():
        for tensor in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
            tensor.copy_(tensor[order])


def _fold_order(block: PokerBottleneck, order: torch.Tensor) -> bool:
    """Make the layers that read the Poker module's output accept channels in ``order``.

    Returns False (nothing changed) when a consumer has an unexpected structure."""
    se, down, primary = block.poker.se, block.downsample, block.ghost.primary_conv[0]
    if not isinstance(se, (SEModule, nn.Identity)) or primary.groups != 1:
        return False
    if isinstance(se, SEModule) and not (isinstance(se.bn, nn.Identity) and se.add_maxpool is False):
        return False
    if not isinstance(down, nn.Identity):
        if not (isinstance(down, nn.Sequential) and isinstance(down[0], nn.Conv2d)
                and down[0].groups == down[0].in_channels == down[0].out_channels
                and isinstance(down[1], nn.BatchNorm2d)):
            return False
        permute_out(down[0], order)
        _permute_bn(down[1], order)
    if isinstance(se, SEModule):
        permute_in(se.fc1, order)
        permute_out(se.fc2, order)
    permute_in(primary, order)
    return True


# ---------------------------------------------------------------- Ghost module padding
class PaddedGhostModule(nn.Module):
    """A GhostModule whose primary conv (and so its cheap depthwise conv) is widened with
    zero channels to a multiple of ``multiple``; the padding is sliced off before the concat.

    Why: ONNX Runtime's blocked (NCHWc) kernels skip a depthwise conv whose channel count is
    not a multiple of 4 and run it on a slow generic path (PokerNet's 10- and 30-channel
    Ghost modules at 112² and 56²). Generic: it applies to any model's Ghost modules.
    """

    def __init__(self, ghost: GhostModule, multiple: int):
        super().__init__()
        conv1, bn1, act1 = ghost.primary_conv
        conv2, bn2, act2 = ghost.cheap_operation
        self.init, self.new, self.out = conv1.out_channels, conv2.out_channels, ghost.out_chs
        padded = -(-self.init // multiple) * multiple
        if conv2.groups != conv2.in_channels or conv2.out_channels != conv2.in_channels:
            raise ValueError("PaddedGhostModule needs a GhostModule with ratio 2 (depthwise cheap op)")
        self.primary = nn.Conv2d(conv1.in_channels, padded, conv1.kernel_size, conv1.stride, conv1.padding, bias=True)
        self.cheap = nn.Conv2d(padded, padded, conv2.kernel_size, conv2.stride, conv2.padding, groups=padded, bias=True)
        for conv, (weight, bias) in ((self.primary, fold_bn(conv1, bn1)), (self.cheap, fold_bn(conv2, bn2))):
            with torch.no_grad():
                conv.weight.zero_()
                conv.bias.zero_()
                conv.weight[:self.init] = weight
                conv.bias[:self.init] = bias
        self.act1, self.act2 = copy.deepcopy(act1), copy.deepcopy(act2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.act1(self.primary(x))
        x2 = self.act2(self.cheap(x1))
        out = torch.cat([x1[:, :self.init], x2[:, :self.new]], 1)
        return out if self.init + self.new == self.out else out[:, :self.out]


def pad_ghost_modules(model: nn.Module, multiple: int) -> int:
    """Replace, in place, every GhostModule whose primary width is not a multiple of
    ``multiple`` by a :class:`PaddedGhostModule`; returns how many were replaced."""
    if multiple <= 1:
        return 0
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if (isinstance(child, GhostModule) and child.primary_conv[0].out_channels % multiple
                    and child.cheap_operation[0].groups == child.cheap_operation[0].in_channels):
                setattr(parent, name, PaddedGhostModule(child, multiple))
                count += 1
    return count


# ---------------------------------------------------------------- recorded choice
@lru_cache(maxsize=None)
def _read_choice(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}


def load_choice(path: Path | str = CHOICE_FILE) -> dict:
    """The measured choice (benchmarks/poker_expansion_variants.py writes it); {} if absent."""
    return _read_choice(str(path))


def shape_key(m: int, k: int, size: int) -> str:
    return f"M{m}_k{k}_s{size}"


def config_key(runtime: str, memory_format: str = "contiguous") -> str:
    """Expansion choices are recorded per runtime and memory format ("eager+channels_last")."""
    return runtime if memory_format == "contiguous" else f"{runtime}+{memory_format}"


def by_threads(table: dict, threads: int):
    """The entry recorded for ``threads``, else for the nearest recorded thread count."""
    if not table:
        return None
    if str(threads) in table:
        return table[str(threads)]
    return table[min(table, key=lambda t: (abs(int(t) - threads), -int(t)))]


def chosen_variant(config: str, threads: int, m: int, k: int, size: int | None,
                   choice: dict | None = None) -> str:
    """Variant recorded for this runtime config/threads/shape; the config's overall winner
    for a shape not measured; ``grouped`` (the module as trained) when nothing is recorded."""
    expansion = (load_choice() if choice is None else choice).get("expansion", {})
    per_shape = by_threads(expansion.get("choice", {}).get(config, {}), threads) or {}
    if size is not None and shape_key(m, k, size) in per_shape:
        return per_shape[shape_key(m, k, size)]
    return by_threads(expansion.get("overall", {}).get(config, {}), threads) or "grouped"


def poker_modules(model: nn.Module) -> Iterator[tuple[nn.Module, str, PokerModule]]:
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, PokerModule):
                yield parent, name, child


def poker_input_sizes(model: nn.Module, resolution: int, in_chans: int = 3) -> dict[int, int]:
    """id(PokerModule) -> spatial size of its input for one resolution×resolution image."""
    sizes: dict[int, int] = {}
    hooks = [m.register_forward_pre_hook(lambda mod, args: sizes.__setitem__(id(mod), args[0].shape[-1]))
             for _, _, m in poker_modules(model)]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, in_chans, resolution, resolution))
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


def replace_expansions(model: nn.Module, pick) -> dict[str, int]:
    """Swap every PokerModule.expand, in place, for ``pick(M, k, poker_module)``'s variant.

    Permutations are folded into the enclosing Poker bottleneck when possible. Returns
    how many modules got each variant."""
    used: dict[str, int] = {}
    for parent, _, poker in list(poker_modules(model)):
        conv = poker.expand[0]
        variant = pick(conv.in_channels, conv.out_channels // conv.in_channels, poker)
        module = make_expansion(poker.expand, variant, restore_order=True)
        if module.order is not None and isinstance(parent, PokerBottleneck) and _fold_order(parent, module.order):
            module.restore = None
        poker.expand = module
        used[variant] = used.get(variant, 0) + 1
    return used


def optimize_for_inference(model: nn.Module, runtime: str, threads: int = 1,
                           resolution: int | None = 224, variant: str | None = None,
                           choice: dict | None = None, memory_format: str = "contiguous",
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
