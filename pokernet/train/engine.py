"""The training engine: one loop for a 2-core CPU, one GPU, or N GPUs under torchrun.

- Multi-GPU is PyTorch's DDP, started by ``torchrun --nproc_per_node N``: the recipe's
  batch is the global batch (each rank takes batch/N), the sampler shards the data, and only
  rank 0 writes files.
- A checkpoint is written atomically at the end of every epoch; ``resume`` restores model,
  optimizer, LR schedule, epoch and every rank's RNG states, so an interrupted run ends with
  the same weights as an uninterrupted one.
- Everything is checked (recipe, model, data, checkpoint) before anything is written.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from pokernet.fileio import atomic_write
from pokernet.models import create_model, model_options
from pokernet.provenance import available_cores, cpu_model, git_commit

from .data import FolderPipeline, MemoryPipeline, build_pipeline, load_data
from .recipe import config_hash

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
LOG_NAME = "train.log"
CHECKPOINT_FORMAT = "pokernet-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_KEYS = ("format", "format_version", "model", "model_options", "classes", "config",
                   "config_hash", "epoch", "model_state", "optimizer_state", "scheduler_state",
                   "rng_states", "history", "totals")


@dataclass
class TrainConfig:
    model: str
    recipe: dict[str, Any]  # resolved, see recipe.resolve_recipe
    dataset: str
    out_dir: Path
    model_options: dict[str, Any] = field(default_factory=dict)  # as the user gave them
    data_root: str | None = None
    subset: int | None = None
    seed: int = 0
    resume: bool = False  # continue from out_dir's checkpoint if there is one (same command to start and requeue)
    stop_after: int | None = None  # stop once this epoch is done (time-limited jobs); resume later
    download: bool = False
    threads: int | None = None  # CPU threads per process; default: the cores this process may use
    workers: int | None = None  # DataLoader workers for data streamed from disk
    device: str = "auto"  # auto, cpu or cuda
    amp: bool = True  # bf16 autocast, on CUDA only
    channels_last: bool = True  # NHWC memory format: faster on CUDA and on AVX-512 CPUs
    progress: bool | None = None  # progress bar; default: when stdout is a terminal


@dataclass
class TrainResult:
    model: nn.Module  # the trained model (not DDP-wrapped)
    metrics: dict[str, Any] | None  # None when the run stopped early (stop_after)
    checkpoint: dict[str, Any]


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    distributed: bool = False  # started by torchrun (even with 1 process): DDP and a process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> "Ranks":
        """The process's place in a torchrun job (environment variables), or a single process."""
        world = int(os.environ.get("WORLD_SIZE", 1))
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)), world,
                   int(os.environ.get("LOCAL_WORLD_SIZE", world)),
                   distributed="RANK" in os.environ and "WORLD_SIZE" in os.environ)


# --------------------------------------------------------------------------- small helpers

def write_json(path: Path, content: dict[str, Any]) -> None:
    atomic_write(path, lambda file: file.write((json.dumps(content, indent=2) + "\n").encode()))


def derive_seed(*parts: int) -> int:
    """A 63-bit seed from several numbers (seed, rank, ...), without collisions like seed+rank."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)  # seeds CUDA too
    random.seed(seed)


def rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state() if torch.cuda.is_initialized() else None,
            "python": random.getstate()}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_initialized():
        torch.cuda.set_rng_state(state["cuda"])
    random.setstate(state["python"])


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [path for key in sorted(set(old) | set(new), key=str)
                for path in _differences(old.get(key), new.get(key), f"{prefix}{key}.")]
    return [] if old == new else [prefix.rstrip(".")]


def _open_log(out_dir: Path, ranks: Ranks) -> logging.Logger:
    """One line per event on stdout and in RUN_DIR/train.log (rank 0 only)."""
    logger = logging.getLogger(f"pokernet.train.run.{os.getpid()}.{id(out_dir)}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if ranks.is_main:
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(logging.Formatter("%(message)s"))
        logfile = logging.FileHandler(out_dir / LOG_NAME)
        logfile.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(console)
        logger.addHandler(logfile)
    else:
        logger.addHandler(logging.NullHandler())
    return logger


def _close_log(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


# --------------------------------------------------------------------------- checkpoints

def checkpoint_file(path: str | Path) -> Path:
    """A checkpoint file, or RUN_DIR/checkpoint.pt for a run directory."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint (``weights_only=True``: no code runs from the file)."""
    path = checkpoint_file(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # a foreign pickle also draws a protocol warning
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                         f"{_load_failure(error)}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a pokernet checkpoint (no format: {CHECKPOINT_FORMAT!r} entry; "
                         f"it holds a {type(checkpoint).__name__})")
    if checkpoint.get("format_version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {checkpoint.get('format_version')!r}, "
                         f"this code reads version {CHECKPOINT_VERSION}")
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(f"{path} is an incomplete pokernet checkpoint (missing {', '.join(missing)})")
    return checkpoint


def _load_failure(error: Exception) -> str:
    """torch.load's reason in one short line, without its advice to drop weights_only."""
    message = " ".join(str(error).split()) or type(error).__name__
    if "WeightsUnpickler error:" in message:
        detail = message.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0].strip()
        return f"not a torch.save file of tensors and plain data ({detail})"
    return message.split(". ")[0]


def model_from_checkpoint(checkpoint: dict[str, Any]) -> nn.Module:
    """Rebuild the model from the name and options stored in the checkpoint, with its weights."""
    model = create_model(checkpoint["model"], **checkpoint["model_options"])
    try:
        model.load_state_dict(checkpoint["model_state"])
    except RuntimeError as error:
        raise ValueError(f"the checkpoint's weights do not fit model {checkpoint['model']!r}: "
                         f"{str(error).splitlines()[0]}") from None
    return model


# --------------------------------------------------------------------------- train / evaluate

def build_model(name: str, user_options: dict[str, Any], num_classes: int,
                dropout: float) -> tuple[nn.Module, dict[str, Any]]:
    """The model and every option it was built with (the recipe's dropout where it takes one)."""
    options = dict(user_options)  # create_model rejects an option the model does not take
    options["num_classes"] = num_classes
    if "drop_rate" in model_options(name):
        options["drop_rate"] = dropout
    return create_model(name, **options), options


@dataclass
class EpochStats:
    loss_sum: float
    correct: float
    images: int
    seconds: float


def train_one_epoch(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
                    optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                    criterion: nn.Module, device: torch.device, amp: bool = False,
                    channels_last: bool = False, progress: tqdm | None = None,
                    max_steps: int | None = None) -> EpochStats:
    """One pass over ``batches`` (the pipeline's time included); LR scheduled per step."""
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    images = 0
    start = time.perf_counter()
    for step, (x, y) in enumerate(batches):
        if max_steps is not None and step >= max_steps:
            break
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
            loss = criterion(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += loss.detach().float() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        images += len(y)
        if progress is not None:
            progress.update(1)
            if step % 10 == 0:
                progress.set_postfix(loss=f"{loss.item():.3f}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return EpochStats(loss_sum.item(), correct.item(), images, time.perf_counter() - start)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
             device: torch.device, amp: bool = False, channels_last: bool = False,
             distributed: bool = False) -> dict[str, float]:
    """Top-1/top-5 (percent) and mean cross-entropy (no label smoothing) over ``batches``; with
    ``distributed``, each rank holds a shard and the sums are all-reduced."""
    model.eval()
    sums = torch.zeros(4, device=device, dtype=torch.float64)  # loss, top-1, top-5, images
    for x, y in batches:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
        logits = logits.float()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        sums += torch.stack([nn.functional.cross_entropy(logits, y, reduction="sum"),
                             (top[:, 0] == y).sum(), (top == y[:, None]).any(1).sum(),
                             torch.tensor(len(y), device=device)]).double()
    if distributed:
        dist.all_reduce(sums)
    loss, top1, top5, count = sums.tolist()
    if count == 0:
        raise ValueError("the validation split is empty")
    return {"top1": 100 * top1 / count, "top5": 100 * top5 / count, "loss": loss / count,
            "images": int(count)}


def _pick_device(choice: str, ranks: Ranks) -> torch.device:
    if choice not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown device {choice!r}; choose auto, cpu or cuda")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda, but CUDA is not available here")
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    torch.cuda.set_device(ranks.local_rank)
    return torch.device("cuda", ranks.local_rank)


def train(config: TrainConfig) -> TrainResult:
    """Train (or resume) one run; under torchrun, every rank calls this."""
    ranks = Ranks.from_env()
    device = _pick_device(config.device, ranks)
    started_group = ranks.distributed and not dist.is_initialized()
    if started_group:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        return _train(config, ranks, device)
    finally:
        if started_group:
            dist.destroy_process_group()


def _train(config: TrainConfig, ranks: Ranks, device: torch.device) -> TrainResult:
    session_start = time.perf_counter()
    recipe = config.recipe
    if recipe["batch_size"] % ranks.world_size:
        raise ValueError(f"the recipe's global batch {recipe['batch_size']} does not divide over "
                         f"{ranks.world_size} processes")
    torch.set_num_threads(config.threads or max(1, available_cores() // ranks.local_world_size))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    amp = config.amp and device.type == "cuda"
    channels_last = config.channels_last
    distributed = ranks.distributed

    # Check everything before writing anything.
    data_cfg = recipe["data"]
    data = load_data(config.dataset, config.data_root, config.subset, config.download,
                     resize=data_cfg["resize"])
    seed_everything(config.seed)  # identical initial weights on every rank
    model, options = build_model(config.model, config.model_options, len(data.classes), recipe["dropout"])
    run_config = {"model": config.model, "model_options": options, "recipe": recipe,
                  "dataset": config.dataset, "subset_per_class": config.subset, "seed": config.seed}
    run_hash = config_hash(run_config)
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    checkpoint: dict[str, Any] | None = None
    if config.resume and checkpoint_path.exists():  # without a checkpoint, --resume starts the run
        checkpoint = load_checkpoint(checkpoint_path)
        if checkpoint["config_hash"] != run_hash:
            changed = _differences(checkpoint["config"], run_config)
            raise ValueError(f"--resume: {checkpoint_path} was made by another configuration "
                             f"(differs in {', '.join(changed) or 'its hash'}); give the same options, "
                             f"or train into another --out")
    elif checkpoint_path.exists():
        raise ValueError(f"{out_dir} already holds a run ({CHECKPOINT_NAME}); pass --resume to "
                         f"continue it, or choose another --out")
    per_rank_batch = recipe["batch_size"] // ranks.world_size
    workers = config.workers if config.workers is not None else min(8, available_cores() // ranks.local_world_size)
    pipeline = build_pipeline(data, data_cfg, per_rank_batch, ranks.rank, ranks.world_size,
                              config.seed, device, workers)

    if ranks.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    if distributed:
        dist.barrier()
    log = _open_log(out_dir, ranks)
    try:
        return _run_epochs(config, ranks, device, log, model, options, data, pipeline, run_config,
                           run_hash, checkpoint, amp, channels_last, session_start)
    finally:
        _close_log(log)


def _run_epochs(config: TrainConfig, ranks: Ranks, device: torch.device, log: logging.Logger,
                model: nn.Module, options: dict[str, Any], data: Any,
                pipeline: MemoryPipeline | FolderPipeline, run_config: dict[str, Any], run_hash: str,
                checkpoint: dict[str, Any] | None, amp: bool, channels_last: bool,
                session_start: float) -> TrainResult:
    recipe, resolved = config.recipe, config.recipe["resolved"]
    distributed = ranks.distributed
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=resolved["lr"],
                                momentum=recipe["optimizer"]["momentum"],
                                nesterov=recipe["optimizer"]["nesterov"],
                                weight_decay=resolved["weight_decay"])
    steps = pipeline.steps_per_epoch()
    # Milestones in optimizer steps, so a short run decays at the same fraction of training.
    milestones = [round(epoch * steps) for epoch in resolved["lr_milestones_epochs"]]
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, recipe["lr_schedule"]["gamma"])
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])

    history: list[dict[str, Any]] = []
    totals = {"train_seconds": 0.0, "train_images": 0, "wall_seconds": 0.0}
    start_epoch = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model_state"])
        optimizer.load_state_dict(checkpoint["optimizer_state"])
        scheduler.load_state_dict(checkpoint["scheduler_state"])
        start_epoch, history, totals = checkpoint["epoch"], checkpoint["history"], checkpoint["totals"]
        states = checkpoint["rng_states"]
        if len(states) == ranks.world_size:
            set_rng_state(states[ranks.rank])
        else:  # another number of processes: fresh, still deterministic, streams
            log.info(f"resuming with {ranks.world_size} processes, checkpoint had {len(states)}: "
                     f"random streams re-derived from the seed")
            seed_everything(derive_seed(config.seed, ranks.rank, start_epoch))
    else:
        seed_everything(derive_seed(config.seed, ranks.rank))  # per-rank augmentation/dropout
    net = (DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
           if distributed else model)

    epochs = recipe["epochs"]
    stop = min(epochs, config.stop_after) if config.stop_after else epochs
    num_params = sum(p.numel() for p in model.parameters())
    log.info(f"{'resuming' if checkpoint else 'training'} {config.model} ({num_params / 1e6:.2f}M params, "
             f"{options}) on {config.dataset} ({len(data.train)} train / {len(data.val)} val images"
             f"{f', {config.subset} per class' if config.subset else ''}, from {data.source}) "
             f"with recipe {recipe['name']}: {epochs} epochs, batch {recipe['batch_size']} "
             f"({ranks.world_size} x {recipe['batch_size'] // ranks.world_size}), lr {resolved['lr']:g}, "
             f"weight decay {resolved['weight_decay']:g}, {steps} steps/epoch; "
             f"{device_name(device)}, {torch.get_num_threads()} threads"
             f"{', bf16 AMP' if amp else ''}{', channels_last' if channels_last else ''}"
             f"{f', DDP over {dist.get_backend()}' if distributed else ''}; "
             f"run dir {config.out_dir}")
    wall_before = totals["wall_seconds"]
    session_epoch_seconds: list[float] = []
    for epoch in range(start_epoch, stop):
        epoch_start = time.perf_counter()
        show_bar = config.progress if config.progress is not None else sys.stdout.isatty()
        with tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", leave=False, dynamic_ncols=True,
                  disable=not (show_bar and ranks.is_main)) as bar:
            stats = train_one_epoch(net, pipeline.train_batches(epoch), optimizer, scheduler, criterion,
                                    device, amp, channels_last, bar)
        sums = torch.tensor([stats.loss_sum, stats.correct, stats.images], dtype=torch.float64, device=device)
        if distributed:
            dist.all_reduce(sums)
            for buffer in model.buffers():  # BN statistics: rank 0's, so all ranks hold one model
                dist.broadcast(buffer, 0)
        train_loss, train_correct, train_images = sums.tolist()
        val = evaluate(model, pipeline.val_batches(), device, amp, channels_last, distributed)
        img_per_s = train_images / stats.seconds
        totals["train_seconds"] += stats.seconds
        totals["train_images"] += int(train_images)
        session_epoch_seconds.append(time.perf_counter() - epoch_start)
        totals["wall_seconds"] = wall_before + time.perf_counter() - session_start
        history.append({"epoch": epoch + 1, "train_loss": train_loss / train_images,
                        "train_top1": 100 * train_correct / train_images, "val_loss": val["loss"],
                        "val_top1": val["top1"], "val_top5": val["top5"],
                        "lr": optimizer.param_groups[0]["lr"], "img_per_s": img_per_s})
        eta = (epochs - epoch - 1) * sum(session_epoch_seconds) / len(session_epoch_seconds)
        log.info(f"epoch {epoch + 1}/{epochs}  train loss {history[-1]['train_loss']:.4f} "
                 f"top-1 {history[-1]['train_top1']:.2f}%  val loss {val['loss']:.4f} "
                 f"top-1 {val['top1']:.2f}% top-5 {val['top5']:.2f}%  {img_per_s:.0f} img/s  "
                 f"lr {history[-1]['lr']:.4g}  epoch {session_epoch_seconds[-1]:.1f}s  ETA {_duration(eta)}")
        checkpoint = _save_checkpoint(Path(config.out_dir) / CHECKPOINT_NAME, ranks, model, options,
                                      data.classes, run_config, run_hash, epoch + 1, optimizer,
                                      scheduler, history, totals)
    if checkpoint is None:  # nothing trained and nothing to resume: cannot happen with epochs >= 1
        raise ValueError("no epoch to train")
    if distributed:
        dist.barrier()
    if checkpoint["epoch"] < epochs:
        log.info(f"stopped after epoch {checkpoint['epoch']} of {epochs}; continue with --resume")
        return TrainResult(model, None, checkpoint)
    metrics = _metrics(config, ranks, device, options, data, run_config, run_hash, history, totals, amp,
                       channels_last)
    if ranks.is_main:
        write_json(Path(config.out_dir) / METRICS_NAME, metrics)
        log.info(f"done: top-1 {metrics['top1']:.2f}%  top-5 {metrics['top5']:.2f}%  loss "
                 f"{metrics['loss']:.4f}; wrote {Path(config.out_dir) / METRICS_NAME}")
    return TrainResult(model, metrics, checkpoint)


def _save_checkpoint(path: Path, ranks: Ranks, model: nn.Module, options: dict[str, Any],
                     classes: list[str], run_config: dict[str, Any], run_hash: str, epoch: int,
                     optimizer: torch.optim.Optimizer, scheduler: Any, history: list[dict[str, Any]],
                     totals: dict[str, Any]) -> dict[str, Any]:
    """Every rank's RNG state is gathered; rank 0 writes the file atomically."""
    states: list[Any] = [rng_state()]
    if ranks.distributed:
        states = [None] * ranks.world_size
        dist.all_gather_object(states, rng_state())
    checkpoint = {
        "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
        "model": run_config["model"], "model_options": options, "classes": list(classes),
        "config": run_config, "config_hash": run_hash, "epoch": epoch,
        "model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(),
        "scheduler_state": scheduler.state_dict(), "rng_states": states,
        "history": list(history), "totals": dict(totals),
    }
    if ranks.is_main:
        atomic_write(path, lambda file: torch.save(checkpoint, file))
    return checkpoint


def _metrics(config: TrainConfig, ranks: Ranks, device: torch.device, options: dict[str, Any],
             data: Any, run_config: dict[str, Any], run_hash: str, history: list[dict[str, Any]],
             totals: dict[str, Any], amp: bool, channels_last: bool) -> dict[str, Any]:
    """metrics.json: the final validation figures and everything needed to trust and redo them."""
    last = history[-1]
    return {
        "model": config.model, "model_options": options,
        "top1": last["val_top1"], "top5": last["val_top5"], "loss": last["val_loss"],
        "train_loss": last["train_loss"], "train_top1": last["train_top1"],
        "epochs": config.recipe["epochs"], "seed": config.seed,
        "dataset": config.dataset, "subset_per_class": config.subset, "data_source": data.source,
        "train_size": len(data.train), "val_size": len(data.val),
        "resolution": config.recipe["data"]["resolution"],
        "wall_time_s": totals["wall_seconds"],
        "train_img_per_s": totals["train_images"] / totals["train_seconds"],
        "recipe": config.recipe, "config": run_config, "config_hash": run_hash,
        "torch_version": torch.__version__, "device": device_name(device),
        "num_threads": torch.get_num_threads(), "world_size": ranks.world_size,
        "amp_bf16": amp, "channels_last": channels_last,
        "git_commit": git_commit(),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "history": history,
    }
