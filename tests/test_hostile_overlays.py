"""Overlay numbers in exponent form (issue 28, item 7): YAML 1.1 (PyYAML) reads ``1.0e9`` and ``1e9`` as
text, so ``budget_s: 1.0e9`` was refused as "not of type 'number'"; the config loader reads them as
numbers (YAML 1.2), in overlay files and in nested ``--config`` values alike, and the schema's bounds decide."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_hostile_input import _validate_config

from pokernet.schemas import load_yaml, parse_yaml
from pokernet.schemas.overlays import layered_config, typed_cli_values

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, value", [("1.0e9", 1e9), ("1e9", 1e9), ("-2E-3", -2e-3), ("3.0e+2", 300.0)])
def test_exponent_forms_are_numbers(text, value):
    assert parse_yaml(f"x: {text}") == {"x": value}


@pytest.mark.parametrize("text", ["v1e9", "1e", "e9", "1.0.0e9"])
def test_other_text_stays_text(text):
    assert parse_yaml(f"x: {text}") == {"x": text}


def test_the_global_yaml_loader_is_left_as_it_is():
    assert yaml.safe_load("x: 1e9") == {"x": "1e9"}  # only our loader reads YAML 1.2 floats


def test_an_overlay_budget_in_exponent_form_is_a_number_checked_by_its_bounds(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text("latency: {budget_s: 1.0e9}\n")
    config = layered_config(ROOT / "workflow/config/default.yaml", [overlay], {}, ROOT / "workflow/config")
    assert config["latency"]["budget_s"] == 1e9
    message = _validate_config({"latency": {"budget_s": config["latency"]["budget_s"]}})
    assert "greater than the maximum of 600" in message and "not of type" not in message
    overlay.write_text("latency: {budget_s: 3.0e2}\n")
    assert load_yaml(overlay)["latency"]["budget_s"] == 300.0
    assert _validate_config({"latency": {"budget_s": 300.0}}) is None


def test_a_nested_config_value_in_exponent_form_is_a_number():
    assert typed_cli_values({"latency": "{budget_s: 1.0e2}"}) == {"latency": {"budget_s": 100.0}}
    assert typed_cli_values({"latency": {"budget_s": "1e2"}}) == {"latency": {"budget_s": 100.0}}
