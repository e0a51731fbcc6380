"""N runs of one architecture (one per seed) trained as one horizontally fused network.

The members' weights are stacked (``torch.func.stack_module_state``) and the model is run
under ``torch.func.vmap``: each convolution becomes one grouped convolution over the N members,
BatchNorm statistics stay per member (the running stats are stacked buffers, updated in place),
and every op keeps each member's own semantics (concatenations, SE, dropout with independent
masks per member). The loss is the sum of the members' mean losses, so each member's gradient
is its own; the SGD update is the recipe's (momentum, weight decay on every parameter, no
Nesterov), written with foreach ops and a learning rate held in a tensor, so the whole step can
be captured once as a CUDA graph and replayed with no host synchronisation.
``tests/test_fused.py`` shows that a fused step equals N plain steps of ``torch.optim.SGD``.

The batches of N seeds come from the training core's epoch plan (``core.plan_epoch``: each
seed's order and augmentation draws, made on the CPU) applied to the whole stacked batch on the
device (:func:`seeds_batch`), so a member trained with seed s sees the batches ``pokernet train
--seed s`` would see, and all architectures trained with seed s see identical batches.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as nnf
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .core import EpochPlan
from .data import apply_augmentation


class FusedRuns:
    """N members of one architecture with their SGD state, stepped together.

    ``x`` is N x B x C x H x W (one batch per member) for training; evaluation takes one batch
    B x C x H x W shared by all members. Outputs are N x B x classes."""

    def __init__(
        self,
        models: list[nn.Module],
        lr: float,
        momentum: float,
        weight_decay: float,
        label_smoothing: float,
        grad_clip_norm: float | None = None,
    ):
        if not models:
            raise ValueError("FusedRuns needs at least one model")
        self.size = len(models)
        self.params, self.buffers = stack_module_state(models)
        for param in self.params.values():
            param.requires_grad_(True)
        self.base = copy.deepcopy(models[0]).to("meta")
        self.param_list = list(self.params.values())
        self.momentum_buffers = [torch.zeros_like(p) for p in self.param_list]
        self.lr = torch.tensor(float(lr), device=self.param_list[0].device, dtype=self.param_list[0].dtype)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.label_smoothing = label_smoothing
        self.grad_clip_norm = grad_clip_norm
        self.graph: torch.cuda.CUDAGraph | None = None
        device = self.param_list[0].device
        self.loss_sum = torch.zeros(self.size, device=device, dtype=torch.float64)
        self.correct_sum = torch.zeros(self.size, device=device, dtype=torch.float64)

    @classmethod
    def for_recipe(cls, models: list[nn.Module], recipe: dict[str, Any]) -> FusedRuns:
        """The members trained as the (resolved) recipe says (make_optimizer's SGD, make_loss's loss)."""
        if recipe["optimizer"]["nesterov"]:
            raise ValueError(f"recipe {recipe['name']}: the fused trainer implements SGD without Nesterov momentum")
        resolved, optimizer = recipe["resolved"], recipe["optimizer"]
        return cls(
            models,
            resolved["lr"],
            optimizer["momentum"],
            resolved["weight_decay"],
            recipe["label_smoothing"],
            optimizer.get("grad_clip_norm"),
        )

    # ------------------------------------------------------------------ forward / loss

    def _member_forward(
        self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        return functional_call(self.base, (params, buffers), (x,))

    def forward(self, x: torch.Tensor, train: bool, shared_input: bool = False) -> torch.Tensor:
        self.base.train(train)
        in_dims = (0, 0, None if shared_input else 0)
        return vmap(self._member_forward, in_dims=in_dims, randomness="different")(self.params, self.buffers, x)

    def member_losses(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The recipe's loss (label-smoothed cross-entropy, mean over the batch) per member."""
        losses = nnf.cross_entropy(
            logits.flatten(0, 1), labels.flatten(), reduction="none", label_smoothing=self.label_smoothing
        )
        return losses.view(labels.shape).mean(1)

    # ------------------------------------------------------------------ one training step

    def step(self, x: torch.Tensor, labels: torch.Tensor) -> None:
        """Forward, backward and the SGD update of every member; the epoch's loss and correct
        counts accumulate on the device (no host synchronisation)."""
        logits = self.forward(x, train=True)
        losses = self.member_losses(logits, labels)
        grads = torch.autograd.grad(losses.sum(), self.param_list)
        with torch.no_grad():
            self._sgd(self._clipped(list(grads)))
            self.loss_sum.add_(losses.detach().double() * labels.shape[1])
            self.correct_sum.add_((logits.argmax(-1) == labels).sum(1).double())

    def _clipped(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each member's gradient clipped to the global norm ``grad_clip_norm`` as
        ``torch.nn.utils.clip_grad_norm_`` clips one model's (factor max / (norm + 1e-6), at most 1)."""
        if not self.grad_clip_norm:
            return grads
        squares = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads]).sum(0)
        factor = (self.grad_clip_norm / (squares.sqrt() + 1e-6)).clamp(max=1.0)
        return [g * factor.view(-1, *[1] * (g.dim() - 1)) for g in grads]

    def _sgd(self, grads: list[torch.Tensor]) -> None:
        """torch.optim.SGD (dampening 0, no Nesterov): d = g + wd p; m = mu m + d; p -= lr m.
        (Momentum starts at zero, which equals SGD's first-step copy of d exactly.)"""
        if self.weight_decay:
            grads = torch._foreach_add(grads, self.param_list, alpha=self.weight_decay)
        torch._foreach_mul_(self.momentum_buffers, self.momentum)
        torch._foreach_add_(self.momentum_buffers, grads)
        torch._foreach_sub_(self.param_list, torch._foreach_mul(self.momentum_buffers, self.lr))

    def set_lr(self, value: float) -> None:
        self.lr.fill_(value)

    # ------------------------------------------------------------------ CUDA graph

    def state_tensors(self) -> list[torch.Tensor]:
        """Every tensor a step changes (weights, BN buffers, momentum, epoch sums)."""
        return [*self.param_list, *self.buffers.values(), *self.momentum_buffers, self.loss_sum, self.correct_sum]

    def snapshot(self) -> list[torch.Tensor]:
        return [t.detach().clone() for t in self.state_tensors()]

    def restore(self, snapshot: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for tensor, saved in zip(self.state_tensors(), snapshot):
                tensor.copy_(saved)

    def capture(self, static_x: torch.Tensor, static_labels: torch.Tensor, warmup_steps: int = 3) -> None:
        """Record one step reading ``static_x``/``static_labels`` as a CUDA graph. The warm-up
        steps (on a side stream, as CUDA graphs require) are undone: the state after capture
        is the state before it."""
        saved = self.snapshot()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup_steps):
                self.step(static_x, static_labels)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.step(static_x, static_labels)
        self.restore(saved)
        self.graph = graph

    def replay(self) -> None:
        self.graph.replay()

    # ------------------------------------------------------------------ results

    def take_epoch_sums(self) -> tuple[list[float], list[float]]:
        """The epoch's loss and correct sums per member (one synchronisation), reset to zero."""
        loss, correct = self.loss_sum.tolist(), self.correct_sum.tolist()
        self.loss_sum.zero_()
        self.correct_sum.zero_()
        return loss, correct

    @torch.no_grad()
    def evaluate(self, batches) -> list[dict[str, float]]:
        """Top-1/top-5 (percent) and mean cross-entropy (no smoothing) of every member over
        ``batches`` of (B x C x H x W inputs, B labels), as ``engine.evaluate`` computes them."""
        sums = torch.zeros(self.size, 3, dtype=torch.float64, device=self.param_list[0].device)
        count = 0
        for x, labels in batches:
            logits = self.forward(x, train=False, shared_input=True).float()
            top = logits.topk(min(5, logits.shape[-1]), dim=-1).indices
            target = labels.expand(self.size, -1)
            losses = nnf.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none")
            sums[:, 0] += losses.view(target.shape).sum(1).double()
            sums[:, 1] += (top[..., 0] == target).sum(1).double()
            sums[:, 2] += (top == target[..., None]).any(-1).sum(1).double()
            count += len(labels)
        if count == 0:
            raise ValueError("the validation split is empty")
        return [
            {"top1": 100 * top1 / count, "top5": 100 * top5 / count, "loss": loss / count, "images": count}
            for loss, top1, top5 in sums.tolist()
        ]

    def member_state_dict(self, index: int) -> dict[str, torch.Tensor]:
        """Member ``index``'s weights and buffers, as its plain model's state_dict holds them (copies:
        a view would save every member's storage)."""
        return {name: tensor[index].detach().clone() for name, tensor in {**self.params, **self.buffers}.items()}

    def member_optimizer_state(self, index: int) -> dict[str, Any]:
        """Member ``index``'s SGD state: its momentum buffers, in parameter order."""
        return {"momentum": [buffer[index].clone() for buffer in self.momentum_buffers]}

    @torch.no_grad()
    def load_member(self, index: int, model_state: dict[str, torch.Tensor], optimizer_state: dict[str, Any]) -> None:
        """Member ``index`` continues from a checkpoint's weights, buffers and momentum."""
        for name, tensor in {**self.params, **self.buffers}.items():
            tensor[index].copy_(model_state[name])
        for buffer, saved in zip(self.momentum_buffers, optimizer_state["momentum"], strict=True):
            buffer[index].copy_(saved)


# ---------------------------------------------------------------------- data of N seeds


def seeds_batch(
    images: torch.Tensor, labels: torch.Tensor, plan: EpochPlan, step: int, data_cfg: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``step`` of every seed: N x B x C x H x W model inputs and N x B labels."""
    index = plan.order[:, step]
    members, batch = index.shape
    x = apply_augmentation(images[index.flatten()], plan.draws[:, step].flatten(), data_cfg)
    return x.view(members, batch, *x.shape[1:]), labels[index]
