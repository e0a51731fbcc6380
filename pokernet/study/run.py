"""The key CIFAR-10 study in one process on one GPU: every arm x seed, trained by the fused
trainer in the engine's run lifecycle (``engine.train_epochs``: history, evaluation after the last
epoch, each run's checkpoint.pt every epoch, ``--resume``), written as the workflow's runs.

:class:`Study` is the fused stepper, and holds what is GPU-specific: the data on the device, one
:class:`~pokernet.train.fused.FusedRuns` per arm (its seeds fused), each step captured as a CUDA
graph and replayed on the arm's own stream so the arms' kernels run concurrently, the measured
rate and the epochs sized from it. The batches of the N seeds are made once per step (seed s of
every arm sees the images and augmentation ``pokernet train --seed s`` would). The host waits
for the GPU at each epoch's end only (its sums, its checkpoints).

The epochs are sized before training from the measured rate and the wall-clock budget, the same
for every run (the LR milestones scale with them). Should training still overrun the hard
deadline, it stops, and the runs are written as ``partial.json`` (never ``metrics.json``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pokernet.fileio import write_all
from pokernet.models.variant import Variant
from pokernet.provenance import git_commit, versions
from pokernet.train import checkpoint as ckpt
from pokernet.train import continuity
from pokernet.train.core import EpochPlan, build_model, lr_at, metrics_record, plan_epoch, run_config, train_subset
from pokernet.train.data import MemorySplit, eval_batch, load_data
from pokernet.train.distributed import device_name
from pokernet.train.engine import METRICS_NAME, EpochResult, Lifecycle, new_totals, train_epochs
from pokernet.train.engine import write_json as write_metrics
from pokernet.train.fused import FusedRuns, seeds_batch
from pokernet.train.recipe import config_hash, load_recipe, resolve_recipe
from pokernet.train.rng import rng_state, set_rng_state
from pokernet.train.runlog import close_log, console_log, open_log

from .arms import STUDY_ARMS
from .schedule import Budget

DEFAULT_SAFETY_MARGIN = 0.25  # for a recipe without study fields (dry runs)
log = console_log("pokernet.study").info


class NotStarted(ValueError):
    """The budget rule: training would not end within the budget, so it does not start."""


TRAINER = "pokernet.train.fused (seeds fused with torch.func.vmap, one CUDA graph per arm)"


@dataclass
class StudyConfig:
    data_root: Path  # an ImageFolder copy of CIFAR-10 (train/, test/)
    out_dir: Path  # receives runs/<variant>/seed<s>/metrics.json and study.json
    seeds: list[int]
    arms: tuple[Variant, ...] = STUDY_ARMS
    recipe: str = "cifar10_gpu"
    budget_s: float = 420.0  # wall clock from start to the end of evaluation, used to size epochs
    deadline_s: float | None = None  # hard stop of training (default: budget + 15%)
    epochs: int | None = None  # fixed epochs instead of sizing them (at most the recipe's)
    subset: int | None = None  # train images per class (dry runs)
    val_limit: int | None = None  # first N test images (dry runs only: results then are not the test split)
    max_steps: int | None = None  # steps per epoch (dry runs only)
    device: str = "cuda"
    graphs: bool = True
    cudnn_benchmark: bool = True
    calibration_steps: int = 15
    threads: int | None = None  # torch CPU threads (default: torch's)
    resume: bool = False  # continue the runs' checkpoints under out_dir (their epochs, not re-sized)


@dataclass
class Timer:
    start: float = field(default_factory=time.perf_counter)
    marks: dict[str, float] = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def mark(self, name: str) -> None:
        self.marks[name] = round(self.elapsed(), 2)


# --------------------------------------------------------------------------- data


def load_cifar10(
    config: StudyConfig, resize: int | None
) -> tuple[MemorySplit, MemorySplit, list[str], list[torch.Tensor]]:
    """The train images of every seed (with ``subset``: the union of the seeds' subsets, each
    drawn by its seed as ``pokernet train --subset`` draws it), the test split, the classes, and
    per seed the positions of its train set among the images held (``train.data.load_data``)."""
    data = load_data("cifar10", config.data_root, resize=resize)
    train, val = data.train, data.val
    if config.subset is not None:
        subsets = [train_subset(train.labels, config.subset, seed) for seed in config.seeds]
        keep = torch.cat(subsets).unique()
        train = MemorySplit(train.images[keep], train.labels[keep])
        pools = [torch.searchsorted(keep, subset) for subset in subsets]
    else:
        pools = [torch.arange(len(train))] * len(config.seeds)
    if config.val_limit:
        val = MemorySplit(val.images[: config.val_limit], val.labels[: config.val_limit])
    return train, val, data.classes, pools


# --------------------------------------------------------------------------- arms


@dataclass
class ArmRuns:
    """One arm: its resolved recipe, its fused members, its stream and static inputs."""

    arm: Variant
    recipe: dict[str, Any]
    options: dict[str, Any]
    fused: FusedRuns
    stream: Any = None
    static_x: torch.Tensor | None = None
    static_y: torch.Tensor | None = None
    lr: float | None = None  # the value last set

    def run_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if self.fused.graph is None:
            self.fused.step(x, y)
            return
        self.static_x.copy_(x)
        self.static_y.copy_(y)
        self.fused.replay()


@dataclass
class Member:
    """One run of the study (an arm's seed): its folder and record, as ``pokernet train`` keeps a run's."""

    arm: ArmRuns
    index: int  # among the arm's fused members
    seed: int
    out_dir: Path
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=new_totals)

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / ckpt.CHECKPOINT_NAME


def build_arm(
    arm: Variant, recipe: dict[str, Any], seeds: list[int], num_classes: int, device: torch.device
) -> ArmRuns:
    """The members as ``pokernet train`` builds them (core.build_model)."""
    models, options = [], {}
    for seed in seeds:
        model, options = build_model(arm.model, arm.options, num_classes, recipe["dropout"], seed)
        models.append(model.to(device))
    return ArmRuns(arm, recipe, options, FusedRuns.for_recipe(models, recipe))


# --------------------------------------------------------------------------- the study


class Study:
    """Data on the device, every arm built (and captured), then sized, trained, evaluated."""

    def __init__(self, config: StudyConfig, data: tuple[MemorySplit, MemorySplit, list[str]] | None = None):
        """``data``: (train, test, classes) already decoded at the recipe's size (benchmarks; every
        seed trains on the whole of train)."""
        self.config, self.timer = config, Timer()
        self.device = torch.device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.cuda = self.device.type == "cuda"
        if self.cuda:
            torch.backends.cudnn.benchmark = config.cudnn_benchmark
        base = load_recipe(config.recipe)
        self.data_cfg = base["data"]
        self.data = data or load_cifar10(config, self.data_cfg["resize"])
        train, val, self.classes, *pools = self.data
        self.pools = pools[0] if pools else [torch.arange(len(train))] * len(config.seeds)
        self.train_size, self.val_size = len(self.pools[0]), len(val)
        self.image_hw = tuple(train.images.shape[-2:])
        self.train_split = MemorySplit(train.images.to(self.device), train.labels.to(self.device))
        self.val_split = MemorySplit(val.images.to(self.device), val.labels.to(self.device))
        self.timer.mark("data_loaded")
        log(
            f"data: {self.train_size} train images per seed ({len(train)} held) / {self.val_size} test images "
            f"at {self.image_hw}, "
            f"on {self.device} ({self.timer.marks['data_loaded']:.1f} s)"
        )
        self.batch = base["batch_size"]
        self.steps_done = 0  # optimizer steps of the last epoch trained
        self.base_recipe = base
        self.arms = [
            build_arm(arm, resolve_recipe(base, arm.model), config.seeds, len(self.classes), self.device)
            for arm in config.arms
        ]
        self.timer.mark("arms_built")

    # ----------------------------------------------------------- per step

    def steps_per_epoch(self) -> int:
        steps = max(1, self.train_size // self.batch)
        return min(steps, self.config.max_steps) if self.config.max_steps else steps

    def plan(self, epoch: int) -> EpochPlan:
        return plan_epoch(self.config.seeds, epoch, self.pools, self.batch, self.image_hw, self.data_cfg).to(
            self.device
        )

    def one_step(self, plan: EpochPlan, step: int) -> None:
        """Step ``step`` of every arm: the seeds' batch made once, each arm on its stream."""
        x, y = seeds_batch(self.train_split.images, self.train_split.labels, plan, step, self.data_cfg)
        if not self.cuda:
            for arm in self.arms:
                arm.run_step(x, y)
            return
        main = torch.cuda.current_stream()
        for arm in self.arms:
            arm.stream.wait_stream(main)
            with torch.cuda.stream(arm.stream):
                arm.run_step(x, y)
            x.record_stream(arm.stream)
            y.record_stream(arm.stream)

    def set_lr(self, step: int) -> None:
        """Each arm's LR for global step ``step`` (a kernel on its stream only when it changes)."""
        for arm in self.arms:
            value = lr_at(arm.recipe, step, self.steps_per_epoch())
            if value == arm.lr:
                continue
            arm.lr = value
            if self.cuda:
                with torch.cuda.stream(arm.stream):
                    arm.fused.set_lr(value)
            else:
                arm.fused.set_lr(value)

    def sync(self) -> None:
        if self.cuda:
            for arm in self.arms:
                arm.stream.synchronize()
            torch.cuda.synchronize()

    # ----------------------------------------------------------- set-up, sizing

    def capture(self) -> None:
        """One stream per arm and, with graphs, one captured step per arm (state unchanged)."""
        if not self.cuda:
            return
        shape = (len(self.config.seeds), self.batch, 3, *self.image_hw)
        for arm in self.arms:
            arm.stream = torch.cuda.Stream()
            if self.config.graphs:
                arm.static_x = torch.zeros(shape, device=self.device)
                arm.static_y = torch.zeros(shape[:2], dtype=torch.long, device=self.device)
                arm.fused.capture(arm.static_x, arm.static_y)
                log(f"captured {arm.arm.name} ({self.timer.elapsed():.1f} s)")
        self.sync()
        self.timer.mark("captured")

    def measure(self, steps: int) -> float:
        """Seconds per step of all arms together (training state restored afterwards)."""
        saved = [arm.fused.snapshot() for arm in self.arms]
        plan = self.plan(0)
        steps = min(steps, plan.steps)
        if steps > 1:
            self.one_step(plan, 0)  # warm-up (eager arms: cuDNN autotuning)
            self.sync()
        start = time.perf_counter()
        for step in range(steps > 1, steps):
            self.one_step(plan, step)
        self.sync()
        seconds = (time.perf_counter() - start) / max(1, steps - 1)
        for arm, snapshot in zip(self.arms, saved):
            arm.fused.restore(snapshot)
        self.sync()
        self.timer.mark("measured")
        return seconds

    def epoch_budget(self, step_seconds: float) -> Budget:
        """The budget rule (``schedule.Budget``) for what is left of the wall-clock budget: the
        measured rate of all arms together, the recipe's safety margin, evaluation as fixed cost."""
        images_per_step = len(self.arms) * len(self.config.seeds) * self.batch
        margin = self.base_recipe.get("study", {}).get("safety_margin", DEFAULT_SAFETY_MARGIN)
        eval_seconds = step_seconds * self.val_size / self.batch / 2 + 10
        return Budget(self.config.budget_s - self.timer.elapsed(), images_per_step / step_seconds, margin, eval_seconds)

    def size_epochs(self, step_seconds: float) -> tuple[int, float]:
        """The epochs to train, decided before training: ``--epochs`` (at most the recipe's) if
        they fit the budget, else the most that fit; NotStarted when they (or one epoch) do not.
        Returns the epochs and their estimated seconds (training + evaluation, margin included)."""
        recipe_epochs = self.base_recipe["epochs"]
        budget = self.epoch_budget(step_seconds)
        runs = len(self.arms) * len(self.config.seeds)
        epoch_images = self.steps_per_epoch() * self.batch
        wanted = min(self.config.epochs, recipe_epochs) if self.config.epochs else None
        epochs = wanted or min(recipe_epochs, budget.most_runs(epoch_images * runs))
        need = budget.seconds(runs, max(1, epochs) * epoch_images)
        if epochs < 1 or need > budget.budget_s:
            raise NotStarted(
                f"{max(1, epochs)} epoch(s) of {runs} runs need ~{need:.0f} s (measured "
                f"{budget.img_per_s:,.0f} img/s, + {budget.margin:.0%} margin, + {budget.fixed_s:.0f} s "
                f"evaluation); {budget.budget_s:.0f} s of the {self.config.budget_s:.0f} s budget "
                f"are left: not started"
            )
        return epochs, need

    # ----------------------------------------------------------- training, evaluation

    def train_epoch(self, epoch: int) -> EpochResult:
        """One epoch of every arm (the stepper of the engine's loop): per run, its loss and correct sums."""
        start, steps = time.perf_counter(), self.steps_per_epoch()
        plan = self.plan(epoch)
        for step in range(steps):
            self.set_lr(epoch * steps + step)
            self.one_step(plan, step)
        self.sync()
        self.steps_done = (epoch + 1) * steps
        seconds = time.perf_counter() - start
        sums = [zip(*arm.fused.take_epoch_sums()) for arm in self.arms]
        return EpochResult([(loss, correct, steps * self.batch) for arm in sums for loss, correct in arm], seconds)

    def lr(self, member: int) -> float:
        """The run's LR after the last epoch trained (``lr_at``, as the engine logs it)."""
        return lr_at(self.arms[member // len(self.config.seeds)].recipe, self.steps_done, self.steps_per_epoch())

    def evaluate(self) -> list[dict[str, float]]:
        """Every arm's members on the test split (one center crop: the whole 64x64 image)."""
        if self.cuda:
            torch.backends.cudnn.benchmark = False  # one pass: no autotuning of new shapes
        results = []
        for arm in self.arms:
            batches = (
                (eval_batch(self.val_split.images[i : i + 500], self.data_cfg), self.val_split.labels[i : i + 500])
                for i in range(0, self.val_size, 500)
            )
            results += arm.fused.evaluate(batches)
        return results


# --------------------------------------------------------------------------- the runs' lifecycle


def write_summary(path: Path, content: dict[str, Any]) -> None:
    """study.json (a window's or a block's summary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_all({path: json.dumps(content, indent=2) + "\n"})


def execute(config: StudyConfig, data: tuple[MemorySplit, MemorySplit, list[str]] | None = None) -> dict[str, Any]:
    """The whole study; writes runs/<variant>/seed<s>/checkpoint.pt (every epoch) and metrics.json (or
    partial.json) and study.json under ``config.out_dir``. study.json is written whatever happens, with
    the error if any. ``data``: as for :class:`Study`. Raises NotStarted, before training, if it cannot
    end in time. With ``config.resume``, the runs continue from their checkpoints (not re-sized)."""
    out = Path(config.out_dir)
    summary: dict[str, Any] = {
        "status": "started",
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(config).items() if k != "arms"},
        "arms": [arm.name for arm in config.arms],
        "versions": {**versions(), "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()},
    }
    try:
        study = Study(config, data)
        summary.update(
            device=device_name(study.device),
            train_size=study.train_size,
            val_size=study.val_size,
            resolution=study.data_cfg["resolution"],
            batch_per_seed=study.batch,
            steps_per_epoch=study.steps_per_epoch(),
        )
        checkpoints = resumable(config, study)
        if checkpoints:
            study.capture()
            epochs = checkpoints[0]["config"]["recipe"]["epochs"]
        else:
            epochs = measure_and_size_epochs(study, summary)
        train_evaluate_and_write(study, epochs, checkpoints, summary)
    except BaseException as error:
        not_started = isinstance(error, NotStarted)
        summary.update(status="not_started" if not_started else "failed", error=f"{type(error).__name__}: {error}")
        log(f"not started: {error}" if not_started else f"FAILED: {type(error).__name__}: {error}")
        raise
    finally:
        write_summary(out / "study.json", summary)
    return summary


def resumable(config: StudyConfig, study: Study) -> list[dict[str, Any]]:
    """The runs' checkpoints to continue (``--resume``), in member order; none for a fresh study.
    A checkpoint without --resume, or of another configuration or code, is refused."""
    paths = [
        Path(config.out_dir) / "runs" / arm.name / f"seed{seed}" / ckpt.CHECKPOINT_NAME
        for arm in config.arms
        for seed in config.seeds
    ]
    found = [path for path in paths if path.exists()]
    if found and not config.resume:
        raise ValueError(f"{found[0]} exists: pass --resume to continue the study's runs, or choose another --out")
    if not found:
        return []
    if len(found) < len(paths):
        raise ValueError(f"--resume: {paths[0].parent.parent.parent} lacks {next(p for p in paths if p not in found)}")
    checkpoints = [ckpt.load_checkpoint(path) for path in paths]
    if len({checkpoint["epoch"] for checkpoint in checkpoints}) > 1:
        raise ValueError(f"--resume: the runs under {config.out_dir} end at different epochs; they train together")
    return checkpoints


def measure_and_size_epochs(study: Study, summary: dict[str, Any]) -> int:
    """Capture the step, time it, and size the epochs to the budget; returns the epochs."""
    config = study.config
    study.capture()
    step_seconds = study.measure(config.calibration_steps)
    images_per_step = len(study.arms) * len(config.seeds) * study.batch
    summary["measured_img_per_s"] = images_per_step / step_seconds
    epochs, estimate_s = study.size_epochs(step_seconds)
    if study.base_recipe.get("eval_every", epochs) < epochs:
        raise ValueError(
            f"recipe {config.recipe}: eval_every {study.base_recipe['eval_every']} < {epochs} "
            f"epochs, but the study evaluates after the last epoch only"
        )
    log(
        f"measured {step_seconds * 1000:.1f} ms per step of {len(study.arms)} arms x {len(config.seeds)} "
        f"seeds x {study.batch} images = {images_per_step / step_seconds:,.0f} img/s; "
        f"{epochs} epochs fit the {config.budget_s:.0f} s budget (estimated {estimate_s:.0f} s of "
        f"{config.budget_s - study.timer.elapsed():.0f} s left, margin included): training them"
    )
    return epochs


def study_members(study: Study, epochs: int, checkpoints: list[dict[str, Any]]) -> list[Member]:
    """Every arm x seed as a run of ``epochs`` (the config ``pokernet train --recipe RECIPE --epochs
    EPOCHS --seed S`` would have), restored from its checkpoint when resuming."""
    config, members = study.config, []
    for arm in study.arms:
        arm.recipe = resolve_recipe(study.base_recipe, arm.arm.model, epochs)
        for index, seed in enumerate(config.seeds):
            run = run_config(arm.arm.model, arm.options, arm.recipe, "cifar10", config.subset, seed)
            folder = Path(config.out_dir) / "runs" / arm.arm.name / f"seed{seed}"
            members.append(Member(arm, index, seed, folder, run))
    for member, checkpoint in zip(members, checkpoints):
        ckpt.check_same_config(checkpoint, member.checkpoint_path, member.config, config_hash(member.config))
        continuity.check_code(checkpoint, member.checkpoint_path, git_commit(), "stop")
        member.arm.fused.load_member(member.index, checkpoint["model_state"], checkpoint["optimizer_state"])
        member.history, member.totals = checkpoint["history"], checkpoint["totals"]
    if checkpoints:
        set_rng_state(checkpoints[0]["rng_states"][0])
    return members


def save_members(study: Study, members: list[Member], epoch: int) -> None:
    """Each run's checkpoint.pt, as ``pokernet train`` writes one (the fused optimizer's state)."""
    state, commit, code = rng_state(), git_commit(), continuity.training_code()
    for member in members:
        fused, index = member.arm.fused, member.index
        member.out_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = ckpt.new_checkpoint(
            model=member.arm.arm.model,
            model_options=member.arm.options,
            classes=list(study.classes),
            config=member.config,
            config_hash=config_hash(member.config),
            epoch=epoch,
            model_state=fused.member_state_dict(index),
            optimizer_state=fused.member_optimizer_state(index),
            scheduler_state={"steps": study.steps_done, "steps_per_epoch": study.steps_per_epoch()},
            rng_states=[state],
            history=list(member.history),
            totals=dict(member.totals),
            git_commit=commit,
            training_code=code,
        )
        ckpt.save_checkpoint(member.checkpoint_path, checkpoint)


def train_evaluate_and_write(
    study: Study, epochs: int, checkpoints: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    """Train every arm for ``epochs`` (or until the deadline) in the engine's loop, and write the runs."""
    config = study.config
    members = study_members(study, epochs, checkpoints)
    first = checkpoints[0]["epoch"] if checkpoints else 0
    deadline = config.deadline_s or config.budget_s * 1.15
    summary.update(epochs_planned=epochs, status="training", resumed_at_epoch=first)
    Path(config.out_dir).mkdir(parents=True, exist_ok=True)
    run_log = open_log(Path(config.out_dir), True)
    try:
        life = Lifecycle(
            study,
            members,
            epochs,
            epochs,  # evaluated after the last epoch only (measure_and_size_epochs checks the recipe)
            run_log,
            save=lambda epoch: save_members(study, members, epoch),
            should_stop=lambda epoch: study.timer.elapsed() > deadline,
            session_start=study.timer.start,
            epoch_record=lambda: continuity.epoch_record(git_commit()),
        )
        done = train_epochs(life, first, epochs)
    finally:
        close_log(run_log)
    study.timer.mark("trained")
    if done < epochs:
        log(f"hard deadline ({deadline:.0f} s) passed after epoch {done} of {epochs}: stopped")
        for member, val in zip(members, study.evaluate()):
            member.history[-1].update(val_loss=val["loss"], val_top1=val["top1"], val_top5=val["top5"])
    train_seconds = sum(life.epoch_seconds)
    images = (done - first) * study.steps_per_epoch() * study.batch * len(members)
    summary.update(epochs_done=done, train_seconds=train_seconds, train_img_per_s=images / max(train_seconds, 1e-9))
    written = write_runs(study, members, epochs, done)
    summary.update(
        status="complete" if done == epochs else "incomplete",
        runs=written,
        timings=study.timer.marks,
        wall_time_s=study.timer.elapsed(),
    )
    log(f"wrote {len(written)} runs under {config.out_dir}/runs ({study.timer.elapsed():.0f} s in all)")


def write_runs(study: Study, members: list[Member], epochs: int, done: int) -> list[str]:
    """Each run's metrics.json (core.metrics_record, as ``pokernet train`` writes it), or partial.json."""
    config, written = study.config, []
    name = METRICS_NAME if done == epochs else "partial.json"
    for member in members:
        metrics = metrics_record(
            member.config,
            member.history,
            len(study.classes),
            data_source=str(config.data_root),
            train_size=study.train_size,
            val_size=study.val_size,
            wall_time_s=member.totals["wall_seconds"],
            train_img_per_s=member.totals["train_images"] / member.totals["train_seconds"],
            device=device_name(study.device),
            num_threads=torch.get_num_threads(),
            world_size=1,
            amp_bf16=False,
            channels_last=False,
            trainer=TRAINER,
            fused_seeds=list(config.seeds),
            study_arms=len(study.arms),
            dry_run_limits={"val_limit": config.val_limit, "max_steps": config.max_steps},
        )
        if done != epochs:
            metrics["epochs_done"] = done
        path = member.out_dir / name
        write_metrics(path, metrics)
        written.append(str(path.relative_to(config.out_dir)))
        last = member.history[-1]
        log(
            f"{member.arm.arm.name} seed {member.seed}: top-1 {last['val_top1']:.2f}% "
            f"top-5 {last['val_top5']:.2f}% ({name})"
        )
    return written
