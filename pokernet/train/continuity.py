"""A run's progress across code updates and interruptions.

- **Code updates.** A run resumes across commits while the code that defines training is unchanged:
  its fingerprint is a hash of those source files' contents (``training_code``: the training core,
  the models, the data sets; the recipe is in the run's config, checked by its own hash). Each epoch
  records the commit and the fingerprint that trained it. When the code changed, ``--resume`` stops
  with one line naming the files, and goes on only on an explicit ``--on-code-change`` choice:
  ``restart`` (the run is moved aside, named after the commit that trained it) or ``continue``
  (its epochs then record the mix).
- **Interruptions.** SIGTERM, SIGUSR1 (SLURM's warning ahead of the time limit) and SIGINT are
  noted, not obeyed at once: the epoch under way ends, its checkpoint is written, and the process
  exits with ``REQUEUE_EXIT`` (75), no lock left and one line saying what to run next. A second
  SIGINT stops at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pokernet

# Sub-packages whose source defines what a run trains; files of them that only operate a run.
TRAINING_PACKAGES = ("train", "models", "datasets")
OPERATIONAL = frozenset(
    {"train/cli.py", "train/launch.py", "train/runlog.py", "train/runcheck.py", "train/continuity.py"}
)
REQUEUE_EXIT = 75  # EX_TEMPFAIL: stopped on request, the checkpoint holds the progress; run again
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


@functools.cache
def training_code() -> dict[str, str]:
    """``{path: sha256 prefix}`` of every source file that defines training (this package's own)."""
    root = Path(pokernet.__file__).resolve().parent
    files = {}
    for package in TRAINING_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative not in OPERATIONAL:
                files[f"pokernet/{relative}"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return files


def fingerprint(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:12]


def epoch_record(commit: str | None) -> dict[str, Any]:
    """What a history row records of the code that trained its epoch."""
    return {"commit": commit, "training_code": fingerprint(training_code())}


def commits(history: list[dict[str, Any]]) -> list[str | None]:
    """Every commit that trained an epoch of ``history``, in order (once each)."""
    return list(dict.fromkeys(row.get("commit") for row in history))


class CodeChanged(ValueError):
    """The code that defines training is not the code that trained the checkpoint."""


def check_code(checkpoint: dict[str, Any], path: Path, commit: str | None, choice: str) -> None:
    """Nothing when ``checkpoint`` may be continued by this code (with ``choice == "continue"``, one
    line on stderr when it continues across a change); else a one-line CodeChanged naming it."""
    held = checkpoint.get("training_code")
    if held is None:  # written before fingerprints: only its own commit continues it
        if checkpoint["git_commit"] == commit:
            return None
        what = f"commit {checkpoint['git_commit'] or 'unknown'} (no code fingerprint recorded), now {commit}"
    else:
        now = training_code()
        changed = sorted(name for name in set(held) | set(now) if held.get(name) != now.get(name))
        if not changed:
            return None
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        what = f"{shown} (trained by {checkpoint['git_commit'] or 'unknown'}, now {commit or 'not a git checkout'})"
    if choice == "continue":
        _say_once(
            f"pokernet train: continuing {path} across a change of the training code: {what}; its epochs record the mix"
        )
        return None
    raise CodeChanged(
        f"--resume: {path}: the training code changed since its last epoch: {what}; choose --on-code-change "
        f"restart (move it aside, start afresh) or continue (record the mix); in the workflow "
        f"POKERNET_ON_CODE_CHANGE=restart|continue snakemake ..."
    )


_SAID: set[str] = set()


def _say_once(line: str) -> None:
    if line not in _SAID:
        _SAID.add(line)
        print(line, file=sys.stderr)


def trained_by(run_dir: Path) -> str:
    """The commit that trained the run in ``run_dir`` (its metrics.json, else its checkpoint), as a
    folder-name part: a moved-aside run is named after it."""
    commit = None
    try:
        metrics = run_dir / "metrics.json"
        if metrics.is_file():
            commit = json.loads(metrics.read_text()).get("git_commit")
        elif (run_dir / "checkpoint.pt").is_file():
            import torch

            commit = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True, mmap=True).get(
                "git_commit"
            )
    except (OSError, ValueError, RuntimeError, AttributeError):
        commit = None
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(commit or "unknown"))[:64]


class StopRequests:
    """Notes SIGTERM, SIGUSR1 and SIGINT from a run's start; the engine asks before each epoch."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _note(self, number: int, frame: object) -> None:
        if number == signal.SIGINT and self.received == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = number

    def stop_now(self, ranks: Any, device: Any) -> bool:
        """Whether any rank was asked to stop (every rank gets the same answer)."""
        if not ranks.distributed:
            return self.received is not None
        import torch

        from .distributed import sum_over_ranks

        asked = torch.tensor([float(self.received is not None)], device=device)
        sum_over_ranks(asked, ranks)
        return bool(asked.item())

    def exit_for_requeue(self, out_dir: Path, epoch: int, epochs: int, log: Any) -> None:
        name = signal.Signals(self.received).name if self.received else "a stop request of another rank"
        line = (
            f"stopped by {name} after epoch {epoch} of {epochs}"
            f"{f'; {out_dir}/checkpoint.pt keeps it' if epoch else ''}: run the same command again "
            f"(pokernet train ... --resume, or the workflow's target) to continue"
        )
        log.info(line)
        print(f"pokernet train: {line}", file=sys.stderr)
        raise SystemExit(REQUEUE_EXIT)
