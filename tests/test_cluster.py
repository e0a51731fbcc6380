"""A cluster user runs the ImageNet profile without editing code (issue 20): the device contract,
threads and GPUs in the plan, several nodes through the command the workflow runs, and config
overlays that merge as written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from conftest import cli_fails

from pokernet.schemas.overlays import layered_config, typed_cli_values

ROOT = Path(__file__).resolve().parents[1]


def snakemake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


# --- the device contract -----------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with CUDA has the GPUs this test says it lacks")
def test_a_job_that_asks_for_gpus_stops_in_seconds_with_one_line(tmp_path, capsys, train_args):
    start = time.perf_counter()
    _, err = cli_fails(
        train_args(tmp_path / "run", "--device", "cuda", "--procs-per-node", "8"), capsys, "--device cuda:"
    )
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "run").exists()  # nothing written


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_full_size_imagenet_trains_on_the_cpu_only_when_asked(tmp_path, capsys, train_args):
    argv = train_args(tmp_path / "run")
    del argv[argv.index("--subset") : argv.index("--subset") + 2]
    cli_fails(argv, capsys, "full-size ImageNet run and no GPU", "--device cpu")


def test_a_workflow_job_asking_for_gpus_gets_the_check(tmp_path):
    """The imagenet profile's train jobs pass --device cuda and one process per GPU, and the
    plan shows the threads (the node's cores) and GPUs each job gets."""
    result = snakemake(
        "-n",
        "-p",
        "--profile",
        "workflow/profiles/imagenet",
        "--forceall",
        "work/imagenet/runs/pokernet_050/seed0/metrics.json",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--threads 32 --device cuda --procs-per-node 8" in result.stdout
    assert "gpus_held=8" in result.stdout and "gres=gpu:8" in result.stdout


def test_the_slurm_dry_run_shows_the_real_threads_and_per_node_resources():
    result = snakemake(
        "-n", "-p", "--profile", "workflow/profiles/slurm", "--forceall",
        "work/imagenet/runs/pokernet_050/seed0/metrics.json", "--config", "train_nodes=2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--threads 32 --device cuda --procs-per-node 8 --nodes 2" in result.stdout
    for resource in ("mpi=srun", "tasks=2", "nodes=2", "gres=gpu:8", "cpus_per_task=32", "mem_mb=256000"):
        assert resource in result.stdout, resource
    assert "srun --ntasks 2 --cpus-per-task 32" in result.stdout  # the job's one step: a task per node


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("train_accumulate=3", "global batch 1024 does not divide over 8 processes (train_nodes x train_gpus) x 3"),
        ("train_gpus=16", "16 GPUs per node, a node has 8 (slurm.node_gpus)"),
        ("slurm={train_mem_mb: 2000000}", "2000000 MB per node, a node has 1000000 MB (slurm.node_mem_mb)"),
    ],
)
def test_the_plan_refuses_what_every_job_would(setting, message):
    result = snakemake("-n", "--profile", "workflow/profiles/slurm", "tables", "--config", setting)
    assert result.returncode != 0 and message in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]


def test_the_cost_command_prints_the_plans_gpu_hours(capsys):
    from tests.conftest import run_cli

    code, out, _ = run_cli(["cluster", "cost", "--runs", "19", "--epochs", "300", "--data", "imagenet"], capsys)
    assert code == 0
    assert "19 runs x 300 epochs x 1,281,167 images" in out and "655-874 GPU-hours (34.5-46.0 per run)" in out
    assert "NVIDIA H200" in out and "loader ceiling: not measured" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "pokernet", *argv]


def test_two_nodes_of_one_rank_equal_one_node_of_two(tmp_path, train_args):
    """The workflow's path: the same `pokernet train` once per node (srun would start them), each
    relaunching itself under torchrun, meeting at the rendezvous; the run equals one node's."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    one_node = train_args(tmp_path / "one", "--device", "cpu", "--procs-per-node", "2")
    subprocess.run(_cli(one_node), env=env, check=True, capture_output=True, timeout=240)
    endpoint = f"127.0.0.1:{_free_port()}"
    two_nodes = train_args(tmp_path / "two", "--device", "cpu", "--nodes", "2", "--rdzv-endpoint", endpoint)
    nodes = [
        subprocess.Popen(_cli(two_nodes), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)
    ]
    for node in nodes:
        output, _ = node.communicate(timeout=240)
        assert node.returncode == 0, output.decode()[-2000:]
    first, second = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("one", "two"))
    assert first["world_size"] == second["world_size"] == 2
    assert (first["top1"], first["top5"]) == (second["top1"], second["top5"])
    timing = ("img_per_s",)
    assert [{k: v for k, v in epoch.items() if k not in timing} for epoch in first["history"]] == [
        {k: v for k, v in epoch.items() if k not in timing} for epoch in second["history"]
    ]
    weights = [
        torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["model_state"] for name in ("one", "two")
    ]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_several_nodes_need_the_rendezvous(tmp_path, capsys, train_args):
    cli_fails(train_args(tmp_path / "run", "--device", "cpu", "--nodes", "2"), capsys, "--rdzv-endpoint")


# --- config overlays ----------------------------------------------------------------------


def test_a_user_configfile_goes_over_the_profiles_overlay(tmp_path):
    mine = tmp_path / "my.yaml"
    mine.write_text("dataset: {root: /scratch/imagenet}\n")
    merged = layered_config(
        ROOT / "workflow/config/default.yaml", [mine], {"profile_name": "imagenet"}, ROOT / "workflow/config"
    )
    assert merged["dataset"] == {"name": "imagenet", "root": "/scratch/imagenet", "subset_per_class": None}
    assert merged["work_dir"] == "work/imagenet" and merged["train_gpus"] == 8


def test_the_profile_overlay_is_not_laid_twice(tmp_path):
    merged = layered_config(
        ROOT / "workflow/config/default.yaml",
        [ROOT / "workflow/config/smoke.yaml"],
        {"profile_name": "smoke", "epochs": 3},
        ROOT / "workflow/config",
    )
    assert merged["epochs"] == 3 and merged["profile_name"] == "smoke"


def test_nested_config_values_are_typed():
    assert typed_cli_values({"latency": {"threads": "1", "runtime": "eager"}}) == {
        "latency": {"threads": 1, "runtime": "eager"}
    }
    assert typed_cli_values({"latency": "{threads: 2}"}) == {"latency": {"threads": 2}}
    assert typed_cli_values({"train_amp": "false", "train_workers": "null", "results_dir": "out"}) == {
        "train_amp": False,
        "train_workers": None,
        "results_dir": "out",
    }
    with pytest.raises(ValueError, match="--config latency: not valid YAML"):
        typed_cli_values({"latency": "{threads: [1}"})


def test_the_profile_survives_a_user_configfile_in_a_dry_run(tmp_path):
    mine = tmp_path / "my.yaml"
    mine.write_text(yaml.safe_dump({"dataset": {"root": str(tmp_path)}}))
    result = snakemake("tables", "-n", "--profile", "workflow/profiles/imagenet", "--configfile", str(mine))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "work/imagenet/runs/" in result.stdout and "work/default/" not in result.stdout


def test_nested_config_reaches_the_job_typed():
    result = snakemake(
        "smoke", "-n", "-p", "--profile", "workflow/profiles/smoke", "--forceall", "--config", "latency={threads: 1}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--runtime eager --threads 1" in result.stdout  # the smoke overlay's runtime kept


def test_amp_and_workers_are_config_keys():
    result = snakemake(
        "tables",
        "-n",
        "-p",
        "--profile",
        "workflow/profiles/imagenet",
        "--forceall",
        "--config",
        "train_amp=false",
        "train_workers=6",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--procs-per-node 8" in result.stdout and "--no-amp --workers 6" in result.stdout


# --- the README's site section ------------------------------------------------------------

SITE_FILES = (
    "workflow/config/imagenet.yaml",
    "workflow/profiles/imagenet/config.yaml",
    "workflow/profiles/slurm/config.yaml",
)


def _site_keys(path: str) -> list[str]:
    keys = []
    for line in (ROOT / path).read_text().splitlines():
        code, _, comment = line.partition("#")
        if comment.strip().startswith("SITE") or (not code.strip() and "SITE:" in comment and ":" in comment):
            text = code if code.strip() else comment.split("SITE", 1)[0]
            key = text.strip().split(":", 1)[0].strip()
            if key:
                keys.append(key)
    return keys


def test_the_readme_site_section_lists_every_site_line():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## On a cluster: what a site edits", 1)[1].split("\n## ", 1)[0]
    for path in SITE_FILES:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{path}` |"))
        listed = sorted(key.strip("` ") for key in row.split("|")[2].split(","))
        assert listed == sorted(set(_site_keys(path))), path


def test_accumulation_keeps_the_step_and_splits_the_batch(train_args, tmp_path, capsys, train_keep_threads):
    from tests.conftest import run_cli

    assert run_cli(train_args(tmp_path / "acc", "--device", "cpu", "--accumulate", "3"), capsys)[0] == 0
    log = (tmp_path / "acc" / "train.log").read_text()
    assert "batch 6 (1 x 6 in 3 micro-batches)" in log
    code, _out, err = run_cli(train_args(tmp_path / "bad", "--device", "cpu", "--accumulate", "4"), capsys)
    assert code == 2 and "does not divide over 1 processes x 4 micro-batches" in err


# --- progress survives a `git pull` (issue 27, item 2) -------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def scratch_checkout(tmp_path):
    """A git repository holding a copy of this package and README.md, committed: commit(path, text)
    edits a file and commits it, returning the new short commit."""
    import shutil

    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / "pokernet", repo / "pokernet", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", repo / "README.md")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")

    def commit(path: str, text: str) -> str:
        with open(repo / path, "a") as file:
            file.write(text)
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", f"edit {path}")
        return _git(repo, "rev-parse", "--short", "HEAD")

    commit.repo = repo
    return commit


def _train_in(repo: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "pokernet", *argv],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_readme_only_commit_resumes_an_interrupted_run(tmp_path, train_args, scratch_checkout):
    run = tmp_path / "run"
    first = _train_in(scratch_checkout.repo, train_args(run, "--device", "cpu", "--stop-after", "1"))
    assert first.returncode == 0, first.stderr[-2000:]
    started = _git(scratch_checkout.repo, "rev-parse", "--short", "HEAD")
    pulled = scratch_checkout("README.md", "\nA line a `git pull` brought.\n")
    resumed = _train_in(scratch_checkout.repo, train_args(run, "--device", "cpu", "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["commits"] == [started, pulled] and metrics["git_commit"] == pulled
    assert [row["commit"] for row in metrics["history"]] == [started, pulled]
    assert len({row["training_code"] for row in metrics["history"]}) == 1  # one training code throughout
    assert "resuming" in (run / "train.log").read_text()


def test_a_training_core_commit_stops_an_interrupted_run_with_one_line(tmp_path, train_args, scratch_checkout):
    run = tmp_path / "run"
    assert _train_in(scratch_checkout.repo, train_args(run, "--device", "cpu", "--stop-after", "1")).returncode == 0
    started = _git(scratch_checkout.repo, "rev-parse", "--short", "HEAD")
    changed = scratch_checkout("pokernet/train/loops.py", "\n# a change of the training core\n")
    stopped = _train_in(scratch_checkout.repo, train_args(run, "--device", "cpu", "--resume"))
    assert stopped.returncode == 2 and len(stopped.stderr.strip().splitlines()) == 1, stopped.stderr
    for named in ("pokernet/train/loops.py", f"trained by {started}", f"now {changed}", "--on-code-change"):
        assert named in stopped.stderr, stopped.stderr
    assert not (run / "metrics.json").exists() and torch.load(run / "checkpoint.pt", weights_only=True)["epoch"] == 1
    # an explicit choice: continue, and the epochs record the mix
    mixed = _train_in(
        scratch_checkout.repo, train_args(run, "--device", "cpu", "--resume"), POKERNET_ON_CODE_CHANGE="continue"
    )
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    history = json.loads((run / "metrics.json").read_text())["history"]
    assert [row["commit"] for row in history] == [started, changed]
    assert history[0]["training_code"] != history[1]["training_code"]


def test_restart_on_a_code_change_keeps_the_old_run_under_its_own_commit(tmp_path, train_args, scratch_checkout):
    run = tmp_path / "run"
    assert _train_in(scratch_checkout.repo, train_args(run, "--device", "cpu", "--stop-after", "1")).returncode == 0
    started = _git(scratch_checkout.repo, "rev-parse", "--short", "HEAD")
    scratch_checkout("pokernet/models/__init__.py", "\n# a change of a model\n")
    restarted = _train_in(
        scratch_checkout.repo, train_args(run, "--device", "cpu", "--resume", "--on-code-change", "restart")
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    aside = tmp_path / f"run.replaced-{started}"  # named after the commit that trained it, not the new one
    assert torch.load(aside / "checkpoint.pt", weights_only=True)["epoch"] == 1
    assert json.loads((run / "metrics.json").read_text())["history"][0]["commit"] != started


# --- a time limit or preemption (issue 27 item 6, issue 28) -------------------------------


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGUSR1"])
def test_a_signal_checkpoints_and_exits_for_requeue_then_resumes_bit_identically(tmp_path, train_args, signal_name):
    import signal

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    whole = train_args(tmp_path / "whole", "--device", "cpu", "--epochs", "20")
    subprocess.run(_cli(whole), env=env, check=True, capture_output=True, timeout=240)
    run = tmp_path / "cut"
    job = subprocess.Popen(
        _cli(train_args(run, "--device", "cpu", "--epochs", "20")),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while "epoch 1/20" not in ((run / "train.log").read_text() if (run / "train.log").exists() else ""):
        assert time.monotonic() < deadline and job.poll() is None
        time.sleep(0.01)
    job.send_signal(getattr(signal, signal_name))
    _out, err = job.communicate(timeout=120)
    assert job.returncode == 75, err[-2000:]
    assert err.strip().splitlines() == [line for line in err.strip().splitlines() if signal_name in line], err
    assert "--resume" in err and not (run / ".pokernet.lock").exists() and not (run / "metrics.json").exists()
    stopped_at = torch.load(run / "checkpoint.pt", weights_only=True)["epoch"]
    assert 1 <= stopped_at < 20
    subprocess.run(_cli(train_args(run, "--device", "cpu", "--epochs", "20", "--resume")), env=env, check=True)
    weights = [torch.load(tmp_path / name / "checkpoint.pt", weights_only=True) for name in ("whole", "cut")]
    assert all(
        torch.equal(weights[0]["model_state"][k], weights[1]["model_state"][k]) for k in weights[0]["model_state"]
    )
    assert weights[0]["optimizer_state"]["state"].keys() == weights[1]["optimizer_state"]["state"].keys()


# --- several nodes per run through the SLURM profile (issue 27 items 1 and 4) --------------


def _cluster_up() -> bool:
    try:
        return "idle" in subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False


def _through_slurm(tmp_path: Path, data: Path, recipe: Path, nodes: int) -> tuple[str, Path]:
    """The train job of one run through the slurm-ci profile, partition and account from a
    --configfile overlay; (controller output, metrics.json)."""
    bin_dir = tmp_path / "bin"  # the CI cluster has no accounting database: sacctmgr answers for the account
    bin_dir.mkdir()
    (bin_dir / "sacctmgr").write_text("#!/bin/sh\necho ci_project\n")
    (bin_dir / "sacctmgr").chmod(0o755)
    work = tmp_path / "work"
    site = {
        "work_dir": str(work),
        "results_dir": str(tmp_path / "results"),
        "dataset": {"name": "imagenet", "root": str(data), "subset_per_class": 6},
        "recipe": str(recipe),
        "epochs": 1,
        "train_nodes": nodes,
        "train_device": "cpu",
        "train_threads": 1,
        "slurm": {"partition": "ci", "account": "ci_project"},  # time and memory: the config's (default.yaml)
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    target = work / "runs/pokernet_050/seed0/metrics.json"
    (ROOT / "logs/smoke/train/pokernet_050-seed0.log").unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "workflow/profiles/slurm-ci", "--configfile",
         str(tmp_path / "site.yaml"), "--set-resources", "train:nodes=1", "--verbose", "-p", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output, target


SLURM_UP = pytest.mark.skipif(
    not _cluster_up(), reason="no SLURM cluster up (CI starts one: scripts/slurm_single_node.sh)"
)


@pytest.mark.slow
@SLURM_UP
def test_a_two_task_run_through_the_slurm_profile_with_site_settings_from_configfile(
    tmp_path, train_image_folder, train_tiny_recipe
):
    """Two `pokernet train` tasks (two "nodes" on CI's one node: --set-resources train:nodes=1) in one
    SLURM allocation, as the profile submits them; partition and account come from the --configfile
    overlay, the training job's time and memory stay the config's. The lines it ran are below."""
    output, target = _through_slurm(tmp_path, train_image_folder, train_tiny_recipe, nodes=2)
    sbatch = next(line for line in output.splitlines() if "sbatch call:" in line)
    srun = next(line for line in output.splitlines() if "srun --ntasks 2" in line)
    # sbatch --parsable --job-name ... -A ci_project  -p ci -t 4320 --mem 4000 --nodes=1 --requeue --ntasks=2
    #   --cpus-per-task=1 '--signal=USR1@1200' -D ... --wrap="python -m snakemake ... --executor slurm-jobstep"
    # ${SLURM_JOB_ID:+srun --ntasks 2 --cpus-per-task 1 --kill-on-bad-exit=1 --label} pokernet train
    #   --model pokernet_050 ... --threads 1 --device cpu --nodes 2 --rdzv-endpoint "$(hostname):29500" ...
    for part in ("-A ci_project", "-p ci", "-t 4320", "--mem 4000", "--requeue", "--ntasks=2", "--signal=USR1@1200"):
        assert part in sbatch.replace("'", ""), sbatch
    assert "--nodes 2 --rdzv-endpoint" in srun, srun
    metrics = json.loads(target.read_text())
    assert metrics["world_size"] == 2 and metrics["epochs"] == 1
    log = (ROOT / "logs/smoke/train/pokernet_050-seed0.log").read_text()
    assert "0: done: top-1" in log  # srun --label: each line names its task (rank 0 logs the run)


@pytest.mark.slow
@SLURM_UP
def test_a_one_node_run_through_the_slurm_profile_is_its_jobs_one_step(tmp_path, train_image_folder, train_tiny_recipe):
    """One node: the same path (the plugin runs the shell in the batch step, whose srun is the one
    step that SIGUSR1 reaches), with an empty `mpi` resource."""
    output, target = _through_slurm(tmp_path, train_image_folder, train_tiny_recipe, nodes=1)
    assert any("srun --ntasks 1 --cpus-per-task 1" in line for line in output.splitlines())
    assert json.loads(target.read_text())["world_size"] == 1


def test_cluster_status_reads_each_run_from_its_folder(tmp_path, train_args, capsys, train_keep_threads):
    from tests.conftest import run_cli

    work = tmp_path / "work"
    assert run_cli(train_args(work / "runs/pokernet_050/seed0", "--device", "cpu"), capsys)[0] == 0
    assert run_cli(train_args(work / "runs/pokernet_050/seed1", "--device", "cpu", "--stop-after", "1"), capsys)[0] == 0
    (work / "runs/ghostnet_050/seed0").mkdir(parents=True)
    code, out, _ = run_cli(["cluster", "status", "--work-dir", str(work)], capsys)
    assert code == 0
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if "seed" in line}
    assert "finished" in rows["pokernet_050/seed0"] and "2/2" in rows["pokernet_050/seed0"]
    assert "interrupted" in rows["pokernet_050/seed1"] and "1/2" in rows["pokernet_050/seed1"]
    assert "not started" in rows["ghostnet_050/seed0"]


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants (torchrun starts its ranks in sessions of their own)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, added = [root], True
    while added:
        new = [pid for pid, parent in parents.items() if parent in tree and pid not in tree]
        tree += new
        added = bool(new)
    return tree


def test_slurms_warning_to_every_process_of_a_torchrun_job_stops_it_at_an_epoch(tmp_path, train_args):
    """SLURM signals every process of the step: torchrun's agent ignores SIGUSR1, its ranks agree to
    stop after the same epoch, checkpoint it, and the run resumes from there."""
    import signal

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = tmp_path / "ddp"
    argv = train_args(run, "--device", "cpu", "--procs-per-node", "2", "--epochs", "20")
    job = subprocess.Popen(_cli(argv), env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while "epoch 1/20" not in ((run / "train.log").read_text() if (run / "train.log").exists() else ""):
        assert time.monotonic() < deadline and job.poll() is None
        time.sleep(0.02)
    for pid in _process_tree(job.pid):  # as SLURM signals a step: every process it tracks
        os.kill(pid, signal.SIGUSR1)
    _out, err = job.communicate(timeout=180)
    assert job.returncode != 0 and "stopped by SIGUSR1 after epoch" in err, err[-2000:]
    stopped_at = torch.load(run / "checkpoint.pt", weights_only=True)["epoch"]
    assert 1 <= stopped_at < 20 and not (run / ".pokernet.lock").exists()
    resumed = subprocess.run(_cli([*argv, "--resume"]), env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run / "metrics.json").read_text())["world_size"] == 2
