"""The Variant: one type for an arm (model + ablation), used by the workflow, the CLI flags,
the study, latency and the report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pokernet.models import create_model
from pokernet.models.variant import ABLATIONS, Variant, ablated

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["pokernet_050", "pokernet_100-no_se", "pokernet_050-act_relu6", "ghostnet_100"])
def test_names_round_trip(name):
    assert Variant.parse(name).name == name


def test_options_flags_and_reference():
    variant = Variant.parse("pokernet_100-no_se")
    assert (variant.model, variant.width, variant.family) == ("pokernet_100", 1.0, "pokernet")
    assert variant.options == {"se": False}
    assert variant.cli_flags() == ["--no-se"]
    assert Variant.parse("pokernet_050-act_relu").cli_flags() == ["--act", "relu"]
    assert variant.reference == Variant("ghostnet_100")
    assert Variant("pokernet_050").reference == Variant("ghostnet_050")
    assert Variant("ghostnet_050").reference is None  # only PokerNet is paired with GhostNet
    assert Variant("shufflenetv2_050").reference is None


def test_every_ablation_builds_the_model_it_names():
    for suffix in ABLATIONS:
        variant = Variant("pokernet_050", suffix)
        create_model(variant.model, **variant.options, num_classes=10)
        assert Variant.from_options(variant.model, {**variant.options, "num_classes": 10}) == variant


def test_from_options_ignores_defaults_and_data_options_but_not_changes():
    assert Variant.from_options("pokernet_050", {"se": True, "num_classes": 10, "in_chans": 1}) == Variant(
        "pokernet_050"
    )
    assert Variant.from_options("pokernet_050", {"se": False}) == Variant("pokernet_050", "no_se")
    with pytest.raises(ValueError, match="no known variant"):
        Variant.from_options("pokernet_050", {"se": False, "act": "relu"})
    with pytest.raises(ValueError, match="does not take option"):
        Variant.from_options("ghostnet_050", {"se": False})


@pytest.mark.parametrize("name, message", [("resnet50", "unknown model"), ("pokernet_050-bogus", "unknown ablation")])
def test_bad_names_are_one_clear_error(name, message):
    with pytest.raises(ValueError, match=message):
        Variant.parse(name)


def test_ablated_lists_each_table_s_variants():
    assert [v.name for v in ablated(["pokernet_050"], "table4")] == ["pokernet_050", "pokernet_050-no_se"]


def test_adding_an_ablation_is_one_line_and_the_dag_plans_it(tmp_path):
    """Copy the package and the workflow, add one line to ABLATIONS, and plan Table 5."""
    for part in ("Snakefile", "workflow", "pokernet"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / part)
    variant_file = tmp_path / "pokernet/models/variant.py"
    text = variant_file.read_text()
    anchor = next(line for line in text.splitlines(keepends=True) if line.lstrip().startswith('"act_relu6": Ablation('))
    indent = anchor[: len(anchor) - len(anchor.lstrip())]
    added = f'{indent}"act_relu6_relu": Ablation("table5", MappingProxyType({{"act": "relu"}}), "Act: ReLU (copy)"),\n'
    variant_file.write_text(text.replace(anchor, anchor + added))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "ablation_nl", "--forceall"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "work/default/runs/pokernet_050-act_relu6_relu/seed0/metrics.json" in result.stdout
