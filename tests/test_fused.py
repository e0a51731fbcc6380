"""The fused trainer trains the same models: a fused step of N seeds equals N plain steps of
torch.optim.SGD for every arm of the CIFAR-10 study, and its batches are the plain pipeline's."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pokernet.models import create_model
from pokernet.study.arms import STUDY_ARMS
from pokernet.train.fused import FusedRuns

LR, MOMENTUM, SMOOTHING = 0.0625, 0.9, 0.1


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _members(
    model: str, options: dict, seeds: list[int], drop_rate: float = 0.0, dtype: torch.dtype = torch.float32
) -> list[nn.Module]:
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(create_model(model, num_classes=10, drop_rate=drop_rate, **options).to(dtype))
    return models


@pytest.mark.parametrize(
    "arm, clip",
    [(arm, None) for arm in STUDY_ARMS] + [(STUDY_ARMS[0], 0.05)],
    ids=lambda value: getattr(value, "name", f"clip {value}"),
)
def test_a_fused_step_equals_plain_sgd_steps_for_every_arm(arm, clip):
    # float64: BatchNorm over 3 images at 2x2 amplifies float32 rounding (fused and plain then
    # differ by ~1e-4 after two steps); in float64 they agree to ~1e-14, so a real difference shows.
    # clip: the recipe's grad_clip_norm, small enough here that every step is clipped.
    seeds, steps, weight_decay, dtype = [0, 1], 2, 4e-5, torch.float64
    plain = _members(arm.model, arm.options, seeds, dtype=dtype)
    fused = FusedRuns(copy.deepcopy(plain), LR, MOMENTUM, weight_decay, SMOOTHING, clip)
    optimizers = [torch.optim.SGD(m.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=weight_decay) for m in plain]
    criterion = nn.CrossEntropyLoss(label_smoothing=SMOOTHING)
    generator = torch.Generator().manual_seed(7)
    for _ in range(steps):
        x = torch.randn(len(seeds), 3, 3, 40, 40, generator=generator, dtype=dtype)
        y = torch.randint(0, 10, (len(seeds), 3), generator=generator)
        for index, (model, optimizer) in enumerate(zip(plain, optimizers)):
            model.train()
            optimizer.zero_grad()
            criterion(model(x[index]), y[index]).backward()
            if clip:
                assert nn.utils.clip_grad_norm_(model.parameters(), clip) > clip
            optimizer.step()
        fused.step(x, y)
    for index, model in enumerate(plain):
        expected = model.state_dict()
        got = fused.member_state_dict(index)
        assert set(got) == set(expected)
        for name, tensor in expected.items():
            torch.testing.assert_close(
                got[name], tensor, rtol=1e-9, atol=1e-12, msg=f"{arm.name} seed {seeds[index]}: {name}"
            )
    x = torch.randn(2, 3, 40, 40, generator=generator, dtype=dtype)
    logits = fused.forward(x, train=False, shared_input=True)
    for index, model in enumerate(plain):
        torch.testing.assert_close(logits[index], model.eval()(x), rtol=1e-9, atol=1e-12)


def test_dropout_masks_differ_between_members():
    twins = _members("pokernet_050", {}, [0, 0], drop_rate=0.5)
    fused = FusedRuns(twins, LR, MOMENTUM, 0.0, SMOOTHING)
    x = torch.randn(2, 4, 3, 40, 40)
    x[1] = x[0]
    with torch.no_grad():
        train_out = fused.forward(x, train=True)
        eval_out = fused.forward(x[0], train=False, shared_input=True)
    torch.testing.assert_close(eval_out[0], eval_out[1])
    assert not torch.allclose(train_out[0], train_out[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_a_captured_step_equals_the_eager_step():
    device = torch.device("cuda")
    torch.backends.cudnn.deterministic = True
    eager = FusedRuns([m.to(device) for m in _members("ghostnet_050", {}, [0, 1])], LR, MOMENTUM, 4e-5, SMOOTHING)
    graphed = FusedRuns([m.to(device) for m in _members("ghostnet_050", {}, [0, 1])], LR, MOMENTUM, 4e-5, SMOOTHING)
    static_x = torch.zeros(2, 8, 3, 64, 64, device=device)
    static_y = torch.zeros(2, 8, dtype=torch.long, device=device)
    graphed.capture(static_x, static_y)
    generator = torch.Generator(device=device).manual_seed(1)
    for step in range(3):
        x = torch.randn(2, 8, 3, 64, 64, device=device, generator=generator)
        y = torch.randint(0, 10, (2, 8), device=device, generator=generator)
        eager.set_lr(LR / (step + 1))
        graphed.set_lr(LR / (step + 1))
        eager.step(x, y)
        static_x.copy_(x)
        static_y.copy_(y)
        graphed.replay()
    for index in range(2):
        expected, got = eager.member_state_dict(index), graphed.member_state_dict(index)
        for name in expected:
            torch.testing.assert_close(got[name], expected[name], rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(graphed.take_epoch_sums(), eager.take_epoch_sums())
