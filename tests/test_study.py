"""The GPU study's plumbing on the CPU: a tiny study runs end to end, its archive ingests into
the workflow's layout, and bad archives are clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from pokernet.study.cli import main as study_main
from pokernet.study.ingest import ingest
from pokernet.study.run import Study
from pokernet.study.schedule import (
    Budget,
    missing_runs,
    next_runs,
    run_images,
    seed_groups,
    study_schedule,
    windows_left,
)
from pokernet.train.checkpoint import load_checkpoint
from pokernet.train.core import lr_at
from pokernet.train.recipe import config_hash, load_recipe, resolve_recipe

# the keys `pokernet train` writes to metrics.json (workflow/report/training.rst)
TRAIN_METRICS_KEYS = {
    "model",
    "model_options",
    "top1",
    "top5",
    "loss",
    "train_loss",
    "train_top1",
    "epochs",
    "seed",
    "dataset",
    "subset_per_class",
    "data_source",
    "train_size",
    "val_size",
    "resolution",
    "wall_time_s",
    "train_img_per_s",
    "recipe",
    "config",
    "config_hash",
    "torch_version",
    "device",
    "num_threads",
    "world_size",
    "amp_bf16",
    "channels_last",
    "git_commit",
    "timestamp",
    "history",
}


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
    code = study_main(
        [
            "run",
            "--data-root",
            str(train_image_folder),
            "--out",
            str(out),
            "--seeds",
            "0",
            "1",
            "--arms",
            "pokernet_050",
            "pokernet_050-no_se",
            "--recipe",
            str(train_tiny_recipe),
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--threads",
            "1",
        ]
    )
    assert code == 0
    archive = tmp_path / "cifar10_study.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(out, arcname="study")
    return archive


def _study_run(
    metrics: dict, model: str = "pokernet_050", options: dict | None = None, seed: int = 0, **changes
) -> dict:
    """A tiny run's metrics made to look like one of the study's (cifar10_gpu at 30 epochs, clean commit)."""
    recipe = resolve_recipe(load_recipe("cifar10_gpu"), model)
    run = dict(
        metrics,
        model=model,
        model_options={"num_classes": 10, "drop_rate": 0.2, **(options or {})},
        seed=seed,
        recipe=recipe,
        epochs=recipe["epochs"],
        resolution=recipe["data"]["resolution"],
        git_commit="abc1234",
        val_size=10000,
    )
    run.update(changes)
    # consistent with itself (runcheck): the config it copies, its hash, one history entry per epoch
    config = dict(
        metrics["config"],
        **{k: run[k] for k in ("model", "model_options", "seed", "recipe", "dataset", "subset_per_class")},
    )
    last = dict(metrics["history"][-1], val_top1=run["top1"], val_top5=run["top5"])
    return dict(run, config=config, config_hash=config_hash(config), history=[last] * run["epochs"])


def test_study_run_resumes_after_a_kill_with_the_same_results(
    tmp_path, train_image_folder, train_tiny_recipe, train_keep_threads, monkeypatch, capsys
):
    recipe = tmp_path / "tiny_study.yaml"  # two epochs, evaluated after the last (as the study evaluates)
    recipe.write_text(train_tiny_recipe.read_text().replace("name: tiny", "name: tiny_study") + "eval_every: 2\n")
    args = [
        *("run", "--data-root", str(train_image_folder), "--seeds", "0", "1", "--arms", "pokernet_050"),
        *("--recipe", str(recipe), "--epochs", "2", "--device", "cpu", "--threads", "1"),
    ]
    assert study_main([*args, "--out", str(tmp_path / "straight")]) == 0
    train_epoch = Study.train_epoch

    def killed_in_epoch_2(study, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return train_epoch(study, epoch)

    monkeypatch.setattr(Study, "train_epoch", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        study_main([*args, "--out", str(tmp_path / "split")])
    monkeypatch.undo()
    assert not list((tmp_path / "split").glob("runs/*/*/metrics.json"))
    assert study_main([*args, "--out", str(tmp_path / "split")]) == 2  # not without --resume
    assert "pass --resume" in capsys.readouterr().err
    assert study_main([*args, "--out", str(tmp_path / "split"), "--resume"]) == 0
    for seed in (0, 1):
        run = f"runs/pokernet_050/seed{seed}"
        straight, split = (load_checkpoint(tmp_path / name / run) for name in ("straight", "split"))
        assert straight["model_state"].keys() == split["model_state"].keys()
        assert all(torch.equal(straight["model_state"][k], split["model_state"][k]) for k in straight["model_state"])
        metrics = [json.loads((tmp_path / name / run / "metrics.json").read_text()) for name in ("straight", "split")]
        assert [_without_timing(m) for m in metrics[:1]] == [_without_timing(m) for m in metrics[1:]]


def _without_timing(metrics: dict) -> dict:
    kept = {k: v for k, v in metrics.items() if k not in ("wall_time_s", "train_img_per_s", "timestamp")}
    kept["history"] = [{k: v for k, v in e.items() if k != "img_per_s"} for e in metrics["history"]]
    return kept


@pytest.fixture
def tiny_metrics(study_archive) -> dict:
    with tarfile.open(study_archive) as tar:
        return json.load(tar.extractfile("study/runs/pokernet_050/seed0/metrics.json"))


def test_the_tiny_study_writes_the_workflow_layout(study_archive, tiny_metrics):
    assert TRAIN_METRICS_KEYS <= set(tiny_metrics)
    assert tiny_metrics["config_hash"] == config_hash(tiny_metrics["config"])
    assert tiny_metrics["val_size"] == 6 and len(tiny_metrics["history"]) == 1  # the whole val split
    with tarfile.open(study_archive) as tar:
        no_se = json.load(tar.extractfile("study/runs/pokernet_050-no_se/seed1/metrics.json"))
    assert no_se["model_options"]["se"] is False and no_se["seed"] == 1 and no_se["epochs"] == 1


def test_study_runs_ingest_and_the_same_runs_again_change_nothing(tiny_metrics, tmp_path):
    work, recipe = tmp_path / "work", load_recipe("cifar10_gpu")
    archive = _archive(
        tmp_path,
        {
            "runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics),
            "runs/ghostnet_050/seed0/metrics.json": _study_run(tiny_metrics, "ghostnet_050"),
            "study.json": {"status": "complete"},
            "block0/study.json": {"status": "a block"},
        },
    )
    runs = ingest(archive, work, recipe)
    assert sorted((r.variant, r.seed) for r in runs) == [("ghostnet_050", 0), ("pokernet_050", 0)]
    assert json.loads((work / "study.json").read_text()) == {"status": "complete"}  # the window's, not a block's
    assert ingest(archive, work, recipe)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epochs": 3}, "another recipe than cifar10_gpu at its 30 epochs"),
        ({"git_commit": "17d8ce9-dirty"}, "17d8ce9-dirty is not a clean commit"),
        ({"git_commit": None}, "none \\(not a git checkout\\) is not a clean commit"),
        ({"dry_run_limits": {"val_limit": 100, "max_steps": None}}, "a dry run .*val_limit 100"),
        (
            {"model_options": {"num_classes": 10, "se": False}},
            "holds variant pokernet_050-no_se .*path says pokernet_050$",
        ),
        ({"seed": 3}, "holds seed 3, its path says seed 0"),
    ],
)
def test_ingest_refuses_runs_that_are_not_the_studys(tiny_metrics, tmp_path, change, message):
    if "epochs" in change:
        change = {**change, "recipe": resolve_recipe(load_recipe("cifar10_gpu"), "pokernet_050", 3)}
    archive = _archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics, **change)})
    with pytest.raises(ValueError, match=message):
        ingest(archive, tmp_path / "w", load_recipe("cifar10_gpu"))
    assert not (tmp_path / "w").exists()


def test_ingest_refuses_a_duplicate_naming_both_paths(tiny_metrics, tmp_path):
    work, recipe = tmp_path / "work", load_recipe("cifar10_gpu")
    ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics)}), work, recipe)
    again = _archive(
        tmp_path,
        {
            "runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics, top1=12.5),
            "runs/pokernet_050/seed1/metrics.json": _study_run(tiny_metrics, seed=1),
        },
    )
    held = work / "runs/pokernet_050/seed0/metrics.json"
    with pytest.raises(
        ValueError,
        match=f"duplicate run pokernet_050 seed 0: {again}:study/runs/pokernet_050/seed0/metrics.json and {held}",
    ):
        ingest(again, work, recipe)
    assert not (work / "runs/pokernet_050/seed1").exists()


def test_ingest_refuses_two_copies_of_a_run_in_one_archive(tiny_metrics, tmp_path):
    copies = {
        "block0/runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics),
        "runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics, top1=12.5),
    }
    archive = _archive(tmp_path, copies)
    with pytest.raises(ValueError, match=f"duplicate run pokernet_050 seed 0: {archive}:.*block0/runs/.* and "):
        ingest(archive, tmp_path / "w", load_recipe("cifar10_gpu"))
    assert not (tmp_path / "w").exists()


def test_ingest_does_not_mix_the_study_with_runs_of_another_setting(tiny_metrics, tmp_path):
    work, recipe = tmp_path / "work", load_recipe("cifar10_gpu")
    old = work / "runs/ghostnet_100/seed4/metrics.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps(_study_run(tiny_metrics, "ghostnet_100", seed=4, git_commit="17d8ce9-dirty")))
    with pytest.raises(ValueError, match="holds 1 run.* not the study's, e.g. .*ghostnet_100/seed4.*move .* away"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": _study_run(tiny_metrics)}), work, recipe)


def _archive(tmp_path: Path, members: dict[str, object]) -> Path:
    folder = tmp_path / f"content{len(list(tmp_path.glob('content*')))}"
    for name, content in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content))
    archive = folder.with_suffix(".tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="study")
    return archive


def test_bad_archives_are_one_clear_error(tmp_path, tiny_metrics):
    recipe, work = load_recipe("cifar10_gpu"), tmp_path / "w"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest(tmp_path / "missing.tar.gz", work, recipe)
    (tmp_path / "junk.tar.gz").write_text("not a tar file")
    with pytest.raises(ValueError, match="unreadable"):
        ingest(tmp_path / "junk.tar.gz", work, recipe)
    good = _study_run(tiny_metrics)
    with pytest.raises(ValueError, match="top1 must be a number in"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/metrics.json": {**good, "top1": 140}}), work, recipe)
    with pytest.raises(ValueError, match="holds variant pokernet_050 .*its path says pokernet_050-act_relu"):
        ingest(_archive(tmp_path, {"runs/pokernet_050-act_relu/seed0/metrics.json": good}), work, recipe)
    with pytest.raises(ValueError, match="no complete run .1 partial"):
        ingest(_archive(tmp_path, {"runs/pokernet_050/seed0/partial.json": good}), work, recipe)
    assert not work.exists()


# --------------------------------------------------------------------------- the schedule, the budget rule


def test_the_schedule_puts_the_key_pairs_first_seed_by_seed():
    runs = [str(run) for run in study_schedule({"key_seeds": 2, "ablation_seeds": 1})]
    assert runs == [
        "pokernet_050 seed 0",
        "ghostnet_050 seed 0",
        "pokernet_100 seed 0",
        "ghostnet_100 seed 0",
        "pokernet_050 seed 1",
        "ghostnet_050 seed 1",
        "pokernet_100 seed 1",
        "ghostnet_100 seed 1",
        "pokernet_050-no_se seed 0",
        "pokernet_100-no_se seed 0",
        "pokernet_050-act_relu seed 0",
        "pokernet_100-act_relu seed 0",
        "pokernet_050-act_relu6 seed 0",
        "pokernet_100-act_relu6 seed 0",
    ]


def test_a_window_takes_the_next_missing_runs_as_blocks_of_equal_seeds():
    schedule = study_schedule({"key_seeds": 3, "ablation_seeds": 0})
    missing = missing_runs(schedule, schedule[:2])
    assert [str(r) for r in missing[:2]] == ["pokernet_100 seed 0", "ghostnet_100 seed 0"]
    blocks = seed_groups(missing[:6])
    assert [([a.name for a in arms], seeds) for arms, seeds in blocks] == [
        (["pokernet_100", "ghostnet_100"], (0, 1)),
        (["pokernet_050", "ghostnet_050"], (1,)),
    ]


def test_the_budget_rule_fits_or_does_not_start():
    budget = Budget(budget_s=400, img_per_s=1000, margin=0.25, fixed_s=50)  # a run of 100k images: 125 s
    assert budget.fits(2, 100_000) and budget.seconds(2, 100_000) == 300
    assert not budget.fits(3, 100_000) and budget.most_runs(100_000) == 2
    assert Budget(100, 1000, 0.25, 50).most_runs(100_000) == 0
    assert next_runs(study_schedule({"key_seeds": 1, "ablation_seeds": 0}), budget, 100_000)[-1].seed == 0
    assert windows_left(5, 100_000, budget) == 3 and windows_left(5, 100_000, Budget(100, 1000, 0.25, 50)) is None
    assert run_images(30, 128) == 30 * 390 * 128  # whole batches of the 50,000 CIFAR-10 training images


def test_study_run_says_before_training_that_the_epochs_do_not_fit(
    tmp_path, train_image_folder, train_tiny_recipe, train_keep_threads, capsys
):
    out = tmp_path / "study"
    code = study_main(
        [
            "run",
            "--data-root",
            str(train_image_folder),
            "--out",
            str(out),
            "--seeds",
            "0",
            "--arms",
            "pokernet_050",
            "--recipe",
            str(train_tiny_recipe),
            "--epochs",
            "2",
            "--budget-s",
            "2",
            "--device",
            "cpu",
            "--threads",
            "1",
        ]
    )
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "2 epoch(s) of 1 runs need" in error and "not started" in error
    assert json.loads((out / "study.json").read_text())["status"] == "not_started"
    assert not (out / "runs").exists()


def test_a_window_trains_the_next_runs_and_plan_sees_them(
    tmp_path, train_image_folder, train_tiny_recipe, train_keep_threads, capsys
):
    recipe = tmp_path / "tiny_study.yaml"
    recipe.write_text(
        f"derives_from: {train_tiny_recipe}\nchanges: ['study fields']\nepochs: 1\n"
        "study: {key_seeds: 1, ablation_seeds: 0, safety_margin: 0.25}\n"
    )
    out, work = tmp_path / "out", tmp_path / "work"
    code = study_main(
        [
            "next",
            "--data-root",
            str(train_image_folder),
            "--out",
            str(out),
            "--recipe",
            str(recipe),
            "--work-dir",
            str(work),
            "--img-per-s",
            "1e9",
            "--budget-s",
            "300",
            "--allow-dirty",
            "--device",
            "cpu",
            "--threads",
            "1",
        ]
    )
    assert code == 0
    window = json.loads((out / "study.json").read_text())
    assert window["status"] == "complete" and window["runs"] == 4 and window["train_img_per_s"] > 0
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("block*/runs/*/seed*/metrics.json")) == [
        f"block0/runs/{v}/seed0/metrics.json" for v in ("ghostnet_050", "ghostnet_100", "pokernet_050", "pokernet_100")
    ]


def test_gpu_study_script_says_in_one_line_that_the_data_archive_is_missing(tmp_path):
    script = Path(__file__).resolve().parent.parent / "scripts" / "gpu_study.sh"
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path),
        "OUT": str(tmp_path / "out"),
        "CIFAR10_ARCHIVE": str(tmp_path / "absent.tar.gz"),
    }
    result = subprocess.run(
        ["bash", str(script), "--budget-s", "60"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert (
        f"missing {tmp_path}/absent.tar.gz" in result.stderr and "cp ../shared/datasets/cifar10-jpeg" in result.stderr
    )
    assert not (tmp_path / "out").exists()


def test_a_block_that_does_not_fit_its_measured_rate_is_shrunk_never_cut_short(
    tmp_path, train_image_folder, train_tiny_recipe, train_keep_threads, monkeypatch
):
    from pokernet.study import run as study_run
    from pokernet.study.window import plan_window, train_window

    recipe = tmp_path / "tiny_study.yaml"
    recipe.write_text(
        f"derives_from: {train_tiny_recipe}\nchanges: ['study fields']\nepochs: 1\n"
        "study: {key_seeds: 1, ablation_seeds: 0, safety_margin: 0.25}\n"
    )
    # 20 s per step per arm: 3 steps (18 images, batch 6) x 1.25 + evaluation (10 s per arm + 10 s):
    # 4 arms ~350 s, 3 arms ~265 s, 2 arms ~180 s; a 220 s window leaves 40 s for building the arms
    monkeypatch.setattr(study_run.Study, "measure", lambda self, steps: 20.0 * len(self.arms))
    window = plan_window(tmp_path / "work", str(recipe), 220, img_per_s=1e9, overhead_s=1)
    assert len(window.chosen) == 4
    template = study_run.StudyConfig(train_image_folder, tmp_path / "out", [], (), str(recipe), device="cpu", threads=1)
    summary = train_window(window, template, tmp_path / "out")
    assert summary["status"] == "incomplete" and summary["runs"] == 2
    assert summary["blocks"][0]["arms"] == ["pokernet_050", "ghostnet_050"]
    assert summary["blocks"][0]["epochs_done"] == 1


# --------------------------------------------------------------------------- speed levers (CPU)


@pytest.fixture
def tiny_fused(train_keep_threads):
    from pokernet.models import create_model
    from pokernet.train.fused import FusedRuns

    torch.set_num_threads(1)
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(create_model("pokernet_050", num_classes=10, drop_rate=0.2))
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(2, 6, 3, 32, 32, generator=generator), torch.randint(0, 10, (2, 6), generator=generator)
    return FusedRuns(models, 0.0625, 0.9, 4e-5, 0.1), x, y


def test_bf16_and_channels_last_steps_stay_within_the_stated_tolerance_of_fp32(tiny_fused, monkeypatch):
    from pokernet.study import levers
    from pokernet.study.levers import TOLERANCE, Levers, update_difference

    fused, x, y = tiny_fused
    before = fused.snapshot()
    bf16 = update_difference(fused, x, y, Levers(bf16=True))
    assert 0 < bf16 <= TOLERANCE["bf16"]  # > 0: autocast did run in bf16
    assert update_difference(fused, x, y, Levers(channels_last=True)) <= TOLERANCE["fp32"]
    assert all(torch.equal(a, b) for a, b in zip(before, fused.snapshot()))  # the state is restored
    plain_step = fused.step

    def larger_step(x, y):  # not the fp32 step: 10% larger updates
        fused.set_lr(0.0625 * 1.1)
        plain_step(x, y)
        fused.set_lr(0.0625)

    monkeypatch.setattr(levers, "lever_step", lambda fused, chosen: larger_step)
    assert update_difference(fused, x, y, Levers()) > TOLERANCE["fp32"]


def test_the_throughput_benchmark_runs_on_cpu_at_a_tiny_size(tmp_path):
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_throughput.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--device",
            "cpu",
            "--arms",
            "1",
            "--seeds",
            "2",
            "--size",
            "16",
            "--steps",
            "2",
            "--threads",
            "1",
            "--only",
            "1",
            "--out",
            str(tmp_path / "report.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "report.txt").read_text().splitlines()
    assert report[1].startswith("device: CPU") and "goal 100,000 img/s" in report[2]
    assert report[3].startswith("study today") and "x 1.00" in report[3]
    assert report[4].startswith("bf16 autocast") and "(within 0.05)" in report[4]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--total-s", "9m"], "--total-s must be whole seconds, got '9m'"),
        (["--parts", "study;rm"], "--parts is a comma list"),
        (["--budget", "1"], "unknown option --budget"),
    ],
)
def test_the_window_script_refuses_bad_options_in_one_line(tmp_path, args, message):
    script = Path(__file__).resolve().parent.parent / "scripts" / "gpu_window.sh"
    result = subprocess.run(
        ["bash", str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OUT": str(tmp_path / "out")},
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_profile_seeds_are_those_every_arm_of_a_table_holds():
    from pokernet.study.schedule import complete_seeds

    schedule = study_schedule({"key_seeds": 3, "ablation_seeds": 2})
    held = schedule[:9] + [run for run in schedule if run.arm.ablation and run.seed == 0]
    assert complete_seeds(held) == ([0, 1], [0])  # seed 2: only pokernet_050 held
    assert complete_seeds(held[:-1]) == ([0, 1], [])
