"""The Poker expansion variants and the inference path are exact rewrites of the model."""

from __future__ import annotations

import pytest
import torch
from timm.models.ghostnet import GhostModule
from torch import nn

from pokernet.latency.choice import choice_note, chosen_variant, entry_for, load_choice
from pokernet.latency.equivalence import randomize_bn
from pokernet.latency.ghost_padding import PaddedGhostModule, pad_ghost_modules
from pokernet.latency.variants import VARIANTS, make_expansion, optimize_for_inference
from pokernet.models import create_model
from pokernet.models.layers import PokerBottleneck, PokerModule

ATOL = 1e-5


def randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random BN statistics, so that folding mistakes show."""
    return randomize_bn(module, seed).eval()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "m,k,act", [(4, 2, nn.ReLU6), (6, 3, nn.Hardswish), (5, 4, nn.ReLU6), (8, 5, nn.ReLU), (3, 6, nn.Hardswish)]
)
def test_expansion_variant_equals_reference_module(variant, m, k, act):
    torch.manual_seed(m * 10 + k)
    poker = randomize(PokerModule(m, m * k, act))
    x = torch.randn(2, m, 9, 9)
    with torch.no_grad():
        expected = poker(x)
        poker.expand = make_expansion(poker.expand, variant, restore_order=True)
        got = poker(x)
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "m,k,out,stride,se",
    [(4, 3, 4, 1, True), (4, 6, 8, 2, True), (8, 2, 8, 1, False), (6, 4, 6, 1, True), (6, 5, 10, 2, False)],
)
def test_folded_permutation_keeps_bottleneck_output(variant, m, k, out, stride, se):
    """tile/split emit channels as b*M+i: folded into SE, downsample and Ghost weights."""
    torch.manual_seed(k)
    block = randomize(PokerBottleneck(m, m * k, out, stride, use_se=se), seed=k)
    x = torch.randn(1, m, 12, 12)
    with torch.no_grad():
        expected = block(x)
    model, used = optimize_for_inference(block, "eager", variant=variant)
    assert used == {variant: 1}
    assert model.poker.expand.restore is None  # the permutation was folded, not paid at run time
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("variant", [*VARIANTS, None])
def test_optimize_for_inference_keeps_pokernet_output_and_training_model(variant):
    model = randomize(create_model("pokernet_050"))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    fast, used = optimize_for_inference(model, "onnxruntime", threads=1, resolution=64, variant=variant)
    assert sum(used.values()) == 10
    with torch.no_grad():
        torch.testing.assert_close(fast(x), expected, atol=1e-4, rtol=1e-4)
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert isinstance(model.blocks[4].poker.expand, nn.Sequential)  # the training model is untouched


def test_optimize_for_inference_leaves_models_without_poker_modules_alone():
    model = randomize(create_model("ghostnet_050"))
    fast, used = optimize_for_inference(model, "eager", resolution=32)
    assert used == {}


@pytest.mark.parametrize("multiple", [4, 8, 16])
def test_padded_ghost_module_equals_ghost_module(multiple):
    torch.manual_seed(multiple)
    ghost = randomize(GhostModule(20, 20, act_layer=nn.ReLU6))  # primary width 10
    x = torch.randn(1, 20, 10, 10)
    with torch.no_grad():
        expected = ghost(x)
        got = PaddedGhostModule(ghost, multiple).eval()(x)
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=1e-5)


def test_pad_ghost_modules_keeps_network_output():
    model = randomize(create_model("pokernet_050"))
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
    assert pad_ghost_modules(model, 4) > 0
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, atol=1e-4, rtol=1e-4)


def test_unknown_variant_is_an_error():
    with pytest.raises(ValueError, match="unknown expansion variant"):
        make_expansion(PokerModule(4, 8).expand, "fft")


def test_recorded_choice_is_the_measured_fastest():
    """Every entry of the committed choice file is derived from its own timings, not typed by hand."""
    entries = load_choice().get("entries", {})
    if not entries:
        pytest.skip("no expansion_choice.json recorded")
    for isa, record in entries.items():
        assert record["hardware"]["isa"] == isa  # each entry carries the ISA it is keyed by
        check_entry_is_its_fastest(record)


def check_entry_is_its_fastest(record: dict) -> None:
    expansion = record["expansion"]
    for config, per_threads in expansion["timings_us"].items():
        for threads, per_shape in per_threads.items():
            for key, medians in per_shape.items():
                assert set(medians) == set(VARIANTS)
                assert expansion["choice"][config][threads][key] == min(medians, key=medians.get)
                m, k, size = (int(part[1:]) for part in key.split("_"))
                assert chosen_variant(config, int(threads), m, k, size, record) == min(medians, key=medians.get)
    for runtime, per_threads in record["model"]["timings_ms"].items():
        for threads, per_model in per_threads.items():
            for name, medians in per_model.items():
                best = min(medians, key=medians.get)
                chosen = record["model"]["choice"][runtime][threads][name]
                assert best == f"{chosen['memory_format']}/pad{chosen['ghost_pad']}"


def test_choice_falls_back_to_reference_or_overall_winner():
    assert chosen_variant("eager", 1, 4, 2, 8, choice={}) == "grouped"
    choice = {
        "expansion": {"choice": {"eager": {"1": {"M4_k2_s8": "tile"}}}, "overall": {"eager": {"1": "interleave"}}}
    }
    assert chosen_variant("eager", 1, 4, 2, 8, choice=choice) == "tile"
    assert chosen_variant("eager", 3, 4, 2, 8, choice=choice) == "tile"  # nearest thread count
    assert chosen_variant("eager", 1, 4, 2, 16, choice=choice) == "interleave"


def test_every_pokernet_block_folds_the_order_itself():
    """The rewrite is the block's own method: no expansion of PokerNet pays an un-permute."""
    from pokernet.latency.variants import Expansion

    fast, used = optimize_for_inference(create_model("pokernet_050"), "eager", resolution=None, variant="tile")
    expansions = [m for m in fast.modules() if isinstance(m, Expansion)]
    assert len(expansions) == used["tile"] == 10
    assert all(m.restore is None for m in expansions)


def test_a_block_that_cannot_fold_the_order_says_so_instead_of_running_slower():
    block = PokerBottleneck(4, 12, 4, use_se=True)
    block.poker.se = nn.Sequential(nn.Identity())  # not a per-channel gate the fold knows
    with pytest.raises(TypeError, match="cannot fold"):
        optimize_for_inference(block, "eager", variant="tile")


def test_a_run_says_which_recorded_choice_it_applies_and_on_which_isa():
    """A choice measured on one ISA is not silently applied on another (issue 18: recorded on
    AVX-512, applied by a Table 3 run on AVX2)."""
    entry = {"hardware": {"cpu": "AMD EPYC", "isa": "AVX512", "threads": [1, 2]}, "date": "2026-11-26T02:37"}
    recorded = {"entries": {"AVX512": entry}}
    assert choice_note("AVX512", record=recorded).endswith("on 2026-11-26: this CPU's ISA")
    other = choice_note("AVX2", record=recorded)
    assert "entry AVX512, measured on AMD EPYC (AVX512, threads 1, 2)" in other
    assert "NOT recorded on this ISA" in other and "records a choice for AVX2" in other
    assert entry_for("AVX2", recorded) == (entry, "AVX512")
    assert entry_for("AVX512", {"entries": {"AVX2": {}, "AVX512": entry}}) == (entry, "AVX512")
    assert choice_note("AVX2", record={}).startswith("none recorded")
    assert choice_note("AVX2", optimized=False, record=recorded).startswith("none (--direct")
