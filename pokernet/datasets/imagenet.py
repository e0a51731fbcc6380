"""ImageNet (ILSVRC-2012) as users have it.

The raw validation set is one flat ``val/`` of ``ILSVRC2012_val_XXXXXXXX.JPEG``; training reads
ImageFolders (``val/<wnid>/``). ``sort_validation`` moves each image into its class folder from
either ground-truth file: Kaggle's ``LOC_val_solution.csv`` (ImageId, PredictionString
"n01751748 x y x y ...") or the devkit's ``ILSVRC2012_validation_ground_truth.txt`` (one 1-based
ILSVRC2012_ID per line, image i on line i) with the devkit's ``meta.mat`` (or a plain text file of
"ID wnid" lines) mapping each ID to its wnid.

``check_imagenet_classes``: a dataset named ``imagenet`` has ImageNet's 1000 wnid-named classes in
train/ and val/, unless the data root declares itself a subset (a file ``IMAGENET_SUBSET`` in it,
whose text says what the subset is); its figures are then described by ``describe_subset`` and
are not ImageNet's.
"""

from __future__ import annotations

import csv
import filecmp
import os
import re
from dataclasses import dataclass
from pathlib import Path

IMAGENET_CLASSES = 1000
SUBSET_MARKER = "IMAGENET_SUBSET"
WNID = re.compile(r"n\d{8}")
VAL_IMAGE = re.compile(r"ILSVRC2012_val_\d{8}")
IMAGE_SUFFIX = ".JPEG"


# --------------------------------------------------------------------------- ground truth


def read_kaggle_solution(path: Path) -> dict[str, str]:
    """Image id (file stem) -> wnid, from Kaggle's LOC_val_solution.csv."""
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        if not reader.fieldnames or not {"ImageId", "PredictionString"} <= set(reader.fieldnames):
            raise ValueError(
                f"{path}: expected the columns ImageId and PredictionString "
                f"(Kaggle's LOC_val_solution.csv), found {reader.fieldnames}"
            )
        truth = {}
        for line, row in enumerate(reader, start=2):
            words = (row["PredictionString"] or "").split()
            if not words or not WNID.fullmatch(words[0]):
                raise ValueError(f"{path} line {line}: PredictionString does not start with a wnid")
            truth[row["ImageId"]] = words[0]
    return truth


def read_id_to_wnid(path: Path) -> dict[int, str]:
    """ILSVRC2012_ID -> wnid from the devkit's meta.mat, or from a text file of "ID wnid" lines."""
    if path.suffix == ".mat":
        from scipy.io import loadmat

        try:
            synsets = loadmat(str(path), squeeze_me=True)["synsets"]
            return {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets}
        except (KeyError, ValueError, TypeError, IndexError) as error:
            raise ValueError(
                f"{path} is not the devkit's meta.mat (synsets with ILSVRC2012_ID and WNID): {error}"
            ) from None
    mapping = {}
    for line, text in enumerate(path.read_text().splitlines(), start=1):
        words = text.split()
        if not words:
            continue
        if len(words) != 2 or not words[0].isdigit() or not WNID.fullmatch(words[1]):
            raise ValueError(f"{path} line {line}: expected 'ILSVRC2012_ID wnid', got {text!r}")
        mapping[int(words[0])] = words[1]
    return mapping


def read_devkit_truth(path: Path, id_to_wnid: dict[int, str]) -> dict[str, str]:
    """Image id -> wnid from ILSVRC2012_validation_ground_truth.txt (image i on line i)."""
    truth = {}
    for line, text in enumerate(path.read_text().split(), start=1):
        if not text.isdigit() or int(text) not in id_to_wnid:
            raise ValueError(f"{path} line {line}: {text!r} is not an ILSVRC2012_ID of the id map")
        truth[f"ILSVRC2012_val_{line:08d}"] = id_to_wnid[int(text)]
    return truth


def read_ground_truth(path: Path, meta: Path | None) -> dict[str, str]:
    """Image id -> wnid from either ground-truth file (``meta``: needed by the devkit's)."""
    for given, name in ((path, "ground truth"), (meta, "--meta")):
        if given is not None and not given.is_file():
            raise FileNotFoundError(f"{name} {given} does not exist")
    if path.suffix == ".csv":
        return read_kaggle_solution(path)
    if meta is None:
        raise ValueError(
            f"{path} holds ILSVRC2012_IDs: give --meta with the devkit's meta.mat (or a text file of 'ID wnid' lines)"
        )
    return read_devkit_truth(path, read_id_to_wnid(meta))


# --------------------------------------------------------------------------- sorting


@dataclass
class SortPlan:
    moves: list[tuple[Path, Path]]  # flat image -> its class folder
    in_place: int  # images already in their class folder


def plan_sort(val_dir: Path, truth: dict[str, str]) -> SortPlan:
    """The moves that sort ``val_dir``; refuses (ValueError) before anything is moved when an image
    the truth lists is missing, a target holds other content, or the truth misses a flat image."""
    if not val_dir.is_dir():
        raise FileNotFoundError(f"{val_dir} is not a folder")
    flat = sorted(p.stem for p in val_dir.iterdir() if p.is_file() and VAL_IMAGE.fullmatch(p.stem))
    unlisted = [stem for stem in flat if stem not in truth]
    if unlisted:
        raise ValueError(
            f"the ground truth does not cover {len(unlisted)} image(s) of {val_dir} "
            f"(first: {unlisted[0]}{IMAGE_SUFFIX}); nothing moved"
        )
    moves, in_place = [], 0
    for stem, wnid in sorted(truth.items()):
        source, target = val_dir / f"{stem}{IMAGE_SUFFIX}", val_dir / wnid / f"{stem}{IMAGE_SUFFIX}"
        if not source.is_file():
            if not target.is_file():
                raise ValueError(
                    f"{source.name} is listed in the ground truth but is neither in {val_dir} "
                    f"nor in {target.parent}; nothing moved"
                )
            in_place += 1
        elif target.exists() and not filecmp.cmp(source, target, shallow=False):
            raise ValueError(f"{target} exists with other content than {source}; nothing moved")
        else:
            moves.append((source, target))
    return SortPlan(moves, in_place)


def apply_sort(plan: SortPlan) -> None:
    for source, target in plan.moves:
        target.parent.mkdir(exist_ok=True)
        os.replace(source, target)


# --------------------------------------------------------------------------- the 1000 classes


def describe_subset(classes, images) -> str:
    """The header line of a run on a declared subset (``classes``/``images``: counts or collections)."""
    count = classes if isinstance(classes, int) else len(classes)
    total = images if isinstance(images, int) else len(images)
    return f"ImageNet subset: {count} classes, {total} images"


def declared_subset(root: Path) -> bool:
    """Whether the data root declares itself an ImageNet subset (a file IMAGENET_SUBSET in it)."""
    return (root / SUBSET_MARKER).is_file()


def class_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def check_imagenet_classes(root: Path, split_dirs: list[Path]) -> None:
    """ImageNet's 1000 wnid-named classes, the same set in every split, unless ``root`` declares a subset."""
    if declared_subset(root):
        return
    sets = {folder: class_folders(folder) for folder in split_dirs}
    for folder, classes in sets.items():
        odd = [name for name in classes if not WNID.fullmatch(name)]
        if len(classes) != IMAGENET_CLASSES or odd:
            raise ValueError(
                f"{folder} has {len(classes)} class folders{f' (not wnids: {odd[0]}, ...)' if odd else ''}, "
                f"ImageNet has {IMAGENET_CLASSES} wnid-named ones; for a subset write a file {SUBSET_MARKER} "
                f"into {root} saying what it is (its figures are then not compared with the paper's)"
            )
    first, *others = sets.values()
    for folder, classes in zip(list(sets)[1:], others):
        if classes != first:
            raise ValueError(
                f"{folder} has other classes than {split_dirs[0]} (e.g. {sorted(set(classes) ^ set(first))[0]})"
            )


def subset_record(dataset: str, root: str, classes, images) -> dict[str, str | None]:
    """metrics.json's ``imagenet_subset`` of an imagenet run: describe_subset of its classes and the
    validation images its figures are over when the data root declares a subset, else None
    (the whole ImageNet); nothing for other datasets."""
    if dataset != "imagenet":
        return {}
    return {"imagenet_subset": describe_subset(classes, images) if declared_subset(Path(root)) else None}
