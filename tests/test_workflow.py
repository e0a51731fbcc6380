"""The Snakemake DAG: config validation, variant de-duplication, profiles (dry runs; CI runs
the smoke target for real, locally and through SLURM)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pokernet.protocol import with_protocol

ROOT = Path(__file__).resolve().parents[1]


def snakemake(*args, cwd=ROOT):
    # The snakemake of this interpreter (the set-up's environment): a missing install fails
    # here, loudly, instead of skipping the module.
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_snakemake_and_the_slurm_plugin_are_installed():
    import snakemake  # noqa: F401  (a missing set-up step must fail, not skip)
    import snakemake_executor_plugin_slurm  # noqa: F401  (the `test` extra pulls `cluster`)


def job_counts(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", output, re.M)}


def test_default_tables_trains_each_variant_once():
    result = snakemake("-n", "tables", "--forceall")
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    config = with_protocol(yaml.safe_load((ROOT / "workflow/config/default.yaml").read_text()))
    # Distinct (variant, seed) pairs: Table 2's models at table2_seeds, its PokerNet/GhostNet at the
    # paired seeds too, the ablation variants (base, no_se, relu, relu6) at the seeds; a variant
    # that two tables share at one seed is trained once.
    paired = [m for m in config["models"] if m.startswith(("pokernet_", "ghostnet_"))]
    runs = {(m, s) for m in config["models"] for s in config["table2_seeds"]}
    runs |= {(m, s) for m in paired for s in config.get("table2_paired_seeds", [])}
    ablation_models = config["ablation_models"] or [m for m in config["models"] if m.startswith("pokernet_")]
    runs |= {
        (f"{m}{suffix}", s)
        for m in ablation_models
        for s in config["seeds"]
        for suffix in ("", "-no_se", "-act_relu", "-act_relu6")
    }
    assert counts["train"] == len(runs)
    assert counts["latency"] == 1


def test_cpu_training_jobs_never_outnumber_the_machines_cores():
    """`--cores 8` on a 2-core machine: each training job holds 4 of the scheduler's cores (2 at
    once) and still runs train_threads (1) threads; with `--cores` = the machine's, it holds 1."""
    from pokernet.provenance import available_cores

    machine = available_cores()
    for asked, held in ((4 * machine, 4), (machine, 1)):
        result = snakemake("-n", "-p", "--cores", str(asked), "work/default/runs/pokernet_050/seed97/metrics.json")
        assert result.returncode == 0, result.stderr[-2000:]
        if held > 1:  # a dry run prints a job's threads only when there are more than one
            assert re.search(rf"^\s*threads: {held}$", result.stdout, re.M), result.stdout
        else:
            assert "threads:" not in result.stdout, result.stdout
        assert "--threads 1 " in result.stdout


@pytest.mark.parametrize("profile", sorted(p.name for p in (ROOT / "workflow/profiles").iterdir()))
def test_profiles_dry_run(profile):
    result = snakemake("-n", "tables", "--profile", f"workflow/profiles/{profile}", "--forceall")
    assert result.returncode == 0, result.stderr[-2000:]


def test_config_runtimes_are_the_registry():
    from pokernet.latency.runtime_table import RUNTIMES

    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["properties"]["latency"]["properties"]["runtime"]["enum"] == [*RUNTIMES, "all"]


@pytest.mark.parametrize(
    "override, key",
    [
        ({"epochs": -1}, "epochs"),
        ({"dataset": {"name": "mnist", "root": None, "subset_per_class": 3}}, "mnist"),
        ({"seeds": []}, "seeds"),
        ({"latency": {"models": ["ghostnet_100"], "runtime": "tensorrt", "threads": 1, "budget_s": 1}}, "tensorrt"),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, override, key):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(override))
    result = snakemake("-n", "tables", "--configfile", str(path))
    assert result.returncode != 0
    assert "Error validating config file" in result.stderr + result.stdout
    assert key in result.stderr + result.stdout


@pytest.mark.parametrize(
    "override, message",
    [
        ({"models": ["resnet50"]}, "config key models: unknown model 'resnet50'"),
        ({"ablation_models": ["ghostnet_050"]}, "config key ablation_models: 'ghostnet_050' is not a PokerNet"),
    ],
)
def test_model_names_are_checked_against_the_registry(tmp_path, override, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(override))
    result = snakemake("-n", "tables", "--configfile", str(path))
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def test_missing_dataset_root_is_named(tmp_path):
    path = tmp_path / "missing.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "dataset": {"name": "cifar10", "root": str(tmp_path / "nope"), "subset_per_class": None},
                "work_dir": str(tmp_path / "work"),
                "results_dir": str(tmp_path / "res"),
            }
        )
    )
    result = snakemake("--cores", "1", "train_all", "--configfile", str(path))
    assert result.returncode != 0
    assert "dataset.root" in result.stderr + result.stdout
    assert not (tmp_path / "work").exists()


def flatten(mapping, prefix=""):
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_ci_slurm_profile_differs_from_the_users_only_in_site_settings():
    users, ci = (
        flatten(yaml.safe_load((ROOT / f"workflow/profiles/{name}/config.yaml").read_text()))
        for name in ("slurm", "slurm-ci")
    )
    differing = {key for key in users.keys() | ci.keys() if users.get(key) != ci.get(key)}
    site = {key for key in differing if key.endswith(("slurm_partition", "slurm_account", "slurm-no-account"))}
    assert differing - site == {"configfile", "config", "set-threads.latency"}  # the study (file, name); latency cores
    assert users["slurm-status-command"] == ci["slurm-status-command"] == "squeue"
    assert "cores" not in users and "cores" not in ci


def test_the_opt_in_latency_choice_is_measured_before_the_latency_it_feeds(tmp_path):
    """config latency.choose: the rule latency_choice measures this machine's choice and the
    latency rule reads it (declared input); off, the packaged choice is the input."""
    default = yaml.safe_load((ROOT / "workflow/config/default.yaml").read_text())
    overlay = tmp_path / "choose.yaml"
    overlay.write_text(yaml.safe_dump({"latency": {**default["latency"], "choose": True}}))
    planned = snakemake("-n", "-p", "table3", "--configfile", str(overlay), "--forcerun", "latency")
    assert planned.returncode == 0, planned.stderr[-2000:]
    counts = job_counts(planned.stdout)
    assert counts.get("latency_choice") == 1 and counts.get("latency") == 1, planned.stdout[-3000:]
    assert (
        "--choice work/default/latency/expansion_choice.json --out work/default/latency/latency.json" in planned.stdout
    )
    off = snakemake("-n", "table3", "--forcerun", "latency")
    assert off.returncode == 0 and "latency_choice" not in job_counts(off.stdout), off.stdout[-3000:]
