"""Every registry model builds and runs; PokerNet follows Table 1; options are checked."""

import pytest
import torch

from pokernet import create_model, list_models
from pokernet.models import TABLE1_BLOCKS, PokerNet
from pokernet.paper import table

REGISTRY_NAMES = [
    "pokernet_050",
    "pokernet_100",
    "ghostnet_050",
    "ghostnet_100",
    "mobilenetv3_small_075",
    "mobilenetv3_large_075",
    "shufflenetv2_050",
    "shufflenetv2_100",
    "mobilenetv2_035",
    "mobilenetv2_060",
    "shufflenetv1_050_g8",
    "shufflenetv1_100_g3",
    "mobilenetv1_050",
]


def test_registry_has_exactly_the_table2_names():
    assert sorted(list_models()) == sorted(REGISTRY_NAMES)
    assert sorted(r["model"] for r in table("table2")["rows"]) == sorted(REGISTRY_NAMES)


@pytest.mark.parametrize("name", REGISTRY_NAMES)
def test_forward_imagenet_and_small_inputs(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    small = create_model(name, num_classes=10).train()
    assert small(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("name", REGISTRY_NAMES)
def test_single_channel_input(name):
    model = create_model(name, num_classes=10, in_chans=1).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 32, 32)).shape == (1, 10)


def test_table1_transcription_matches_the_model_config():
    rows = table("table1")["blocks"]
    assert len(rows) == len(TABLE1_BLOCKS) == 16
    for row, block in zip(rows, TABLE1_BLOCKS):
        kind, in_chs, exp_chs, out_chs, se, stride, act = row
        assert (block.kind, block.in_chs, block.exp_chs, block.out_chs, block.se, block.stride) == (
            kind,
            in_chs,
            exp_chs,
            out_chs,
            se,
            stride,
        )
        assert block.hard_swish == (act == "hard_swish")


def test_pokernet_structure_follows_table1():
    from timm.models.ghostnet import GhostBottleneck

    from pokernet.models.layers import PokerBottleneck

    model = PokerNet(1.0)
    assert model.stem[0].out_channels == 20 and model.stem[0].stride == (2, 2)
    for block, cfg in zip(model.blocks, TABLE1_BLOCKS):
        assert isinstance(block, PokerBottleneck if cfg.kind == "P" else GhostBottleneck)
        if cfg.kind == "P":
            assert block.poker.k == cfg.exp_chs // cfg.in_chs
            assert block.poker.expand[0].out_channels == cfg.exp_chs
    assert model.last_conv[0].out_channels == 960
    assert model.head[0].out_channels == 1280
    assert isinstance(model.dropout, torch.nn.Dropout) and model.dropout.p == 0.2


@pytest.mark.parametrize(
    "act, expected",
    [("relu", {torch.nn.ReLU}), ("relu6", {torch.nn.ReLU6}), ("relu6_hs", {torch.nn.ReLU6, torch.nn.Hardswish})],
)
def test_activation_schemes(act, expected):
    model = PokerNet(0.5, act=act)
    # SE's internal ReLU is timm's default and not part of the scheme: look outside SE only.
    kinds = {
        type(m)
        for name, m in model.named_modules()
        if ".se." not in f".{name}." and isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6, torch.nn.Hardswish))
    }
    assert kinds == expected
    if act == "relu6_hs":
        last_stage = [m for b in model.blocks[-4:] for m in b.poker.pointwise]
        activations = [m for m in last_stage if not isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
        assert activations and all(isinstance(m, torch.nn.Hardswish) for m in activations)


def test_no_se_removes_poker_se_only():
    from timm.layers import SEModule

    with_se = sum(isinstance(m, SEModule) for m in PokerNet(1.0).modules())
    without = PokerNet(1.0, se=False)
    assert with_se == 10  # 10 P-bnecks
    assert not any(isinstance(m, SEModule) for m in without.modules())
    assert sum(b.se is not None for b in without.blocks if hasattr(b, "ghost1")) == 2  # G-bnecks keep theirs


@pytest.mark.parametrize("width", [0.1, 0.3, 0.75, 1.3, 2.0])
def test_any_positive_width_builds_with_whole_k(width):
    model = create_model("pokernet_100", width=width, num_classes=10).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "wide"])
def test_bad_width_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="width"):
        create_model("pokernet_100", width=bad)


def test_unknown_model_and_unknown_option():
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        create_model("resnet50")
    with pytest.raises(ValueError, match="does not take option.*width"):
        create_model("ghostnet_100", width=0.5)
    with pytest.raises(ValueError, match="activation scheme 'swish'"):
        create_model("pokernet_100", act="swish")
