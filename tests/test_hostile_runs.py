"""Hostile input (issue 21): every reader checks the runs it reads (pokernet.train.runcheck, used by the
report's inputs and by `pokernet study ingest`): a run agrees with itself and with the folder it lies in,
and one run is not counted twice."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import cli_fails

from pokernet.report.inputs import load_runs
from pokernet.train.recipe import config_hash

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "work/default/runs"


def _committed(variant: str = "pokernet_050", seed: int = 0) -> dict:
    return json.loads((COMMITTED / variant / f"seed{seed}/metrics.json").read_text())


def _place(tmp_path: Path, data: dict, variant: str = "pokernet_050", seed: int = 0) -> Path:
    path = tmp_path / "runs" / variant / f"seed{seed}" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _edited(data: dict, **fields) -> dict:
    data = copy.deepcopy(data)
    for dotted, value in fields.items():
        *parents, last = dotted.split("__")
        holder = data
        for key in parents:
            holder = holder[key]
        holder[last] = value
    return data


def test_the_committed_runs_pass_the_check():
    assert len(load_runs(sorted(COMMITTED.glob("*/seed*/metrics.json")))) > 40


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"config__seed": 7}, "seed is 0 but its config.seed is 7"),
        ({"config__model": "ghostnet_050"}, "model is 'pokernet_050' but its config.model is 'ghostnet_050'"),
        ({"top1": 99.9, "top5": 1.0}, "top5 1.0 is below top1 99.9"),
        ({"top1": 12.0}, "not the last epoch's val_top1/val_top5"),
        ({"config_hash": "0" * 64}, "config_hash does not match its config"),
    ],
)
def test_a_run_that_disagrees_with_itself_is_refused(tmp_path, fields, message):
    path = _place(tmp_path, _edited(_committed(), **fields))
    with pytest.raises(ValueError, match="^" + str(path)) as error:
        load_runs([path])
    assert message in str(error.value)


@pytest.mark.parametrize(
    "variant, message",
    [
        ("pokernet_050-no_se", "holds variant pokernet_050-no_se"),
        ("pokernet_050-act_relu", "holds variant pokernet_050-act_relu"),
    ],
)
def test_a_run_under_another_variants_folder_is_refused(tmp_path, variant, message):
    path = _place(tmp_path, _committed(variant), "pokernet_050")
    with pytest.raises(ValueError, match="its path says pokernet_050$") as error:
        load_runs([path])
    assert message in str(error.value)


def test_a_run_copied_to_another_seed_is_refused(tmp_path):
    # seed 1's metrics in the seed-2 folder with "seed": 2: its config says seed 1
    with pytest.raises(ValueError, match="seed is 2 but its config.seed is 1"):
        load_runs([_place(tmp_path, _edited(_committed(seed=1), seed=2), seed=2)])
    # made consistent (config and hash edited too): the same history twice is one run, both paths named
    copied = _edited(_committed(seed=1), seed=2, config__seed=2)
    copied["config_hash"] = config_hash(copied["config"])
    one, two = _place(tmp_path, _committed(seed=1), seed=1), _place(tmp_path, copied, seed=2)
    with pytest.raises(ValueError, match="identical training history") as error:
        load_runs([one, two])
    assert str(one) in str(error.value) and str(two) in str(error.value)


def test_the_report_says_it_in_one_line(tmp_path, capsys):
    path = _place(tmp_path, _edited(_committed(), config__seed=7))
    complexity = [str(p) for p in sorted((ROOT / "work/default/complexity").glob("*.json"))]
    cli_fails(
        ["report", "table2", "--complexity", *complexity, "--runs", str(path), "--out", str(tmp_path / "t2.md")],
        capsys,
        str(path),
        "config.seed is 7",
    )
    assert not list(tmp_path.glob("t2*"))
