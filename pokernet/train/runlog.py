"""The run's log: one line per event on stdout and in RUN_DIR/train.log (rank 0 only)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_NAME = "train.log"


class _Stdout(logging.StreamHandler):
    """sys.stdout as it is when a line is written (not when the handler was made)."""

    stream = property(lambda self: sys.stdout, lambda self, value: None)


def console_log(name: str) -> logging.Logger:
    """A logger writing ``[HH:MM:SS] message`` lines to stdout (commands without a run folder)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = _Stdout()
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def open_log(out_dir: Path, is_main: bool) -> logging.Logger:
    logger = logging.getLogger(f"pokernet.train.run.{os.getpid()}.{id(out_dir)}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if is_main:
        console = _Stdout()
        console.setFormatter(logging.Formatter("%(message)s"))
        try:
            logfile = logging.FileHandler(out_dir / LOG_NAME)
        except OSError as error:
            raise ValueError(f"{out_dir / LOG_NAME}: cannot write the run's log ({error.strerror})") from None
        logfile.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(console)
        logger.addHandler(logfile)
    else:
        logger.addHandler(logging.NullHandler())
    return logger


def close_log(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"
