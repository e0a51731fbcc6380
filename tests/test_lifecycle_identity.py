"""Issue 25's refactor changes no result: one arm of each trainer (`pokernet train`, and the study's
fused trainer on the CPU) trained by the code of commit e497278 (a temporary worktree) and by this
checkout gives bit-identical weights and metrics.json (timings, commit and timestamp aside)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

BASE = "e497278"
ROOT = Path(__file__).resolve().parent.parent
VARYING = {"wall_time_s", "train_img_per_s", "timestamp", "git_commit", "data_source"}


@pytest.fixture(scope="module")
def base_tree(tmp_path_factory):
    tree = tmp_path_factory.mktemp("base") / "tree"
    made = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), BASE], capture_output=True, text=True
    )
    if made.returncode:
        pytest.skip(f"commit {BASE} is not in this clone: {made.stderr.strip()}")
    yield tree
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


def _pokernet(code_root: Path, argv: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    done = subprocess.run(
        [sys.executable, "-m", "pokernet", *argv], env=env, cwd=code_root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


# Provenance this round added to every run (the protocol, the eval split, the commits and code hash
# that trained each epoch): records of where a number came from, not numbers that could differ.
ADDED_RECORDS = {"eval_split", "protocol", "commits"}
ADDED_ROW_RECORDS = {"img_per_s", "commit", "training_code"}


def _comparable(metrics: dict) -> dict:
    kept = {k: v for k, v in metrics.items() if k not in VARYING | ADDED_RECORDS}
    kept["history"] = [{k: v for k, v in row.items() if k not in ADDED_ROW_RECORDS} for row in metrics["history"]]
    return kept


def test_pokernet_train_gives_the_base_commits_weights_and_metrics(base_tree, tmp_path, train_args, train_keep_threads):
    outs = {}
    for name, code_root in (("base", base_tree), ("now", ROOT)):
        outs[name] = tmp_path / name
        _pokernet(code_root, train_args(outs[name]))
    states = [torch.load(outs[n] / "checkpoint.pt", weights_only=False)["model_state"] for n in ("base", "now")]
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    metrics = [json.loads((outs[n] / "metrics.json").read_text()) for n in ("base", "now")]
    assert _comparable(metrics[0]) == _comparable(metrics[1])


def test_the_fused_study_gives_the_base_commits_metrics(base_tree, tmp_path, train_image_folder, train_tiny_recipe):
    recipe = tmp_path / "tiny_study.yaml"  # two epochs, evaluated after the last (as the study evaluates)
    recipe.write_text(train_tiny_recipe.read_text().replace("name: tiny", "name: tiny_study") + "eval_every: 2\n")
    outs = {}
    for name, code_root in (("base", base_tree), ("now", ROOT)):
        outs[name] = tmp_path / name
        _pokernet(
            code_root,
            [
                "study",
                "run",
                "--data-root",
                str(train_image_folder),
                "--out",
                str(outs[name]),
                "--seeds",
                "0",
                "1",
                "--arms",
                "pokernet_050",
                "--recipe",
                str(recipe),
                "--epochs",
                "2",
                "--device",
                "cpu",
                "--threads",
                "1",
                *(["--decode-workers", "1"] if name == "base" else []),
            ],
        )
    for seed in (0, 1):
        found = [json.loads((outs[n] / f"runs/pokernet_050/seed{seed}/metrics.json").read_text()) for n in outs]
        assert _comparable(found[0]) == _comparable(found[1])
