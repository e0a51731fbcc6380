"""The checkpoint file (RUN_DIR/checkpoint.pt): its format, writing, loading and checking it,
and rebuilding the model it holds. Loading runs no code from the file (``weights_only``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pokernet import schemas
from pokernet.fileio import atomic_write
from pokernet.models import create_model
from pokernet.models.registry import ModelOptionError

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "pokernet-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_KEYS = (
    "format",
    "format_version",
    "model",
    "model_options",
    "classes",
    "config",
    "config_hash",
    "epoch",
    "model_state",
    "optimizer_state",
    "scheduler_state",
    "rng_states",
    "history",
    "totals",
    "git_commit",
    "training_code",
)
# Keys a checkpoint written before they existed may lack, with the value they then mean.
# git_commit: the commit whose code trained the epochs (None: not known).
# training_code: {source file: hash} of the code that trained the last epoch (train/continuity.py).
OPTIONAL_KEYS = {"git_commit": None, "training_code": None}


def new_checkpoint(**fields: Any) -> dict[str, Any]:
    """A checkpoint of the current format from its fields (every one of CHECKPOINT_KEYS)."""
    checkpoint = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, **fields}
    if sorted(checkpoint) != sorted(CHECKPOINT_KEYS):
        raise TypeError(f"checkpoint fields {sorted(fields)} are not {CHECKPOINT_KEYS[2:]}")
    return checkpoint


def save_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    try:
        atomic_write(path, lambda file: torch.save(checkpoint, file))
    except RuntimeError as error:  # torch's writer reports a full disk as a RuntimeError ("unexpected pos")
        raise ValueError(f"cannot write {path}: {str(error).splitlines()[0]} (is the disk full?)") from None


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
        raise ValueError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): {_load_failure(error)}"
        ) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a pokernet checkpoint (no format: {CHECKPOINT_FORMAT!r} entry; "
            f"it holds a {type(checkpoint).__name__})"
        )
    if checkpoint.get("format_version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format version {checkpoint.get('format_version')!r}, "
            f"this code reads version {CHECKPOINT_VERSION}"
        )
    checkpoint = {**OPTIONAL_KEYS, **checkpoint}
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(f"{path} is an incomplete pokernet checkpoint (missing {', '.join(missing)})")
    _check_fields(checkpoint, path)
    return checkpoint


def _check_fields(checkpoint: dict[str, Any], path: Path) -> None:
    """The plain fields by their contract (pokernet/schemas/checkpoint.schema.json); history, totals
    and rng_states by their type only (a fused run's history may hold a diverged member's NaN loss)."""
    shallow = ("history", "totals", "rng_states")
    fields = {key: type(v)() if key in shallow and isinstance(v, (list, dict)) else v for key, v in checkpoint.items()}
    schemas.check("checkpoint", fields, str(path))
    recipe = {k: v for k, v in checkpoint["config"]["recipe"].items() if k != "resolved"}
    schemas.check("recipe", recipe, str(path), prefix=("config", "recipe"))
    if not 1 <= checkpoint["epoch"] <= recipe["epochs"]:
        raise ValueError(
            f"{path}: epoch must be in [1, {recipe['epochs']}] (its recipe's epochs), got {checkpoint['epoch']}"
        )


def _load_failure(error: Exception) -> str:
    """torch.load's reason in one short line, without its advice to drop weights_only."""
    message = " ".join(str(error).split()) or type(error).__name__
    if "WeightsUnpickler error:" in message:
        detail = message.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0].strip()
        return f"not a torch.save file of tensors and plain data ({detail})"
    return message.split(". ")[0]


def check_same_config(checkpoint: dict[str, Any], path: Path, run_config: dict[str, Any], run_hash: str) -> None:
    """--resume continues only the configuration that made the checkpoint."""
    if checkpoint["config_hash"] != run_hash:
        changed = _differences(checkpoint["config"], run_config)
        raise ValueError(
            f"--resume: {path} was made by another configuration "
            f"(differs in {', '.join(changed) or 'its hash'}); give the same options, "
            f"or train into another --out"
        )


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            path
            for key in sorted(set(old) | set(new), key=str)
            for path in _differences(old.get(key), new.get(key), f"{prefix}{key}.")
        ]
    return [] if old == new else [prefix.rstrip(".")]


def model_from_checkpoint(checkpoint: dict[str, Any], where: str = "the checkpoint") -> nn.Module:
    """Rebuild the model from the name and options stored in the checkpoint, with its weights."""
    try:
        model = create_model(checkpoint["model"], **checkpoint["model_options"])
    except ModelOptionError as error:
        raise ValueError(f"{where}: model_options.{error.option} {error.problem}") from None
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: model_options do not build model {checkpoint['model']!r}: {error}") from None
    try:
        model.load_state_dict(checkpoint["model_state"])
    except RuntimeError as error:
        raise ValueError(
            f"the checkpoint's weights do not fit model {checkpoint['model']!r}: {str(error).splitlines()[0]}"
        ) from None
    return model
