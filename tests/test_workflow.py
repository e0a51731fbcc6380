"""The Snakemake DAG: config validation, variant de-duplication, profiles (dry runs only)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("snakemake") is None, reason="snakemake not installed")


def snakemake(*args, cwd=ROOT):
    return subprocess.run(["snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def job_counts(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", output, re.M)}


def test_default_tables_trains_each_variant_once():
    result = snakemake("-n", "tables", "--forceall")
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    config = yaml.safe_load((ROOT / "workflow/config/default.yaml").read_text())
    n_models, n_abl, n_seeds = len(config["models"]), len(config["ablation_models"]), len(config["seeds"])
    # Table 2 models once per table2 seed; ablation variants (base, no_se, relu, relu6) per seed,
    # the base variant at the shared seed counted only once.
    expected = n_models * len(config["table2_seeds"]) + n_abl * 4 * n_seeds - n_abl
    assert counts["train"] == expected
    assert counts["latency"] == 1


@pytest.mark.parametrize("profile", ["smoke", "cifar10", "imagenet", "slurm"])
def test_profiles_dry_run(profile):
    result = snakemake("-n", "tables", "--profile", f"workflow/profiles/{profile}", "--forceall")
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("override, key", [
    ({"epochs": -1}, "epochs"),
    ({"models": ["resnet50"]}, "resnet50"),
    ({"dataset": {"name": "mnist", "root": None, "subset_per_class": 3}}, "mnist"),
    ({"seeds": []}, "seeds"),
    ({"latency": {"models": ["ghostnet_100"], "runtime": "tensorrt", "threads": 1, "budget_s": 1}}, "tensorrt"),
])
def test_bad_config_stops_before_any_job(tmp_path, override, key):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(override))
    result = snakemake("-n", "tables", "--configfile", str(path))
    assert result.returncode != 0
    assert "Error validating config file" in result.stderr + result.stdout
    assert key in result.stderr + result.stdout


def test_missing_dataset_root_is_named(tmp_path):
    path = tmp_path / "missing.yaml"
    path.write_text(yaml.safe_dump({"dataset": {"name": "cifar10", "root": str(tmp_path / "nope"),
                                                "subset_per_class": None},
                                    "work_dir": str(tmp_path / "work"), "results_dir": str(tmp_path / "res")}))
    result = snakemake("--cores", "1", "train_all", "--configfile", str(path))
    assert result.returncode != 0
    assert "dataset.root" in result.stderr + result.stdout
    assert not (tmp_path / "work").exists()
