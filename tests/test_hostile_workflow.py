"""Hostile input to the workflow (issue 21): config values never reach a shell unquoted, config paths
and ranges are checked by the schema, a broken recipe or an alias bomb stops the DAG with the key and
the file named, and a rerun retrains."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_hostile_input import _validate_config
from test_workflow import job_counts

ROOT = Path(__file__).resolve().parents[1]


def snakemake(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def overlay(tmp_path: Path, content: dict | str) -> str:
    path = tmp_path / "overlay.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return str(path)


# ------------------------------------------------------------------------------ the shell


def test_the_injection_overlay_runs_nothing_and_a_path_with_spaces_works(tmp_path):
    results = f"{tmp_path}/inj.png;touch {tmp_path}/PWNED;echo "
    config = overlay(tmp_path, {"results_dir": results, "profile_name": "hostile"})
    done = snakemake("--cores", "1", "fig5", "--configfile", "workflow/config/smoke.yaml", config)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "PWNED").exists()
    assert (Path(results) / "fig5.png").is_file()  # the whole value was one path, spaces and all


def test_work_dir_and_data_root_with_spaces_reach_the_command_whole(tmp_path):
    root = tmp_path / "my data"
    root.mkdir()
    config = overlay(tmp_path, {"work_dir": "work/my smoke", "dataset": {"root": str(root)}})
    done = snakemake(
        "-n",
        "-p",
        "--cores",
        "1",
        "work/my smoke/runs/pokernet_050/seed0/metrics.json",
        "--configfile",
        "workflow/config/smoke.yaml",
        config,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    command = next(line for line in done.stdout.splitlines() if " train --model " in line)
    words = shlex.split(command.split(";")[-1].split(">")[0])  # after the attempt's header line
    assert words[words.index("--data-root") + 1] == str(root)
    assert words[words.index("--out") + 1] == "work/my smoke/runs/pokernet_050/seed0"


@pytest.mark.parametrize(
    "override",
    [
        {"results_dir": ""},
        {"work_dir": ""},
        {"results_dir": "results\n/x"},
        {"work_dir": "w\x00"},
        {"dataset": {"root": ""}},
        {"recipe": ""},
        {"profile_name": "../x"},
        {"profile_name": "a b"},
        {"dataset": {"subset_per_class": 100000}},
        {"seeds": [2**70]},
        {"table2_seeds": [2**63]},
        {"table2_paired_seeds": [-1]},
    ],
)
def test_config_paths_and_ranges_are_checked_by_the_schema(override):
    assert _validate_config(override) is not None, override


def test_an_empty_results_dir_is_refused_before_any_job(tmp_path):
    done = snakemake(
        "-n",
        "--cores",
        "1",
        "fig5",
        "--configfile",
        "workflow/config/smoke.yaml",
        overlay(tmp_path, {"results_dir": ""}),
    )
    assert done.returncode != 0
    assert "results_dir" in done.stdout + done.stderr


# ------------------------------------------------------------------------------ what the DAG reads


def _bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\nseeds: *a9\n"


def test_an_alias_bomb_in_an_overlay_is_refused_within_seconds(tmp_path):
    start = time.monotonic()
    done = snakemake(
        "-n",
        "--cores",
        "1",
        "fig5",
        "--configfile",
        "workflow/config/smoke.yaml",
        overlay(tmp_path, _bomb()),
        timeout=60,
    )
    assert done.returncode != 0
    # refused where the config files are read (no aliases), before any walk of the expanded value
    assert "YAML aliases (*name) are not accepted" in done.stdout + done.stderr
    assert time.monotonic() - start < 30


def _write(path: Path, content: str | bytes | None) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


BROKEN_RECIPES = [
    (None, "is neither a file nor a packaged recipe"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("name: [unclosed\n", "not valid YAML"),
    (b"name: caf\xe9\n", "not UTF-8 text"),
    ("name: x\nchanges: " + "[" * 50000 + "]" * 50000 + "\n", "nested deeper than"),
    (_bomb(), "YAML aliases (*name) are not accepted"),
]


@pytest.mark.parametrize("recipe_text, message", BROKEN_RECIPES)
def test_a_broken_recipe_is_one_line_naming_the_file(tmp_path, recipe_text, message):
    from pokernet.train.recipe import load_recipe

    recipe = _write(tmp_path / "broken.yaml", recipe_text)
    start = time.monotonic()
    with pytest.raises((ValueError, FileNotFoundError)) as error:
        load_recipe(str(recipe))
    assert time.monotonic() - start < 10  # the alias bomb and the 50k-deep list are refused, not walked
    assert str(recipe) in str(error.value) and message in str(error.value) and "\n" not in str(error.value)


def test_a_broken_recipe_stops_the_dag_naming_the_key_and_the_file(tmp_path):
    recipe = _write(tmp_path / "broken.yaml", b"name: caf\xe9\n")
    done = snakemake(
        "-n",
        "--cores",
        "1",
        "fig5",
        "--configfile",
        "workflow/config/smoke.yaml",
        overlay(tmp_path, {"recipe": str(recipe)}),
    )
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert f"config key recipe: recipe {recipe}: not UTF-8 text" in out, out[-2000:]


# ------------------------------------------------------------------------------ a rerun is a rerun


def tiny_overlay(tmp_path: Path, image_folder: Path, recipe: Path, **config) -> str:
    """An overlay of a smoke-size work dir (tmp_path/work): pokernet_050 on the tiny image folder and recipe."""
    content = {
        "work_dir": str(tmp_path / "work"),
        "results_dir": str(tmp_path / "results"),
        "profile_name": "hostile",
        "dataset": {"name": "imagenet", "root": str(image_folder), "subset_per_class": 6},
        "recipe": str(recipe),
        **config,
    }
    return overlay(tmp_path, content)


@pytest.fixture
def tiny_workflow(tmp_path, train_image_folder, train_tiny_recipe):
    """snakemake on one smoke-size train target (pokernet_050, 18 images of 20x20, 1 epoch): run(*extra, **config)."""
    work = tmp_path / "work"
    target = str(work / "runs/pokernet_050/seed0/metrics.json")

    def run(*extra: str, **config) -> Path:
        content = tiny_overlay(tmp_path, train_image_folder, train_tiny_recipe, **{"epochs": 1, **config})
        smoke = ("--configfile", "workflow/config/smoke.yaml", content)
        done = snakemake("--cores", "1", target, *smoke, *extra, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return Path(target).parent

    return run


def _trained(run_dir: Path) -> tuple[int, str, int, str | None]:
    """(checkpoint inode, metrics timestamp, epochs, recorded commit) of a finished run."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return (run_dir / "checkpoint.pt").stat().st_ino, metrics["timestamp"], metrics["epochs"], metrics["git_commit"]


def test_forceall_and_a_changed_config_retrain_from_scratch(tiny_workflow):
    import torch

    from pokernet.provenance import git_commit

    run_dir = tiny_workflow()
    first = _trained(run_dir)
    assert first[3] == git_commit()
    # a finished run from older code: --forceall retrains it (no stale checkpoint reused) and records this code
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    torch.save({**checkpoint, "git_commit": "0000000"}, run_dir / "checkpoint.pt")
    forced = _trained(tiny_workflow("--forceall"))
    assert forced[0] != first[0] and forced[3] == git_commit()
    aside = sorted(run_dir.parent.glob("seed0.replaced-*"))
    assert [folder.name for folder in aside] == ["seed0.replaced-0000000"]  # named after the commit that trained it
    # what the README says moves: checkpoint and log; Snakemake deleted metrics.json before the job started
    assert sorted(entry.name for entry in aside[0].iterdir()) == ["checkpoint.pt", "train.log"]
    assert "a rerun: the previous run cannot be continued" in (run_dir / "train.log").read_text()
    # another epochs value: Snakemake re-plans (params changed), the rule retrains, no manual step
    longer = _trained(tiny_workflow(epochs=2))
    assert longer[2] == 2 and longer[0] != forced[0]
    assert len(list(run_dir.parent.glob("seed0.replaced-*"))) == 2


def test_forcerun_reruns_the_rule_and_what_depends_on_it_only():
    """README: `--forcerun RULE` reruns that rule's jobs and all that depends on them (nothing upstream)."""
    done = snakemake("-n", "tables", "--forcerun", "latency", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = job_counts(done.stdout)
    assert counts.get("latency") == 1 and counts.get("table3") == 1, counts
    assert "train" not in counts and "complexity_variant" not in counts, counts
    assert "`--forcerun RULE` that rule's jobs and all that" in (ROOT / "README.md").read_text()
