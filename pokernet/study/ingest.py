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
from pokernet.fileio import check_output_folder, check_outputs, check_path, read_limited, write_all
from pokernet.train.recipe import METADATA_KEYS, resolve_recipe
from pokernet.train.runcheck import check_run, check_run_location

from .arms import arm_by_variant

RUN_MEMBER = re.compile(
    r"^(?:.*/)?runs/(?P<variant>[A-Za-z0-9_.-]+)/seed(?P<seed>\d+)/"
    r"(?P<name>metrics|partial)\.json$"
)


@dataclass
class IngestedRun:
    variant: str
    seed: int
    path: Path
    top1: float


def training_recipe(recipe: dict[str, Any]) -> dict[str, Any]:
    """What a run was trained with: the recipe without its metadata (name, changes, study)."""
    return {k: v for k, v in recipe.items() if k not in METADATA_KEYS}


def check_study_run(where: str, data: Any, variant: str, seed: int, recipe: dict[str, Any]) -> None:
    """One run of the study as ``where`` holds it, or ValueError naming ``where``: the metrics
    contract (the schema ``pokernet train`` writes to); the variant and seed its path says; the
    study's ``recipe`` (loaded) at its full epochs on the whole CIFAR-10 test split; a clean commit."""
    check_run(where, data)
    arm = arm_by_variant(variant)
    check_run_location(f"runs/{variant}/seed{seed}/metrics.json", data, where)
    expected = training_recipe(resolve_recipe(recipe, arm.model))
    held_recipe = training_recipe(data.get("recipe") or {})
    if held_recipe != expected:
        differ = sorted(k for k in expected.keys() | held_recipe.keys() if expected.get(k) != held_recipe.get(k))
        raise ValueError(
            f"{where}: trained with another recipe than {recipe['name']} at its {recipe['epochs']} "
            f"epochs ({data['epochs']} epochs; differs in {', '.join(differ)})"
        )
    limits = {"subset_per_class": data.get("subset_per_class"), **data.get("dry_run_limits", {})}
    if data["dataset"] != "cifar10" or any(value is not None for value in limits.values()):
        raise ValueError(
            f"{where}: not the study's data: a dry run (dataset {data['dataset']}, "
            f"{', '.join(f'{k} {v}' for k, v in limits.items() if v is not None)}); the study trains "
            f"on the whole CIFAR-10 train split and evaluates on the whole test split"
        )
    commit = data.get("git_commit")
    if not commit or commit.endswith("-dirty"):
        raise ValueError(
            f"{where}: recorded code commit {commit or 'none (not a git checkout)'} is not a clean commit "
            f"(commit before a GPU window: a dirty tree's code cannot be named)"
        )


RunsByKey = dict[tuple[str, int], tuple[str, dict[str, Any]]]


def _member_json(tar: tarfile.TarFile, member: tarfile.TarInfo, where: str) -> Any:
    """A member's JSON, its declared size and its read size bounded (fileio.read_limited)."""
    return schemas.parse(read_limited(tar.extractfile(member), where, member.size).decode(), where)


def read_archive(archive: Path, recipe: dict[str, Any]) -> tuple[RunsByKey, list[str], dict[str, Any] | None]:
    """The complete runs ((variant, seed) -> (member, metrics), each checked), the partial ones,
    and study.json of an archive. Members are looked at one by one as their headers come (an
    oversized member is refused before the archive is read past it)."""
    if not check_path(archive, "study archive").is_file():
        raise FileNotFoundError(f"study archive {archive} does not exist")
    runs: RunsByKey = {}
    partial: list[str] = []
    study: tuple[int, Any] | None = None
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                match = RUN_MEMBER.match(member.name)
                if not member.isfile() or not (match or Path(member.name).name == "study.json"):
                    continue
                where = f"{archive}:{member.name}"
                if not match:  # study.json: the window's (the shallowest), not a block's
                    depth = member.name.count("/")
                    if study is None or depth < study[0]:
                        study = (depth, _member_json(tar, member, where))
                elif match["name"] == "partial":
                    partial.append(member.name)
                else:
                    data = _member_json(tar, member, where)
                    check_study_run(where, data, match["variant"], int(match["seed"]), recipe)
                    key = (match["variant"], int(match["seed"]))
                    if key in runs:  # each (arm, seed) is in one block of a window: two copies are not the study's
                        raise ValueError(f"duplicate run {key[0]} seed {key[1]}: {runs[key][0]} and {where}")
                    runs[key] = (where, data)
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as error:
        raise ValueError(f"study archive {archive} is unreadable: {' '.join(str(error).split())}") from None
    return runs, partial, study[1] if study else None


def held_runs(work_dir: Path) -> dict[tuple[str, int], Path]:
    """The runs a work dir holds: (variant, seed) -> its metrics.json."""
    found = {}
    for path in sorted((work_dir / "runs").glob("*/seed*/metrics.json")):
        match = RUN_MEMBER.match(path.relative_to(work_dir).as_posix())
        if match:
            found[(match["variant"], int(match["seed"]))] = path
    return found


def study_runs_held(work_dir: Path, recipe: dict[str, Any]) -> tuple[dict[tuple[str, int], Path], dict[Path, str]]:
    """The work dir's runs that are the study's, and the others with why not."""
    good, other = {}, {}
    for (variant, seed), path in held_runs(work_dir).items():
        if not path.is_file():
            raise ValueError(f"--work-dir {work_dir}: {path} is a folder, not a run's metrics.json; remove it")
        try:
            check_study_run(str(path), schemas.parse(path.read_text(), str(path)), variant, seed, recipe)
            good[(variant, seed)] = path
        except ValueError as error:
            other[path] = str(error)
    return good, other


def ingest(archive: Path, work_dir: Path, recipe: dict[str, Any]) -> list[IngestedRun]:
    """Write every complete run of ``archive`` under ``work_dir``; check everything first, write
    nothing on any refusal. The same run again is left as it is; another run of the same arm and
    seed is a duplicate, refused with both paths; runs of another setting in ``work_dir`` are not
    mixed with the study's (they must be moved away first)."""
    check_output_folder(work_dir, "--work-dir")  # before reading the archive
    runs, partial, study = read_archive(archive, recipe)
    if not runs:
        detail = f" ({len(partial)} partial runs: training did not finish its schedule)" if partial else ""
        raise ValueError(f"study archive {archive} holds no complete run{detail}")
    held, other = study_runs_held(work_dir, recipe)
    if other:
        path, reason = next(iter(other.items()))
        raise ValueError(
            f"{work_dir}/runs holds {len(other)} run(s) that are not the study's, e.g. {reason}; "
            f"the study's runs are not mixed with them: move {work_dir}/runs away first"
        )
    planned = []
    for (variant, seed), (where, data) in sorted(runs.items()):
        path = work_dir / "runs" / variant / f"seed{seed}" / "metrics.json"
        text = json.dumps(data, indent=2) + "\n"
        if (variant, seed) in held and path.read_text() != text:
            raise ValueError(f"duplicate run {variant} seed {seed}: {where} and {path} (keep one: move the other away)")
        planned.append((path, text, IngestedRun(variant, seed, path, data["top1"])))
    files = {path: text for path, text, _ in planned}
    if study is not None:
        files[work_dir / "study.json"] = json.dumps(study, indent=2) + "\n"
    check_outputs(list(files), [archive], "--work-dir")
    write_all(files)  # all or nothing: a full disk leaves no half-ingested study
    return [run for _, _, run in planned]
