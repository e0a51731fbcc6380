"""The OpenVINO runtime: output checked against PyTorch, a wrong one refused, the missing
package named in one line, the CLI's medians and ratio, the per-layer profile."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json

import pytest
import torch
from torch import nn

from pokernet.cli import main
from pokernet.latency.choice import chosen_variant, model_choice
from pokernet.latency.equivalence import OutputMismatch, randomize_bn
from pokernet.latency.profile import CATEGORIES, profile_models
from pokernet.latency.runtime_table import runtime_spec
from pokernet.latency.runtimes import make_runner
from pokernet.models import create_model

RESOLUTION = 64  # the same graph as at 224, a quicker export and compile


@pytest.fixture(scope="module")
def small_models():
    """pokernet_050 and ghostnet_050 with non-trivial BN statistics (folding mistakes show)."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, RESOLUTION, RESOLUTION)
    models = {name: randomize_bn(create_model(name).eval()) for name in ("pokernet_050", "ghostnet_050")}
    with torch.no_grad():
        references = {name: model(x) for name, model in models.items()}
    return x, models, references


@pytest.mark.parametrize("name", ["pokernet_050", "ghostnet_050"])
def test_openvino_output_equals_pytorch(small_models, name):
    x, models, references = small_models
    runner = make_runner(name, models[name], "openvino", 1, x, references[name])
    assert runner.runtime == "openvino" and runner.notes["optimized"]
    assert torch.allclose(torch.as_tensor(runner.call()), references[name], rtol=1e-4, atol=1e-4)


def test_openvino_takes_the_onnxruntime_graph_choice():
    """Nothing recorded for OpenVINO: the Poker expansion and Ghost padding recorded for ONNX
    Runtime, whose ONNX graph it runs."""
    choice = {
        "expansion": {
            "choice": {"onnxruntime": {"1": {"M20_k3_s28": "tile"}}},
            "overall": {"onnxruntime": {"1": "interleave"}},
        },
        "model": {"choice": {"onnxruntime": {"1": {"pokernet_050": {"ghost_pad": 8}}}}},
    }
    assert chosen_variant("openvino", 1, 20, 3, 28, choice) == "tile"
    assert chosen_variant("openvino", 1, 40, 3, 14, choice) == "interleave"
    assert model_choice("pokernet_050", "openvino", 1, choice)["ghost_pad"] == 8
    own = {"expansion": {"overall": {**choice["expansion"]["overall"], "openvino": {"1": "split"}}}}
    assert chosen_variant("openvino", 1, 40, 3, 14, own) == "split"  # its own record first
    assert chosen_variant("torchscript", 1, 40, 3, 14, choice) == "grouped"  # no alias


def test_wrong_output_is_refused():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16)
    model = randomize_bn(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()).eval())
    with torch.no_grad():
        wrong = model(x) * 1.01
    with pytest.raises(OutputMismatch, match=r"tiny \(openvino\)"):
        make_runner("tiny", model, "openvino", 1, x, wrong)


@pytest.fixture
def without_openvino(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "openvino" else real(name, *args)
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["latency", "pokernet_050", "ghostnet_050", "--runtime", "openvino", "--quick"],
        ["profile", "pokernet_050", "--runtime", "openvino"],
    ],
)
def test_missing_openvino_is_one_line_naming_it(without_openvino, argv, capsys):
    with pytest.raises(ValueError, match="'openvino'"):
        runtime_spec("openvino")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install openvino" in err and "Traceback" not in err


def test_cli_prints_both_medians_and_the_ratio():
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "latency",
                "pokernet_050",
                "ghostnet_050",
                "--runtime",
                "openvino",
                "--threads",
                "1",
                "--quick",
                "--resolution",
                str(RESOLUTION),
                "--json",
            ]
        )
    assert code == 0
    report = json.loads(stdout.getvalue())
    medians = {r["model"]: r["median_ms"] for r in report["results"] if r["runtime"] == "openvino"}
    assert set(medians) == {"pokernet_050", "ghostnet_050"} and min(medians.values()) > 0
    ratio = next(r for r in report["ratios"] if r["runtime"] == "openvino")
    assert ratio["model"] == "pokernet_050" and ratio["reference"] == "ghostnet_050" and ratio["ratio"] > 0
    assert report["versions"]["openvino"]


def test_profile_categories_are_filled_and_sum_to_the_total():
    reports = profile_models(
        [("pokernet_050", True), ("ghostnet_050", True)], "openvino", 1, resolution=RESOLUTION, runs=3
    )
    for report in reports:
        rows = {row["category"]: row for row in report["categories"]}
        assert set(rows) == set(CATEGORIES)
        assert sum(row["ms"] for row in rows.values()) == pytest.approx(report["total_ms"], abs=1e-3)
        assert sum(row["ms"] for row in report["resolutions"]) == pytest.approx(report["total_ms"], abs=1e-3)
        for category in ("pointwise", "depthwise", "SE", "dense conv"):
            assert rows[category]["ms"] > 0, (report["model"], category)
        assert report["run_ms"] > 0 and report["nodes_per_run"] > 0
    poker = {row["category"]: row["ms"] for row in reports[0]["categories"]}
    assert poker["depthwise xk (Poker expansion)"] > 0
