"""The training engine: one loop for a 2-core CPU, one GPU, or N GPUs under torchrun.

- Multi-GPU is PyTorch's DDP, started by ``torchrun --nproc_per_node N``: the recipe's
  batch is the global batch (each rank takes batch/N), the sampler shards the data, and only
  rank 0 writes files (``distributed.py``).
- A checkpoint is written atomically at the end of every epoch (``checkpoint.py``); ``resume``
  restores model, optimizer, LR schedule, epoch and every rank's RNG states (``rng.py``), so an
  interrupted run ends with the same weights as an uninterrupted one.
- Everything is checked (recipe, model, data, checkpoint) before anything is written.

A run is one ``RunState``: ``_prepare`` checks and builds it, ``_start`` adds the optimizer
and restores a checkpoint, ``_train_epoch`` advances it, ``_finish`` writes metrics.json.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from pokernet import schemas
from pokernet.datasets.imagenet import subset_record
from pokernet.fileio import atomic_write_text, check_replaceable, claim_folder, remove_stale_temporaries, set_aside
from pokernet.provenance import available_cores, git_commit

from . import continuity
from .checkpoint import (
    CHECKPOINT_NAME,
    check_same_config,
    load_checkpoint,
    new_checkpoint,
    save_checkpoint,
)
from .core import build_model, lr_scheduler, make_loss, make_optimizer, metrics_record, run_config, seed_global
from .data import FolderPipeline, MemoryPipeline, build_pipeline, load_data
from .distributed import (
    Ranks,
    backend,
    barrier,
    device_name,
    gather,
    pick_device,
    process_group,
    share_buffers,
    sum_over_ranks,
    wrap_ddp,
)
from .loops import EpochStats, StepSettings, evaluate, train_one_epoch
from .recipe import config_hash
from .rng import rng_state, set_rng_state
from .runlog import close_log, console_log, duration, open_log

METRICS_NAME = "metrics.json"


@dataclass
class TrainConfig:
    model: str
    recipe: dict[str, Any]  # resolved, see recipe.resolve_recipe
    dataset: str
    out_dir: Path
    model_options: dict[str, Any] = field(default_factory=dict)  # as the user gave them
    data_root: str | None = None
    subset: int | None = None
    eval_split: str = "test"  # data.EVAL_SPLITS: the official test split, or "val" (a holdout of train)
    seed: int = 0
    resume: bool = False  # continue from out_dir's checkpoint if there is one (same command to start and requeue)
    # with resume: a checkpoint this code and configuration cannot continue (another config, another commit,
    # a finished run whose metrics.json is gone, an unreadable file) is set aside and the run starts afresh
    restart_stale: bool = False
    on_code_change: str = "stop"  # a checkpoint of other training code: stop, restart or continue (continuity.py)
    stop_after: int | None = None  # stop once this epoch is done (time-limited jobs); resume later
    download: bool = False
    threads: int | None = None  # CPU threads of the job on one node (split among its processes); default: all cores
    workers: int | None = None  # DataLoader workers for data streamed from disk
    device: str = "auto"  # auto, cpu or cuda
    amp: bool = True  # bf16 autocast, on CUDA only
    channels_last: bool = True  # NHWC memory format: faster on CUDA and on AVX-512 CPUs
    accumulate: int = 1  # micro-batches per rank and step (gradient accumulation; the global batch is the recipe's)
    progress: bool | None = None  # progress bar; default: when stdout is a terminal
    protocol: dict[str, Any] | None = None  # the frozen protocol this run confirms (pokernet.protocol.record)


@dataclass
class TrainResult:
    model: nn.Module  # the trained model (not DDP-wrapped)
    metrics: dict[str, Any] | None  # None when the run stopped early (stop_after)
    checkpoint: dict[str, Any]


@dataclass
class RunState:
    """Everything one run holds: set by _prepare (checked inputs) and _start (optimization)."""

    config: TrainConfig
    ranks: Ranks
    device: torch.device
    session_start: float  # perf_counter at the start of this process's session
    amp: bool
    data: Any  # train.data.Data
    pipeline: MemoryPipeline | FolderPipeline
    model: nn.Module  # not DDP-wrapped
    options: dict[str, Any]  # every option the model was built with
    run_config: dict[str, Any]
    run_hash: str
    checkpoint: dict[str, Any] | None  # the one resumed from, then the latest written
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("pokernet.train"))
    net: nn.Module | None = None  # the model as trained (DDP-wrapped under torchrun)
    optimizer: torch.optim.Optimizer | None = None
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    criterion: nn.Module | None = None
    steps: int = 0  # optimizer steps per epoch
    start_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=lambda: new_totals())
    finished: dict[str, Any] | None = None  # metrics.json of a run already finished (--resume: nothing to do)
    commit: str | None = None  # the commit of the code this process runs (recorded in checkpoints and metrics)

    @property
    def channels_last(self) -> bool:
        return self.config.channels_last

    @property
    def out_dir(self) -> Path:
        return Path(self.config.out_dir)


def write_json(path: Path, content: dict[str, Any]) -> None:
    """metrics.json, checked against its contract (pokernet/schemas/metrics.schema.json) first."""
    atomic_write_text(path, schemas.dumps("metrics", content, str(path)))


def train(config: TrainConfig) -> TrainResult:
    """Train (or resume) one run; under torchrun, every rank calls this."""
    ranks = Ranks.from_env()
    device = pick_device(config.device, ranks)
    with process_group(ranks, device), continuity.StopRequests() as stops:
        run = _prepare(config, ranks, device)
        if run.finished is not None:
            return _already_finished(run)
        claim = claim_folder(run.out_dir, "--out") if ranks.is_main else None
        try:
            notes = _recheck_claimed(run)
            if run.finished is not None:
                return _already_finished(run)
            check_replaceable(run.out_dir, (CHECKPOINT_NAME, METRICS_NAME), "--out")
            run.log = open_log(run.out_dir, ranks.is_main)
            try:
                for note in notes:
                    run.log.info(note)
                _start(run)
                epochs = config.recipe["epochs"]
                life = Lifecycle(
                    PlainStepper(run),
                    [run],
                    epochs,
                    config.recipe.get("eval_every", 1),
                    run.log,
                    save=lambda epoch: _save_checkpoint(run, epoch),
                    on_nonfinite=lambda epoch, step, loss: _stop_nonfinite(run, epoch, step, loss),
                    session_start=run.session_start,
                    wall_before=run.totals["wall_seconds"],
                    # noted since the start, asked before each epoch (train/continuity.py)
                    before_epoch=lambda epoch: (
                        stops.stop_now(run.ranks, run.device)
                        and stops.exit_for_requeue(run.out_dir, epoch, epochs, run.log)
                    ),
                    epoch_record=lambda: continuity.epoch_record(run.commit),
                )
                train_epochs(life, run.start_epoch, min(epochs, config.stop_after) if config.stop_after else epochs)
                return _finish(run)
            finally:
                close_log(run.log)
        finally:
            if claim is not None:
                claim.close()


def _already_finished(run: RunState) -> TrainResult:
    console_log("pokernet.train").info(
        f"{run.out_dir} already finished ({METRICS_NAME}); nothing to do, nothing rewritten"
    )
    return TrainResult(run.model, run.finished, run.checkpoint)


def _recheck_claimed(run: RunState) -> list[str]:
    """Now that the folder is ours, look again, and this look decides (another process may have finished,
    advanced or replaced the run since _prepare): the run to continue, or a stale one set aside (rank 0
    decides, every rank follows). Returns the lines to log."""
    notes: list[str] = []
    if run.ranks.is_main:
        run.checkpoint, run.finished, stale = _existing_run(run.config, run.run_config, run.run_hash, run.commit)
        if stale:
            aside = set_aside(run.out_dir, f"replaced-{continuity.trained_by(run.out_dir)}")
            notes.append(
                f"a rerun: the previous run cannot be continued ({stale}); moved it to {aside}, training from scratch"
            )
        removed = remove_stale_temporaries(run.out_dir, (CHECKPOINT_NAME, METRICS_NAME))
        if removed:
            notes.append(
                f"removed {len(removed)} temporary file(s) of an interrupted write: "
                f"{', '.join(p.name for p in removed)}"
            )
    decided = gather((run.checkpoint is None, run.finished) if run.ranks.is_main else None, run.ranks)[0]
    if decided[0]:
        run.checkpoint = None
    run.finished = decided[1]
    return notes


def _existing_run(
    config: TrainConfig, run_config: dict[str, Any], run_hash: str, commit: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(checkpoint to resume, metrics of a finished run, why the folder's run is stale) of the run folder,
    or an error: a run is never overwritten, and --resume continues only the configuration and the code
    that made it. With restart_stale, what --resume would refuse is the third item instead."""
    try:
        return (*_resumable(config, run_config, run_hash, commit), None)
    except continuity.CodeChanged as why:
        if config.on_code_change != "restart":
            raise
        return None, None, str(why)
    except ValueError as why:
        if not config.restart_stale:
            raise
        return None, None, str(why)


def _resumable(
    config: TrainConfig, run_config: dict[str, Any], run_hash: str, commit: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    out_dir = Path(config.out_dir)
    checkpoint_path, metrics_path = out_dir / CHECKPOINT_NAME, out_dir / METRICS_NAME
    if metrics_path.exists():  # finished, even if its checkpoint was deleted
        if not config.resume:
            raise ValueError(
                f"--out {out_dir} already holds a finished run ({METRICS_NAME}); it is never "
                f"overwritten: choose another --out"
            )
        finished = schemas.read(metrics_path, "metrics")
        check_same_config(finished, metrics_path, run_config, run_hash)
        return None, finished
    if checkpoint_path.exists():
        if not config.resume:
            raise ValueError(
                f"{out_dir} already holds a run ({CHECKPOINT_NAME}); pass --resume to "
                f"continue it, or choose another --out"
            )
        checkpoint = load_checkpoint(checkpoint_path)
        check_same_config(checkpoint, checkpoint_path, run_config, run_hash)
        if config.restart_stale and checkpoint["epoch"] >= config.recipe["epochs"]:
            raise ValueError(f"{checkpoint_path} holds a finished run whose {METRICS_NAME} is gone: a forced rerun")
        continuity.check_code(checkpoint, checkpoint_path, commit, config.on_code_change)
        return checkpoint, None
    return None, None  # without a checkpoint, --resume starts the run


def _prepare(config: TrainConfig, ranks: Ranks, device: torch.device) -> RunState:
    """Check everything (recipe, data, model, checkpoint) and build the run; nothing is written."""
    session_start = time.perf_counter()
    recipe = config.recipe
    if recipe["batch_size"] % (ranks.world_size * config.accumulate):
        raise ValueError(
            f"the recipe's global batch {recipe['batch_size']} does not divide over "
            f"{ranks.world_size} processes x {config.accumulate} micro-batches (--accumulate)"
        )
    torch.set_num_threads(max(1, (config.threads or available_cores()) // ranks.local_world_size))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    data_cfg = recipe["data"]
    source = (config.dataset, config.data_root, config.subset, config.download)
    data = load_data(*source, resize=data_cfg["resize"], seed=config.seed, eval_split=config.eval_split)
    _check_subset(config.subset, data)
    # identical initial weights on every rank
    model, options = build_model(config.model, config.model_options, len(data.classes), recipe["dropout"], config.seed)
    config_of_run = run_config(
        config.model, options, recipe, config.dataset, config.subset, config.seed, config.eval_split
    )
    run_hash = config_hash(config_of_run)
    commit = git_commit()
    checkpoint, finished, _stale = _existing_run(config, config_of_run, run_hash, commit)
    per_rank_batch = recipe["batch_size"] // ranks.world_size
    workers = config.workers if config.workers is not None else min(8, available_cores() // ranks.local_world_size)
    pipeline = build_pipeline(
        data, data_cfg, per_rank_batch, ranks.rank, ranks.world_size, config.seed, device, workers
    )
    return RunState(
        config,
        ranks,
        device,
        session_start,
        amp=config.amp and device.type == "cuda",
        data=data,
        pipeline=pipeline,
        model=model,
        options=options,
        run_config=config_of_run,
        run_hash=run_hash,
        checkpoint=checkpoint,
        finished=finished,
        commit=commit,
    )


def _check_subset(subset: int | None, data: Any) -> None:
    """A subset larger than every class would take the whole split and be recorded as a subset."""
    if subset is None or data.train is None or not hasattr(data.train, "labels"):
        return
    largest = int(torch.bincount(data.train.labels).max()) if len(data.train) else 0
    if subset > largest:
        raise ValueError(
            f"--subset {subset} is more than the train split holds of any class (at most "
            f"{largest} per class); give --subset {largest} or less, or leave it out for all"
        )


def _start(run: RunState) -> None:
    """Optimizer, LR schedule and loss; the resumed state or fresh per-rank random streams."""
    recipe = run.config.recipe
    run.model.to(run.device)
    if run.channels_last:
        run.model.to(memory_format=torch.channels_last)
    run.optimizer = make_optimizer(recipe, run.model.parameters())
    run.steps = run.pipeline.steps_per_epoch()
    run.scheduler = lr_scheduler(run.optimizer, recipe, run.steps)
    run.criterion = make_loss(recipe)
    if run.checkpoint is not None:
        _restore(run, run.checkpoint)
    else:
        seed_global("dropout", run.config.seed, run.ranks.rank)
    run.net = wrap_ddp(run.model, run.device, run.ranks)
    run.log.info(_start_line(run))


def _restore(run: RunState, checkpoint: dict[str, Any]) -> None:
    run.model.load_state_dict(checkpoint["model_state"])
    run.optimizer.load_state_dict(checkpoint["optimizer_state"])
    run.scheduler.load_state_dict(checkpoint["scheduler_state"])
    run.start_epoch, run.history, run.totals = checkpoint["epoch"], checkpoint["history"], checkpoint["totals"]
    states = checkpoint["rng_states"]
    if len(states) == run.ranks.world_size:
        set_rng_state(states[run.ranks.rank])
    else:  # another number of processes: fresh, still deterministic, streams
        run.log.info(
            f"resuming with {run.ranks.world_size} processes, checkpoint had {len(states)}: "
            f"random streams re-derived from the seed"
        )
        seed_global("dropout", run.config.seed, run.ranks.rank, run.start_epoch)


def _start_line(run: RunState) -> str:
    config, recipe, ranks, data = run.config, run.config.recipe, run.ranks, run.data
    resolved = recipe["resolved"]
    num_params = sum(p.numel() for p in run.model.parameters())
    return (
        f"{'resuming' if run.checkpoint else 'training'} {config.model} ({num_params / 1e6:.2f}M params with its "
        f"{len(data.classes)}-class head, Table 2 counts a 1000-class head; {run.options}) "
        f"on {config.dataset} ({len(data.train)} train / {len(data.val)} val images"
        f"{f', {config.subset} per class' if config.subset else ''}, from {data.source}) "
        f"with recipe {recipe['name']}: {recipe['epochs']} epochs, batch {recipe['batch_size']} "
        f"({ranks.world_size} x {recipe['batch_size'] // ranks.world_size}"
        f"{f' in {config.accumulate} micro-batches' if config.accumulate > 1 else ''}), lr {resolved['lr']:g}, "
        f"weight decay {resolved['weight_decay']:g}, {run.steps} steps/epoch; "
        f"{device_name(run.device)}, {torch.get_num_threads()} threads"
        f"{', bf16 AMP' if run.amp else ''}{', channels_last' if run.channels_last else ''}"
        f"{f', DDP over {backend()}' if ranks.distributed else ''}; "
        f"run dir {config.out_dir}"
    )


# --------------------------------------------------------------------------- the epoch loop of N runs


@dataclass
class EpochResult:
    """One epoch of a stepper: per member (loss sum, correct count, images), summed over ranks."""

    sums: list[tuple[float, float, float]]
    seconds: float
    nonfinite_step: int | None = None


@dataclass
class Lifecycle:
    """The epoch loop's view of the N >= 1 runs trained together: the stepper that trains them (plain:
    one model under DDP; fused: N members, CUDA graphs), with ``train_epoch(epoch) -> EpochResult``,
    ``evaluate()`` (per member: loss, top1, top5; no weight changes) and ``lr(member)`` (after the
    epoch); their records (each with ``history`` and ``totals``); epochs, log and the run's hooks."""

    stepper: Any
    members: list[Any]  # each with .history (list of rows) and .totals (dict)
    epochs: int
    eval_every: int
    log: logging.Logger
    save: Callable[[int], None]  # writes the checkpoints after the given number of epochs
    on_nonfinite: Callable[[int, int | None, str], None] | None = None  # None: recorded (divergence), not raised
    should_stop: Callable[[int], bool] = lambda epoch: False  # after this epoch (a deadline)
    before_epoch: Callable[[int], Any] = lambda epoch: None  # e.g. a requested stop (SIGTERM) exits here
    epoch_record: Callable[[], dict[str, Any]] = dict  # extra keys of each history row (commit, code hash)
    session_start: float = field(default_factory=time.perf_counter)
    wall_before: float = 0.0  # wall seconds of the sessions before this one
    epoch_seconds: list[float] = field(default_factory=list)  # this session's epochs (for the ETA)


def new_totals() -> dict[str, Any]:
    return {"train_seconds": 0.0, "train_images": 0, "wall_seconds": 0.0}


def train_epochs(life: Lifecycle, first: int, last: int) -> int:
    """Train, evaluate when due, record, log and checkpoint epochs ``first`` .. ``last - 1``;
    returns the epochs done (fewer when ``should_stop`` says so after one)."""
    for epoch in range(first, last):
        life.before_epoch(epoch)
        epoch_start = time.perf_counter()
        result = life.stepper.train_epoch(epoch)
        if life.on_nonfinite and not all(math.isfinite(loss) for loss, _, _ in result.sums):
            life.on_nonfinite(epoch, result.nonfinite_step, "training")
        vals = _validate_if_due(life, epoch)
        life.epoch_seconds.append(time.perf_counter() - epoch_start)
        for index, (member, (loss, correct, images)) in enumerate(zip(life.members, result.sums)):
            member.totals["train_seconds"] += result.seconds
            member.totals["train_images"] += int(images)
            member.totals["wall_seconds"] = life.wall_before + time.perf_counter() - life.session_start
            member.history.append(
                {
                    "epoch": epoch + 1,
                    "train_loss": loss / images,
                    "train_top1": 100 * correct / images,
                    "val_loss": vals[index]["loss"],
                    "val_top1": vals[index]["top1"],
                    "val_top5": vals[index]["top5"],
                    "lr": life.stepper.lr(index),
                    "img_per_s": images / result.seconds,
                    **life.epoch_record(),
                }
            )
        _log_epoch(life, [member.history[-1] for member in life.members])
        life.save(epoch + 1)
        if life.should_stop(epoch) and epoch + 1 < last:
            return epoch + 1
    return last


def _validate_if_due(life: Lifecycle, epoch: int) -> list[dict[str, Any]]:
    """Every member on the whole test split, every recipe `eval_every` epochs and after the last one
    (evaluation changes no weight and draws no random number, so it never alters training)."""
    if (epoch + 1) % life.eval_every != 0 and epoch + 1 != life.epochs:
        return [{"loss": None, "top1": None, "top5": None}] * len(life.members)
    vals = life.stepper.evaluate()
    if life.on_nonfinite and not all(math.isfinite(val["loss"]) for val in vals):
        life.on_nonfinite(epoch, None, "validation")
    return vals


def _log_epoch(life: Lifecycle, rows: list[dict[str, Any]]) -> None:
    row, runs = rows[0], len(rows)
    eta = (life.epochs - row["epoch"]) * sum(life.epoch_seconds) / len(life.epoch_seconds)
    mean = {key: sum(r[key] for r in rows) / runs for key in ("train_loss", "train_top1", "img_per_s")}
    if row["val_loss"] is None:
        validation = "val not evaluated this epoch"
    else:
        val = {key: sum(r[key] for r in rows) / runs for key in ("val_loss", "val_top1", "val_top5")}
        validation = f"val loss {val['val_loss']:.4f} top-1 {val['val_top1']:.2f}% top-5 {val['val_top5']:.2f}%"
    life.log.info(
        f"epoch {row['epoch']}/{life.epochs}  {f'{runs} runs (means): ' if runs > 1 else ''}train loss "
        f"{mean['train_loss']:.4f} top-1 {mean['train_top1']:.2f}%  {validation}  {mean['img_per_s']:.0f} img/s  "
        f"lr {row['lr']:.4g}  epoch {life.epoch_seconds[-1]:.1f}s  ETA {duration(eta)}"
    )


# --------------------------------------------------------------------------- the plain stepper


class PlainStepper:
    """One model (DDP-wrapped under torchrun), its optimizer and LR schedule."""

    def __init__(self, run: RunState):
        self.run = run

    def train_epoch(self, epoch: int) -> EpochResult:
        stats, (train_loss, train_correct, train_images) = _train_pass(self.run, epoch)
        if math.isfinite(train_loss):  # the same on every rank: the sum over ranks carries a NaN
            share_buffers(self.run.model, self.run.ranks)
        return EpochResult([(train_loss, train_correct, train_images)], stats.seconds, stats.nonfinite_step)

    def evaluate(self) -> list[dict[str, float]]:
        run = self.run
        return [
            evaluate(
                run.model, run.pipeline.val_batches(), run.device, run.amp, run.channels_last, run.ranks.distributed
            )
        ]

    def lr(self, member: int) -> float:
        return self.run.optimizer.param_groups[0]["lr"]


def _train_pass(run: RunState, epoch: int) -> tuple[EpochStats, list[float]]:
    """One pass over the training batches; returns its stats and the loss sum, correct count
    and image count summed over ranks."""
    show_bar = run.config.progress if run.config.progress is not None else sys.stdout.isatty()
    with tqdm(
        total=run.steps,
        desc=f"epoch {epoch + 1}/{run.config.recipe['epochs']}",
        leave=False,
        dynamic_ncols=True,
        disable=not (show_bar and run.ranks.is_main),
    ) as bar:
        settings = StepSettings(
            run.device,
            run.amp,
            run.channels_last,
            stop_on_nonfinite=run.device.type == "cpu" and not run.ranks.distributed,
            grad_clip_norm=run.config.recipe["optimizer"].get("grad_clip_norm"),
            accumulate=run.config.accumulate,
        )
        stats = train_one_epoch(
            run.net, run.pipeline.train_batches(epoch), run.optimizer, run.scheduler, run.criterion, settings, bar
        )
    sums = torch.tensor([stats.loss_sum, stats.correct, stats.images], dtype=torch.float64, device=run.device)
    sum_over_ranks(sums, run.ranks)
    return stats, sums.tolist()


def _stop_nonfinite(run: RunState, epoch: int, step: int | None, loss: str = "training") -> None:
    where = f"epoch {epoch + 1}, step {step}" if step else f"epoch {epoch + 1}"
    kept = (
        f"{run.out_dir / CHECKPOINT_NAME} keeps epoch {run.checkpoint['epoch']}, the last good one"
        if run.checkpoint is not None
        else "no checkpoint was written"
    )
    raise ValueError(
        f"{where}: the {loss} loss is not finite (NaN or inf), so the run stopped; {kept}. "
        f"A smaller lr.base in the recipe, or checking the data, may help"
    )


def _save_checkpoint(run: RunState, epoch: int) -> None:
    """Every rank's RNG state is gathered; rank 0 writes the file atomically."""
    checkpoint = new_checkpoint(
        model=run.config.model,
        model_options=run.options,
        classes=list(run.data.classes),
        config=run.run_config,
        config_hash=run.run_hash,
        epoch=epoch,
        model_state=run.model.state_dict(),
        optimizer_state=run.optimizer.state_dict(),
        scheduler_state=run.scheduler.state_dict(),
        rng_states=gather(rng_state(), run.ranks),
        history=list(run.history),
        totals=dict(run.totals),
        git_commit=run.commit,
        training_code=continuity.training_code(),
    )
    if run.ranks.is_main:
        save_checkpoint(run.out_dir / CHECKPOINT_NAME, checkpoint)
    run.checkpoint = checkpoint


def _finish(run: RunState) -> TrainResult:
    """After the last epoch of this session: metrics.json when the run is complete."""
    if run.checkpoint is None:  # nothing trained and nothing to resume: cannot happen with epochs >= 1
        raise ValueError("no epoch to train")
    barrier(run.ranks)
    epochs = run.config.recipe["epochs"]
    if run.checkpoint["epoch"] < epochs:
        run.log.info(f"stopped after epoch {run.checkpoint['epoch']} of {epochs}; continue with --resume")
        return TrainResult(run.model, None, run.checkpoint)
    metrics = _metrics(run)
    if run.ranks.is_main:
        write_json(run.out_dir / METRICS_NAME, metrics)
        if metrics["diverged"]:
            run.log.info(f"diverged: {metrics['diverged']} (recorded in {METRICS_NAME}; never scored)")
        run.log.info(
            f"done: top-1 {metrics['top1']:.2f}%  top-5 {metrics['top5']:.2f}%  loss "
            f"{metrics['loss']:.4f}; wrote {run.out_dir / METRICS_NAME}"
        )
    return TrainResult(run.model, metrics, run.checkpoint)


def _metrics(run: RunState) -> dict[str, Any]:
    """metrics.json (core.metrics_record) with what this process measured."""
    data, totals = run.data, run.totals
    return metrics_record(
        run.run_config,
        run.history,
        len(data.classes),
        data_source=data.source,
        train_size=len(data.train),
        val_size=len(data.val),
        wall_time_s=totals["wall_seconds"],
        train_img_per_s=totals["train_images"] / totals["train_seconds"],
        device=device_name(run.device),
        num_threads=torch.get_num_threads(),
        world_size=run.ranks.world_size,
        amp_bf16=run.amp,
        channels_last=run.channels_last,
        git_commit=run.commit,
        eval_split=data.eval_split,
        protocol=run.config.protocol,
        commits=continuity.commits(run.history),
        **subset_record(run.config.dataset, data.source, data.classes, len(data.val)),
    )
