"""Exactness checks: a rewritten or exported model must give the output of the model as
trained, within float32 reordering tolerance, before it is timed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# An output is "equal" when max|a-b| <= ATOL + RTOL * max|reference| (float32 reorderings).
RTOL, ATOL = 1e-4, 1e-4


class OutputMismatch(ValueError):
    """A runtime's output differs from PyTorch eager: its timing would be meaningless."""


def check_equal(
    what: str, got: np.ndarray | torch.Tensor, reference: torch.Tensor, rtol: float = RTOL, atol: float = ATOL
) -> float:
    """Raise OutputMismatch unless ``got`` equals ``reference`` within float tolerance."""
    got_t = torch.as_tensor(np.asarray(got)).float()
    reference = reference.float()
    if got_t.shape != reference.shape:
        raise OutputMismatch(f"{what}: output shape {tuple(got_t.shape)} != PyTorch's {tuple(reference.shape)}")
    error = (got_t - reference).abs().max().item()
    bound = atol + rtol * reference.abs().max().item()
    if not error <= bound:
        raise OutputMismatch(f"{what}: output differs from PyTorch eager by {error:.3g} (> {bound:.3g})")
    return error


def randomize_bn(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine terms, so that folding or permutation mistakes
    show (tests and ``pokernet latency --choose`` check equivalence with it)."""
    generator = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            bn.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)
    return module
