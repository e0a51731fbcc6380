"""Ingest a study archive (``scripts/gpu_study.sh``'s $OUT/cifar10_study.tar.gz) into a workflow
profile's work dir: ``WORK/runs/<variant>/seed<s>/metrics.json``, the layout ``rule train``
writes, so that the DAG renders the tables from the runs without training them again."""
from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pokernet import schemas
from pokernet.fileio import atomic_write_text

from pokernet.models.variant import Variant

from .arms import arm_by_variant

RUN_MEMBER = re.compile(r"^(?:.*/)?runs/(?P<variant>[A-Za-z0-9_.-]+)/seed(?P<seed>\d+)/(?P<name>metrics|partial)\.json$")


@dataclass
class IngestedRun:
    variant: str
    seed: int
    path: Path
    top1: float


def _check_run(member: str, variant: str, seed: int, data: Any) -> None:
    """The metrics contract (the schema ``pokernet train`` writes to), then path = content."""
    schemas.check("metrics", data, member)
    arm = arm_by_variant(variant)
    try:
        held = Variant.from_options(data["model"], data["model_options"])
    except ValueError as error:
        raise ValueError(f"{member}: {error}") from None
    if held != arm:
        raise ValueError(f"{member}: holds variant {held} ({data['model']} {data['model_options']}), "
                         f"its path says {variant}")
    if data["seed"] != seed:
        raise ValueError(f"{member}: holds seed {data['seed']}, its path says seed {seed}")


def read_archive(archive: Path) -> tuple[dict[tuple[str, int], dict[str, Any]], list[str], dict[str, Any] | None]:
    """The complete runs (metrics.json), the partial ones, and study.json of an archive."""
    if not archive.is_file():
        raise FileNotFoundError(f"study archive {archive} does not exist")
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    partial: list[str] = []
    study = None
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                if member.name.endswith("study.json") and study is None:
                    study = schemas.parse(tar.extractfile(member).read().decode(), member.name)
                    continue
                match = RUN_MEMBER.match(member.name)
                if not match:
                    continue
                if match["name"] == "partial":
                    partial.append(member.name)
                    continue
                data = schemas.parse(tar.extractfile(member).read().decode(), member.name)
                _check_run(member.name, match["variant"], int(match["seed"]), data)
                runs[(match["variant"], int(match["seed"]))] = data
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as error:
        raise ValueError(f"study archive {archive} is unreadable: {error}") from None
    return runs, partial, study


def ingest(archive: Path, work_dir: Path, force: bool = False) -> list[IngestedRun]:
    """Write every complete run of ``archive`` under ``work_dir``; check everything first. A run
    already there with other content is an error unless ``force`` (never silently replaced)."""
    runs, partial, study = read_archive(archive)
    if not runs:
        detail = f" ({len(partial)} partial runs: training did not finish its schedule)" if partial else ""
        raise ValueError(f"study archive {archive} holds no complete run{detail}")
    settings = {(d["dataset"], d["resolution"], d["epochs"], d.get("subset_per_class")) for d in runs.values()}
    if len(settings) > 1:
        raise ValueError(f"study archive {archive}: runs differ in dataset/resolution/epochs/subset: {sorted(settings, key=str)}")
    planned = []
    for (variant, seed), data in sorted(runs.items()):
        path = work_dir / "runs" / variant / f"seed{seed}" / "metrics.json"
        text = json.dumps(data, indent=2) + "\n"
        if path.exists() and path.read_text() != text and not force:
            raise ValueError(f"{path} already holds another run; move it away or pass --force")
        planned.append((path, text, IngestedRun(variant, seed, path, data["top1"])))
    for path, text, _ in planned:
        atomic_write_text(path, text)
    if study is not None:
        atomic_write_text(work_dir / "study.json", json.dumps(study, indent=2) + "\n")
    return [run for _, _, run in planned]
