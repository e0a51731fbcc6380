"""`pokernet train` / `pokernet evaluate`: metrics.json, resume, determinism, bad input."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from conftest import cli_fails, run_cli

from pokernet.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from pokernet.train.core import SUBSET_DRAW
from pokernet.train.engine import METRICS_NAME

pytestmark = pytest.mark.usefixtures("train_keep_threads")

METRICS_KEYS = {
    "model",
    "model_options",
    "top1",
    "top5",
    "loss",
    "epochs",
    "seed",
    "dataset",
    "subset_per_class",
    "train_size",
    "val_size",
    "resolution",
    "wall_time_s",
    "train_img_per_s",
    "recipe",
    "config_hash",
    "torch_version",
    "device",
    "num_threads",
    "world_size",
    "git_commit",
    "timestamp",
}
TIMING_KEYS = {"wall_time_s", "train_img_per_s", "timestamp", "history"}


def _without_timing(metrics: dict) -> dict:
    kept = {k: v for k, v in metrics.items() if k not in TIMING_KEYS}
    kept["history"] = [{k: v for k, v in e.items() if k != "img_per_s"} for e in metrics["history"]]
    return kept


def test_train_writes_checkpoint_metrics_and_log(tmp_path, train_args, capsys):
    code, out, err = run_cli(train_args(tmp_path / "run"), capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / METRICS_NAME).read_text())
    assert METRICS_KEYS <= set(metrics)
    assert metrics["epochs"] == 2 and metrics["subset_per_class"] == 6 and metrics["dataset"] == "imagenet"
    assert (metrics["train_size"], metrics["val_size"], metrics["resolution"]) == (18, 6, 16)
    assert 0 <= metrics["top1"] <= metrics["top5"] <= 100 and metrics["world_size"] == 1
    assert metrics["model_options"] == {"width": 0.25, "head_chs": 32, "num_classes": 3, "drop_rate": 0.2}
    assert metrics["recipe"]["resolved"]["lr"] == pytest.approx(0.5 * 6 / 1024)
    assert len(metrics["config_hash"]) == 64 and metrics["torch_version"] == torch.__version__
    assert metrics["diverged"] is None and metrics["train_subset"] == metrics["config"]["train_subset"] == SUBSET_DRAW
    log = (tmp_path / "run" / "train.log").read_text()
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and all(line in log for line in epoch_lines)
    assert all(word in epoch_lines[0] for word in ("loss", "top-1", "img/s", "ETA"))
    assert not list((tmp_path / "run").glob(".*tmp"))  # atomic writes leave no temporary file


def test_same_seed_same_weights_and_resume_loses_nothing(tmp_path, train_args, capsys):
    assert run_cli(train_args(tmp_path / "straight"), capsys)[0] == 0
    assert run_cli(train_args(tmp_path / "split", "--stop-after", "1"), capsys)[0] == 0
    assert load_checkpoint(tmp_path / "split")["epoch"] == 1
    assert not (tmp_path / "split" / METRICS_NAME).exists()  # an unfinished run has no metrics
    code, out, err = run_cli(train_args(tmp_path / "split", "--resume"), capsys)
    assert code == 0, err
    assert "resuming" in out and "epoch 1/2" not in out

    straight, split = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "split")
    for name, tensor in straight["model_state"].items():
        assert torch.equal(tensor, split["model_state"][name]), name
    for a, b in zip(straight["optimizer_state"]["state"].values(), split["optimizer_state"]["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])
    assert straight["scheduler_state"] == split["scheduler_state"]
    metrics = [json.loads((tmp_path / d / METRICS_NAME).read_text()) for d in ("straight", "split")]
    assert _without_timing(metrics[0]) == _without_timing(metrics[1])


def test_another_seed_gives_other_weights(tmp_path, train_args, capsys):
    assert run_cli(train_args(tmp_path / "a", "--epochs", "1"), capsys)[0] == 0
    assert run_cli(train_args(tmp_path / "b", "--epochs", "1", "--seed", "1"), capsys)[0] == 0
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert a["config_hash"] != b["config_hash"]
    assert not torch.equal(a["model_state"]["classifier.weight"], b["model_state"]["classifier.weight"])


def test_evaluate_rebuilds_the_model_from_the_checkpoint(tmp_path, train_args, train_image_folder, capsys):
    assert run_cli(train_args(tmp_path / "run", "--epochs", "1"), capsys)[0] == 0
    metrics = json.loads((tmp_path / "run" / METRICS_NAME).read_text())
    for target in (tmp_path / "run", tmp_path / "run" / CHECKPOINT_NAME):
        code, out, err = run_cli(
            [
                "evaluate",
                "--checkpoint",
                str(target),
                "--data",
                "imagenet",
                "--data-root",
                str(train_image_folder),
                "--subset",
                "6",
                "--json",
                "--threads",
                "1",
            ],
            capsys,
        )
        assert code == 0, err
        report = json.loads(out)
        assert report["top1"] == pytest.approx(metrics["top1"]) and report["loss"] == pytest.approx(metrics["loss"])
        assert report["model_options"] == metrics["model_options"] and report["val_size"] == 6


def test_streamed_imagefolder_training_runs_with_workers(tmp_path, train_args, capsys):
    argv = train_args(tmp_path / "run", "--epochs", "1", "--workers", "1", "--device", "cpu")  # a full-size run: said
    argv.remove("--subset")
    argv.remove("6")
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "run" / METRICS_NAME).read_text())["subset_per_class"] is None


# ------------------------------------------------------------------ bad input: one line, exit 2


def test_unknown_model(tmp_path, train_args, capsys):
    argv = train_args(tmp_path / "run")
    argv[argv.index("pokernet_050")] = "pokernet_999"
    cli_fails(argv, capsys, "unknown model 'pokernet_999'")
    assert not (tmp_path / "run").exists()


def test_option_the_model_does_not_take(tmp_path, train_args, capsys):
    argv = train_args(tmp_path / "run")
    argv[argv.index("pokernet_050")] = "mobilenetv1_050"
    cli_fails(argv, capsys, "does not take", "--width")
    assert not (tmp_path / "run").exists()


def test_missing_dataset(tmp_path, train_args, capsys):
    argv = train_args(tmp_path / "run")
    argv[argv.index("--data-root") + 1] = str(tmp_path / "nowhere")
    cli_fails(argv, capsys, str(tmp_path / "nowhere"))
    argv = train_args(tmp_path / "run")
    argv[argv.index("imagenet")] = "cifar10"
    argv[argv.index("--data-root") + 1] = str(tmp_path)
    cli_fails(argv, capsys, str(tmp_path), "--download")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed-by-worker"])
def test_corrupt_image_is_named(tmp_path, train_args, train_image_folder, capsys, streamed):
    bad = train_image_folder / "train" / "circle" / "0.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated PNG
    argv = train_args(tmp_path / "run")
    if streamed:
        argv.remove("--subset")
        argv.remove("6")
        argv += ["--workers", "1", "--device", "cpu"]  # a full-size run on the CPU: said
    cli_fails(argv, capsys, str(bad))
    assert not (tmp_path / "run" / METRICS_NAME).exists()


@pytest.mark.parametrize(
    "recipe, expected",
    [
        ("derives_from: imagenet\nepochs: -1\n", "epochs must be a whole number >= 1"),
        ("derives_from: imagenet\ndata: {colour_jitter: 0.4}\n", "unknown key 'data.colour_jitter'"),
    ],
)
def test_bad_recipe(tmp_path, train_args, capsys, recipe, expected):
    path = tmp_path / "bad_recipe.yaml"
    path.write_text(recipe)
    argv = train_args(tmp_path / "run")
    argv[argv.index("--recipe") + 1] = str(path)
    cli_fails(argv, capsys, expected, str(path))
    assert not (tmp_path / "run").exists()


def test_bad_checkpoints(tmp_path, train_args, train_image_folder, capsys):
    assert run_cli(train_args(tmp_path / "run", "--epochs", "1"), capsys)[0] == 0
    good = (tmp_path / "run" / CHECKPOINT_NAME).read_bytes()
    evaluate = ["evaluate", "--data", "imagenet", "--data-root", str(train_image_folder), "--checkpoint"]

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good[: len(good) // 2])
    cli_fails(evaluate + [str(truncated)], capsys, str(truncated), "not a readable checkpoint")

    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "epoch": 3}, foreign)
    cli_fails(evaluate + [str(foreign)], capsys, str(foreign), "not a pokernet checkpoint")

    pickled = tmp_path / "pickled.pkl"
    pickled.write_bytes(pickle.dumps({"epoch": 3}))
    cli_fails(evaluate + [str(pickled)], capsys, str(pickled), "not a readable checkpoint")

    cli_fails(evaluate + [str(tmp_path / "absent.pt")], capsys, "no checkpoint at")

    # a run whose checkpoint was cut short cannot be resumed silently
    (tmp_path / "run" / CHECKPOINT_NAME).write_bytes(good[:1000])
    (tmp_path / "run" / METRICS_NAME).unlink()
    cli_fails(train_args(tmp_path / "run", "--epochs", "1", "--resume"), capsys, "not a readable checkpoint")
    assert not (tmp_path / "run" / METRICS_NAME).exists()


def test_resume_needs_the_same_config_and_a_run_is_not_overwritten(tmp_path, train_args, capsys):
    assert run_cli(train_args(tmp_path / "run", "--stop-after", "1"), capsys)[0] == 0
    cli_fails(train_args(tmp_path / "run", "--resume", "--seed", "5"), capsys, "another configuration", "seed")
    cli_fails(train_args(tmp_path / "run"), capsys, "already holds a run", "--resume")
    # with nothing to resume, --resume starts the run (one command to start and to requeue)
    code, out, err = run_cli(train_args(tmp_path / "other", "--resume", "--epochs", "1"), capsys)
    assert code == 0, err
    assert out.startswith("training") and (tmp_path / "other" / METRICS_NAME).exists()
