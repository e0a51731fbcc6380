"""Hostile input (issue 10): each of the 21 defects found, tried again, plus the "Also:" cases.

Every bad input must end in exit code 2 with one line naming the argument or key, nothing
half-written and no result lost. Test names carry the defect's number in the issue.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from conftest import cli_fails, run_cli

from pokernet import fileio, schemas
from pokernet.models import create_model
from pokernet.protocol import with_protocol

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT, METRICS = "checkpoint.pt", "metrics.json"

pytestmark = pytest.mark.usefixtures("train_keep_threads")


# ------------------------------------------------------------------------------ helpers


def _recipe(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(
        "name: hostile\nderives_from: imagenet\nepochs: 2\nbatch_size: 6\n"
        "data: {resolution: 16, resize: null, pad: 2}\n" + text
    )
    return path


@pytest.fixture
def read_only(tmp_path):
    """Make a folder read-only, for root too (chattr +i: root may write into a 0555 folder)."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
        made.append(path)
        if os.access(path, os.W_OK) and shutil.which("chattr"):
            subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if os.access(path, os.W_OK):
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        return path

    yield make
    for path in made:
        if shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o755)


# ------------------------------------------------------------------------------ run folders


def test_01_a_run_folder_in_use_is_refused(tmp_path, train_args, capsys):
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pokernet.fileio import claim_folder; "
            "claim = claim_folder(sys.argv[1], '--out'); print('claimed', flush=True); time.sleep(120)",
            str(run),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "claimed"
        cli_fails(train_args(run), capsys, "--out", str(run), "in use by another process", f"pid {holder.pid}")
        assert sorted(p.name for p in run.iterdir()) == [fileio.LOCK_NAME]  # nothing of ours written
    finally:
        holder.kill()
        holder.wait()
    # the claim dies with its process: the folder is free again
    code, _, err = run_cli(train_args(run, "--epochs", "1"), capsys)
    assert code == 0, err
    assert not (run / fileio.LOCK_NAME).exists()


def test_02_a_finished_run_is_never_overwritten(tmp_path, train_args, capsys):
    run = tmp_path / "run"
    assert run_cli(train_args(run, "--epochs", "1"), capsys)[0] == 0
    finished = (run / METRICS).read_bytes()
    (run / CHECKPOINT).unlink()
    cli_fails(train_args(run, "--epochs", "1", "--seed", "5"), capsys, str(run), "finished run", METRICS)
    cli_fails(train_args(run, "--epochs", "1", "--seed", "5", "--resume"), capsys, str(run), "another configuration")
    # the same command again with --resume (a requeued job) finds the run done and rewrites nothing
    code, out, err = run_cli(train_args(run, "--epochs", "1", "--resume"), capsys)
    assert code == 0 and "already finished" in out, err
    assert (run / METRICS).read_bytes() == finished and not (run / CHECKPOINT).exists()


# ------------------------------------------------------------------------------ recipes, loss


@pytest.mark.parametrize(
    "text, key",
    [
        ("lr: {base: .nan}\n", "lr.base"),
        ("lr: {base: .inf}\n", "lr.base"),
        ("label_smoothing: .nan\n", "label_smoothing"),
        ("data: {resolution: 16, resize: null, pad: 2, mean: [.nan, 0.5, 0.5]}\n", "data.mean[0]"),
        ("lr_schedule: {milestones: [.inf]}\n", "lr_schedule.milestones[0]"),  # defect 4
        ("weight_decay: {default: -.inf}\n", "weight_decay.default"),
    ],
)
def test_03_04_non_finite_recipe_values_are_refused(tmp_path, train_args, capsys, text, key):
    recipe = _recipe(tmp_path, text)
    argv = train_args(tmp_path / "run")
    argv[argv.index("--recipe") + 1] = str(recipe)
    cli_fails(argv, capsys, str(recipe), key, "finite")
    assert not (tmp_path / "run").exists()


def test_03_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_epoch(tmp_path, train_args, capsys, monkeypatch):
    calls = {"n": 0}
    real = torch.nn.CrossEntropyLoss.forward

    def poisoned(self, logits, target):  # the loss goes NaN from epoch 2's first step (3 steps/epoch)
        calls["n"] += 1
        loss = real(self, logits, target)
        return loss * float("nan") if calls["n"] > 3 else loss

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", poisoned)
    run = tmp_path / "run"
    cli_fails(train_args(run), capsys, "epoch 2", "step 1", "not finite", str(run / CHECKPOINT))
    assert torch.load(run / CHECKPOINT, weights_only=True)["epoch"] == 1
    assert not (run / METRICS).exists() and not list(run.glob(".*.tmp"))


def test_03_a_diverging_recipe_stops_with_a_clear_error(tmp_path, train_args, capsys):
    recipe = _recipe(tmp_path, "lr: {base: 1.0e+30}\n")
    argv = train_args(tmp_path / "run")
    argv[argv.index("--recipe") + 1] = str(recipe)
    cli_fails(argv, capsys, "not finite", "epoch")
    assert not (tmp_path / "run" / METRICS).exists()


# ------------------------------------------------------------------------------ numbers on the CLI


@pytest.mark.parametrize(
    "width, text",
    [("inf", "finite"), ("nan", "finite"), ("1e6", "at most 4"), ("0.001", "at least 0.1"), ("True", "not a number")],
)
def test_05_06_width_is_finite_and_bounded(tmp_path, train_args, capsys, width, text):
    cli_fails(["complexity", "pokernet_050", "--width", width], capsys, "--width", text)
    argv = train_args(tmp_path / "run")
    argv[argv.index("--width") + 1] = width
    cli_fails(argv, capsys, "--width", text)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("width", [float("inf"), float("nan"), 1e6, 0.001, True, "0.5"])
def test_05_06_20_the_builder_checks_width(width):
    with pytest.raises(ValueError, match="width"):
        create_model("pokernet_050", width=width)


@pytest.mark.parametrize("budget", ["inf", "nan", "1e9", "0", "-1"])
def test_07_latency_budget_is_finite_and_bounded(capsys, budget, monkeypatch):
    monkeypatch.setattr("pokernet.latency.measure.measure", _no_measuring)
    cli_fails(
        ["latency", "pokernet_050", "--runtime", "eager", "--threads", "1", "--budget-s", budget], capsys, "--budget-s"
    )


def _no_measuring(*args, **kwargs):
    raise AssertionError("measured although an argument was bad")


def test_08_latency_out_in_a_read_only_folder_is_refused_before_measuring(tmp_path, capsys, monkeypatch, read_only):
    monkeypatch.setattr("pokernet.latency.measure.measure", _no_measuring)
    folder = read_only(tmp_path / "ro")
    cli_fails(
        [
            "latency",
            "pokernet_050",
            "--runtime",
            "eager",
            "--threads",
            "1",
            "--quick",
            "--out",
            str(folder / "latency.json"),
        ],
        capsys,
        "--out",
        str(folder),
        "not writable",
    )


def test_09_latency_out_onto_a_folder_is_refused_before_measuring(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("pokernet.latency.measure.measure", _no_measuring)
    cli_fails(
        ["latency", "pokernet_050", "--runtime", "eager", "--threads", "1", "--quick", "--out", str(tmp_path)],
        capsys,
        "--out",
        str(tmp_path),
        "is a folder",
    )


def test_08_09_a_failed_latency_write_still_prints_the_results(tmp_path, capsys, monkeypatch):
    report = {
        "hardware": {"cpu": "test"},
        "versions": {},
        "batch": 1,
        "resolution": 224,
        "results": [
            {"model": "pokernet_050", "runtime": "eager", "threads": 1, "median_ms": 1.5, "iqr_ms": 0.1, "runs": 3}
        ],
        "ratios": [],
    }
    monkeypatch.setattr("pokernet.latency.measure.measure", lambda *a, **k: json.loads(json.dumps(report)))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pokernet.fileio.os.fsync", disk_full)
    out, err = cli_fails(
        [
            "latency",
            "pokernet_050",
            "ghostnet_050",
            "--runtime",
            "eager",
            "--threads",
            "1",
            "--quick",
            "--out",
            str(tmp_path / "latency.json"),
        ],
        capsys,
        str(tmp_path / "latency.json"),
    )
    printed = [(r["model"], r["median_ms"]) for r in json.loads(out)["results"]]
    assert printed == [(r["model"], r["median_ms"]) for r in report["results"]]  # on stdout, although no --json
    assert not list(tmp_path.iterdir())


def test_10_train_out_in_a_read_only_folder(tmp_path, train_args, capsys, read_only):
    folder = read_only(tmp_path / "ro")
    cli_fails(train_args(folder / "run"), capsys, "--out", str(folder), "not writable")


def test_11_train_out_on_a_read_only_run_folder(tmp_path, train_args, capsys, read_only):
    folder = read_only(tmp_path / "run")
    cli_fails(train_args(folder), capsys, "--out", str(folder), "not writable")


def test_12_train_out_on_a_file(tmp_path, train_args, capsys):
    target = tmp_path / "a-file"
    target.write_text("keep me\n")
    cli_fails(train_args(target), capsys, "--out", str(target), "is a file")
    assert target.read_text() == "keep me\n"


# ------------------------------------------------------------------------------ workflow config


def _validate_config(override: dict) -> str | None:
    import jsonschema

    config = with_protocol(yaml.safe_load((ROOT / "workflow/config/default.yaml").read_text()))
    for key, value in override.items():
        if isinstance(value, dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    return None if error is None else f"{list(error.absolute_path)}: {error.message}"


@pytest.mark.parametrize(
    "override",
    [
        {"recipe": "no_such_recipe"},  # 13
        {"latency": {"budget_s": float("inf")}},
        {"latency": {"budget_s": float("nan")}},  # 14
        {"latency": {"budget_s": 1e9}},
        {"latency": {"budget_s": 0}},
        {"ablation_models": []},  # 15
        {"latency": {"models": ["pokernet_050", "pokernet_050"]}},  # 16
        {"seeds": [0, 0]},
        {"table2_seeds": [1, 1]},
    ],
)
def test_13_to_16_bad_workflow_configs_are_refused(override):
    assert _validate_config(override) is not None, override


def test_13_the_config_recipe_names_are_the_packaged_recipes():
    from pokernet.train.recipe import packaged_recipes

    for name in packaged_recipes():
        assert _validate_config({"recipe": name}) is None
    assert _validate_config({"recipe": "my/recipes/long_run.yaml"}) is None  # a path stays allowed


# ------------------------------------------------------------------------------ files


def test_17_orphaned_temporary_files_are_removed_on_the_next_start(tmp_path, train_args, capsys):
    run = tmp_path / "run"
    assert run_cli(train_args(run, "--stop-after", "1"), capsys)[0] == 0
    orphans = [run / ".checkpoint.pt.k1ll3d_0.tmp", run / ".metrics.json.k1ll3d_0.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"\0" * 1000)
    keep = run / ".my-notes.tmp"  # not one of ours
    keep.write_text("mine")
    code, _, err = run_cli(train_args(run, "--resume"), capsys)
    assert code == 0, err
    assert not any(o.exists() for o in orphans) and keep.exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_18_output_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = fileio.atomic_write_text(tmp_path / "out.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_18_figures_follow_the_umask(tmp_path):
    import matplotlib.pyplot as plt

    from pokernet.report.figures import save_figure

    old = os.umask(0o022)
    try:
        paths = save_figure(plt.figure(), [tmp_path / "fig.png", tmp_path / "fig.svg"])
    finally:
        os.umask(old)
    assert [stat.S_IMODE(p.stat().st_mode) for p in paths] == [0o644, 0o644]


def test_18_a_run_writes_files_by_the_umask(tmp_path, train_args, capsys):
    old = os.umask(0o022)
    try:
        assert run_cli(train_args(tmp_path / "run", "--epochs", "1"), capsys)[0] == 0
    finally:
        os.umask(old)
    for name in (CHECKPOINT, METRICS):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o644


@pytest.mark.parametrize("seed", ["99999999999999999999", "-1", str(2**63), "1.5"])
def test_19_seed_is_range_checked(tmp_path, train_args, capsys, seed):
    cli_fails(train_args(tmp_path / "run", "--seed", seed), capsys, "--seed")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "model, options, key",
    [
        ("pokernet_050", {"se": "no"}, "se"),
        ("pokernet_050", {"width": True}, "width"),
        ("pokernet_050", {"act": 6}, "act"),
        ("pokernet_050", {"head_chs": 32.0}, "head_chs"),
        ("ghostnet_050", {"drop_rate": "0.2"}, "drop_rate"),
    ],
)
def test_20_model_options_are_type_checked(model, options, key):
    with pytest.raises(ValueError, match=key):
        create_model(model, **options)


@pytest.fixture
def checkpoint_run(tmp_path, train_args, capsys):
    assert run_cli(train_args(tmp_path / "run", "--epochs", "1"), capsys)[0] == 0
    return tmp_path / "run" / CHECKPOINT


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["model_options"].update(width=float("inf")), "model_options.width"),
        (lambda c: c["model_options"].update(width="wide"), "model_options.width"),
        (lambda c: c.update(config="x"), "config"),
        (lambda c: c["config"]["recipe"]["data"].update(mean="x"), "config.recipe.data.mean"),
        (lambda c: c.update(model_options=[1, 2]), "model_options"),
        (lambda c: c.update(classes="abc"), "classes"),
        (lambda c: c.update(model_state=[1, 2]), "model_state"),  # issue 21
        (lambda c: c.update(epoch=-3), "epoch must be in [1, 1]"),
        (lambda c: c["model_options"].update(width=[0.5]), "model_options.width"),
        (lambda c: c["model_options"].update(width="0.5"), "model_options.width"),
        (lambda c: c.update(git_commit=5), "git_commit"),
    ],
)
def test_21_a_hand_edited_checkpoint_is_named(tmp_path, checkpoint_run, train_image_folder, capsys, edit, key):
    checkpoint = torch.load(checkpoint_run, weights_only=True)
    edit(checkpoint)
    edited = tmp_path / "edited.pt"
    torch.save(checkpoint, edited)
    cli_fails(
        [
            "evaluate",
            "--checkpoint",
            str(edited),
            "--data",
            "imagenet",
            "--data-root",
            str(train_image_folder),
            "--threads",
            "1",
        ],
        capsys,
        str(edited),
        key,
    )


# ------------------------------------------------------------------------------ also


def test_also_no_se_errors_name_no_se(tmp_path, train_args, capsys):
    argv = [a for a in train_args(tmp_path / "run") if a not in ("--width", "0.25", "--head-chs", "32")]
    argv[argv.index("pokernet_050")] = "mobilenetv1_050"
    cli_fails(argv + ["--no-se"], capsys, "does not take --no-se")


def test_also_a_data_root_that_is_a_file_is_not_a_folder(tmp_path, train_args, capsys):
    afile = tmp_path / "data.tar"
    afile.write_text("not a folder")
    argv = train_args(tmp_path / "run")
    argv[argv.index("--data-root") + 1] = str(afile)
    cli_fails(argv, capsys, "--data-root", f"{afile} is not a folder")


def test_also_a_subset_above_the_data_size_is_refused(tmp_path, train_args, capsys):
    argv = train_args(tmp_path / "run")
    argv[argv.index("--subset") + 1] = "7"  # the train split has 6 images per class
    cli_fails(argv, capsys, "--subset 7", "6")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------ file contracts


def test_contract_json_refuses_nan_and_infinity(tmp_path):
    for constant in ("NaN", "Infinity", "-Infinity"):
        path = tmp_path / "m.json"
        path.write_text(f'{{"top1": {constant}}}')
        with pytest.raises(ValueError, match=f"{path}.*not valid JSON"):
            schemas.read(path, "metrics")
    with pytest.raises(ValueError, match="top1 must be a finite number"):
        schemas.dumps("metrics", {"top1": math.nan}, "metrics.json")


@pytest.mark.parametrize(
    "kind, content, key",
    [
        (
            "metrics",
            {
                "model": "pokernet_050",
                "model_options": {},
                "top1": 101,
                "top5": 90,
                "epochs": 1,
                "seed": 0,
                "dataset": "x",
                "resolution": 28,
                "config_hash": "h",
            },
            "top1",
        ),
        (
            "latency",
            {"hardware": {}, "versions": {}, "batch": 1, "resolution": 224, "results": [], "ratios": []},
            "results",
        ),
        (
            "complexity",
            [{"model": "pokernet_050", "params": 0, "madds": 1, "resolution": 224, "options": {}}],
            "[0].params",
        ),
        ("recipe", {"epochs": 1}, "missing key"),
    ],
)
def test_contract_checks_name_the_key(kind, content, key):
    with pytest.raises(ValueError, match=key.replace("[", r"\[").replace("]", r"\]")):
        schemas.check(kind, content, "somewhere")


def test_the_packaged_recipes_keep_their_contract():
    from pokernet.train.recipe import load_recipe, packaged_recipes

    for name in packaged_recipes():
        schemas.check("recipe", load_recipe(name), name)


# ------------------------------------------------------------------------------ bounds before allocating (issue 21)


@pytest.mark.parametrize(
    "argv, key",
    [
        (["latency", "pokernet_050", "--runtime", "onnxruntime", "--quick", "--threads", "5000"], "--threads"),
        (["latency", "pokernet_050", "--resolution", "100000"], "--resolution"),
        (["latency", "pokernet_050", "--batch", "100000"], "--batch"),
        (["latency", "pokernet_050", "--budget-s", "0.1", "--min-runs", "1000000000"], "--min-runs"),
        (["complexity", "pokernet_050", "--resolution", "100000"], "--resolution"),
        (["train", "--model", "pokernet_050", "--threads", "100000"], "--threads"),
    ],
)
def test_sizes_are_bounded_before_anything_is_allocated(capsys, argv, key):
    start = time.monotonic()
    cli_fails(argv, capsys, key)
    assert time.monotonic() - start < 10  # the former hangs (threads 5000, --min-runs 1e9) return at once


@pytest.mark.parametrize(
    "data, key",
    [
        ("{resolution: 100000, resize: null, pad: 2}", "data.resolution"),
        ("{resolution: 16, resize: 100000, pad: 2}", "data.resize"),
        ("{resolution: 16, resize: null, pad: 1000000}", "data.pad"),
    ],
)
def test_recipe_sizes_are_bounded(tmp_path, train_args, capsys, data, key):
    recipe = tmp_path / "big.yaml"
    recipe.write_text(f"name: big\nderives_from: imagenet\nepochs: 1\nbatch_size: 6\ndata: {data}\n")
    run = tmp_path / "run"
    args = train_args(run)
    args[args.index("--recipe") + 1] = str(recipe)
    cli_fails(args, capsys, key, str(recipe))
    assert not run.exists()


def test_deep_json_is_refused_not_a_recursion_error(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("[" * 200000 + "]" * 200000)
    with pytest.raises(ValueError, match="nested deeper than"):
        schemas.read(path, "metrics")


# ------------------------------------------------------------------------------ odd files in a run folder (issue 21)


@pytest.mark.parametrize("name", [fileio.LOCK_NAME, "train.log"])
def test_a_symlink_in_a_run_folder_is_refused_and_its_target_untouched(tmp_path, train_args, capsys, name):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / name).symlink_to(precious)
    cli_fails(train_args(run, "--epochs", "2", "--stop-after", "1"), capsys, str(run), "symlink")
    assert precious.read_text() == "keep me\n"
    assert not (run / CHECKPOINT).exists()


def test_a_lock_that_is_a_folder_is_one_line(tmp_path, train_args, capsys):
    run = tmp_path / "run"
    (run / fileio.LOCK_NAME).mkdir(parents=True)
    cli_fails(train_args(run), capsys, fileio.LOCK_NAME, "is a folder")


def test_the_recheck_after_taking_the_lock_decides(tmp_path, train_args, capsys, monkeypatch):
    """Two --resume runs of one folder: the second prepared while the run was unfinished, and the first
    finished it before the second took the lock. The second must find the run finished, rewrite nothing."""
    from pokernet.train import engine

    run = tmp_path / "run"
    assert run_cli(train_args(run, "--stop-after", "1"), capsys)[0] == 0
    claim, after_the_other = engine.claim_folder, {}

    def the_other_finishes_first(folder, option):
        monkeypatch.setattr(engine, "claim_folder", claim)
        assert run_cli(train_args(run, "--resume"), capsys)[0] == 0  # the other process, meanwhile
        after_the_other.update({name: (run / name).stat().st_mtime_ns for name in (CHECKPOINT, METRICS)})
        return claim(folder, option)

    monkeypatch.setattr(engine, "claim_folder", the_other_finishes_first)
    code, out, err = run_cli(train_args(run, "--resume"), capsys)
    assert code == 0, err
    assert "already finished" in out
    assert {name: (run / name).stat().st_mtime_ns for name in (CHECKPOINT, METRICS)} == after_the_other


@pytest.fixture
def immutable():
    """chattr +i a file (root writes through a 0444 file, not through +i); undone after the test."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available here")
        made.append(path)
        return path

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.mark.parametrize("name", [CHECKPOINT, "train.log"])
@pytest.mark.parametrize("oddity", ["immutable", "a folder"])
def test_an_unwritable_file_in_a_run_folder_is_one_line_before_the_epoch(
    tmp_path, train_args, capsys, immutable, name, oddity
):
    """A run folder whose checkpoint.pt or train.log cannot be written (chattr +i, or a folder in its
    place): one line naming it, before an epoch trains; an immutable checkpoint is tried on --resume."""
    run, extra = tmp_path / "run", ["--epochs", "2"]
    if oddity == "immutable" and name == CHECKPOINT:
        assert run_cli(train_args(run, *extra, "--stop-after", "1"), capsys)[0] == 0
        extra.append("--resume")
    run.mkdir(exist_ok=True)
    if oddity == "a folder":
        (run / name).mkdir()
    else:
        immutable(_write_file(run / name))
    out, _ = cli_fails(train_args(run, *extra), capsys, str(run), name)
    assert not (run / METRICS).exists() and "epoch 2/" not in out, out


def _write_file(path: Path) -> Path:
    if not path.exists():
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize("failing_write, left", [(1, set()), (2, {CHECKPOINT})])
def test_a_full_disk_during_training_is_one_line_and_resumable(
    tmp_path, train_args, capsys, monkeypatch, failing_write, left
):
    """ENOSPC (simulated in the one writer: no small tmpfs without root) on the checkpoint, or on
    metrics.json after the checkpoint fitted: one line, no temporary file, and --resume finishes."""
    import errno

    fsync, calls = os.fsync, []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == failing_write:
            raise OSError(errno.ENOSPC, "No space left on device")
        return fsync(fd)

    monkeypatch.setattr("pokernet.fileio.os.fsync", full_disk)
    run = tmp_path / "run"
    cli_fails(train_args(run, "--epochs", "1"), capsys, "No space left on device")
    assert {p.name for p in run.iterdir()} - {"train.log"} == left  # nothing half-written, no .tmp
    monkeypatch.setattr("pokernet.fileio.os.fsync", fsync)
    code, _, err = run_cli(train_args(run, "--epochs", "1", "--resume"), capsys)
    assert code == 0 and (run / METRICS).is_file(), err


def test_a_tampered_epoch_is_refused_on_resume_naming_the_checkpoint(tmp_path, train_args, capsys):
    run = tmp_path / "run"
    assert run_cli(train_args(run, "--epochs", "2", "--stop-after", "1"), capsys)[0] == 0
    checkpoint = torch.load(run / CHECKPOINT, weights_only=True)
    torch.save({**checkpoint, "epoch": -3}, run / CHECKPOINT)
    cli_fails(train_args(run, "--epochs", "2", "--resume"), capsys, str(run / CHECKPOINT), "epoch")
    assert not (run / METRICS).exists()
