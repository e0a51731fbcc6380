"""The GPU study's plumbing on the CPU: a tiny study runs end to end, its archive ingests into
the workflow's layout, and bad archives are clear errors."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
import torch

from pokernet.study.arms import STUDY_ARMS
from pokernet.study.cli import main as study_main
from pokernet.study.ingest import ingest
from pokernet.train.core import lr_at
from pokernet.train.recipe import config_hash, load_recipe, resolve_recipe

# the keys `pokernet train` writes to metrics.json (README, Training)
TRAIN_METRICS_KEYS = {"model", "model_options", "top1", "top5", "loss", "train_loss", "train_top1", "epochs",
                      "seed", "dataset", "subset_per_class", "data_source", "train_size", "val_size",
                      "resolution", "wall_time_s", "train_img_per_s", "recipe", "config", "config_hash",
                      "torch_version", "device", "num_threads", "world_size", "amp_bf16", "channels_last",
                      "git_commit", "timestamp", "history"}


def test_the_arms_are_the_workflows_variants():
    assert [arm.name for arm in STUDY_ARMS] == [
        "pokernet_050", "pokernet_100", "ghostnet_050", "ghostnet_100", "pokernet_050-no_se",
        "pokernet_100-no_se", "pokernet_050-act_relu", "pokernet_100-act_relu", "pokernet_050-act_relu6",
        "pokernet_100-act_relu6"]


def test_lr_follows_multisteplr_over_optimizer_steps():
    recipe = resolve_recipe(load_recipe("cifar10_gpu"), "pokernet_100", epochs=3)
    steps = 7
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=recipe["resolved"]["lr"])
    milestones = [round(e * steps) for e in recipe["resolved"]["lr_milestones_epochs"]]
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, recipe["lr_schedule"]["gamma"])
    for step in range(3 * steps):
        assert lr_at(recipe, step, steps) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        optimizer.step()
        scheduler.step()


@pytest.fixture
def study_archive(tmp_path, train_image_folder, train_tiny_recipe, train_keep_threads) -> Path:
    out = tmp_path / "study"
    code = study_main(["run", "--data-root", str(train_image_folder), "--out", str(out), "--seeds", "0", "1",
                       "--arms", "pokernet_050", "pokernet_050-no_se", "--recipe", str(train_tiny_recipe),
                       "--epochs", "1", "--device", "cpu", "--decode-workers", "1", "--threads", "1"])
    assert code == 0
    archive = tmp_path / "cifar10_study.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(out, arcname="study")
    return archive


def test_a_tiny_study_ingests_into_the_workflow_layout(study_archive, tmp_path):
    work = tmp_path / "work"
    runs = ingest(study_archive, work)
    assert sorted((r.variant, r.seed) for r in runs) == [("pokernet_050", 0), ("pokernet_050", 1),
                                                         ("pokernet_050-no_se", 0), ("pokernet_050-no_se", 1)]
    metrics = json.loads((work / "runs/pokernet_050-no_se/seed1/metrics.json").read_text())
    assert TRAIN_METRICS_KEYS <= set(metrics)
    assert metrics["model_options"]["se"] is False and metrics["seed"] == 1 and metrics["epochs"] == 1
    assert metrics["config_hash"] == config_hash(metrics["config"])
    assert metrics["val_size"] == 6 and len(metrics["history"]) == 1  # the whole val split
    assert json.loads((work / "study.json").read_text())["status"] == "complete"
    assert ingest(study_archive, work)  # the same runs again: nothing changes, no error


def test_ingest_never_replaces_another_run_silently(study_archive, tmp_path):
    work = tmp_path / "work"
    other = work / "runs/pokernet_050/seed0/metrics.json"
    other.parent.mkdir(parents=True)
    other.write_text("{}\n")
    with pytest.raises(ValueError, match="already holds another run"):
        ingest(study_archive, work)
    assert other.read_text() == "{}\n" and not (work / "runs/pokernet_050/seed1").exists()
    ingest(study_archive, work, force=True)
    assert json.loads(other.read_text())["seed"] == 0


def _archive(tmp_path: Path, members: dict[str, object]) -> Path:
    folder = tmp_path / f"content{len(list(tmp_path.glob('content*')))}"
    for name, content in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content))
    archive = folder.with_suffix(".tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="study")
    return archive


def test_bad_archives_are_one_clear_error(tmp_path, study_archive):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest(tmp_path / "missing.tar.gz", tmp_path / "w")
    (tmp_path / "junk.tar.gz").write_text("not a tar file")
    with pytest.raises(ValueError, match="unreadable"):
        ingest(tmp_path / "junk.tar.gz", tmp_path / "w")
    with tarfile.open(study_archive) as tar:
        good = json.load(tar.extractfile("study/runs/pokernet_050/seed0/metrics.json"))
    with pytest.raises(ValueError, match="top1 must be a number in"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": {**good, "top1": 140}}), tmp_path / "w")
    with pytest.raises(ValueError, match="holds variant pokernet_050 .*its path says pokernet_050-act_relu"):
        ingest(_archive(tmp_path, {"runs/pokernet_050-act_relu/seed0/metrics.json": good}), tmp_path / "w")
    # an ablated run under the published model's folder (the options of the base arm are not empty)
    no_se = {**good, "model_options": {**good["model_options"], "se": False}}
    with pytest.raises(ValueError, match="holds variant pokernet_050-no_se .*its path says pokernet_050$"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": no_se}), tmp_path / "w")
    with pytest.raises(ValueError, match="holds seed 0, its path says seed 3"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed3/metrics.json": good}), tmp_path / "w")
    with pytest.raises(ValueError, match="no complete run .1 partial"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/partial.json": good}), tmp_path / "w")
    assert not (tmp_path / "w").exists()
