"""`pokernet data prepare-imagenet` and the 1000-class check, on a made-up ILSVRC-2012 tree (issue 20, item 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import cli_fails, run_cli

from pokernet.datasets.imagenet import IMAGENET_CLASSES, SUBSET_MARKER, describe_subset
from pokernet.train.data import load_data

WNIDS = ("n01440764", "n01443537", "n01484850")  # ILSVRC2012_IDs 1, 2, 3 in this made-up devkit
LABELS = (1, 2, 3, 1, 3)  # image i's ID: ILSVRC2012_val_0000000i


def image_name(index: int) -> str:
    return f"ILSVRC2012_val_{index:08d}.JPEG"


@pytest.fixture
def raw_val(tmp_path: Path) -> Path:
    """A flat val/ of 5 tiny JPEGs, each a different colour (so contents differ)."""
    from PIL import Image

    val = tmp_path / "val"
    val.mkdir()
    for index in range(1, len(LABELS) + 1):
        Image.new("RGB", (4, 4), (40 * index, 0, 0)).save(val / image_name(index), "JPEG")
    return val


@pytest.fixture
def kaggle_csv(tmp_path: Path) -> Path:
    path = tmp_path / "LOC_val_solution.csv"
    rows = [
        f"{image_name(i)[:-5]},{WNIDS[label - 1]} 1 2 3 4 {WNIDS[label - 1]} 5 6 7 8"
        for i, label in enumerate(LABELS, start=1)
    ]
    path.write_text("ImageId,PredictionString\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def devkit(tmp_path: Path) -> tuple[Path, Path]:
    """The devkit's ground truth and its meta.mat (synsets: ILSVRC2012_ID, WNID)."""
    from scipy.io import savemat

    truth = tmp_path / "ILSVRC2012_validation_ground_truth.txt"
    truth.write_text("".join(f"{label}\n" for label in LABELS))
    synsets = np.zeros((len(WNIDS),), dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O")])
    for index, wnid in enumerate(WNIDS):
        synsets[index] = (index + 1, wnid)
    meta = tmp_path / "meta.mat"
    savemat(meta, {"synsets": synsets})
    return truth, meta


def sorted_layout(val: Path) -> dict[str, list[str]]:
    return {
        folder.name: sorted(p.name for p in folder.iterdir()) for folder in sorted(val.iterdir()) if folder.is_dir()
    }


EXPECTED = {
    WNIDS[0]: [image_name(1), image_name(4)],
    WNIDS[1]: [image_name(2)],
    WNIDS[2]: [image_name(3), image_name(5)],
}


def truth_args(kind: str, kaggle_csv: Path, devkit: tuple[Path, Path], tmp_path: Path) -> list[str]:
    if kind == "kaggle":
        return ["--ground-truth", str(kaggle_csv)]
    if kind == "devkit":
        return ["--ground-truth", str(devkit[0]), "--meta", str(devkit[1])]
    id_map = tmp_path / "id_to_wnid.txt"
    id_map.write_text("".join(f"{i} {wnid}\n" for i, wnid in enumerate(WNIDS, start=1)))
    return ["--ground-truth", str(devkit[0]), "--meta", str(id_map)]


@pytest.mark.parametrize("kind", ["kaggle", "devkit", "text_map"])
def test_sorts_from_either_ground_truth_and_a_second_run_moves_nothing(
    kind, raw_val, kaggle_csv, devkit, tmp_path, capsys
):
    args = ["data", "prepare-imagenet", str(raw_val), *truth_args(kind, kaggle_csv, devkit, tmp_path)]
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "moved 5 images into 3 class folders" in out
    assert sorted_layout(raw_val) == EXPECTED and not list(raw_val.glob("*.JPEG"))
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "nothing to move (5 images already in their class folders)" in out
    assert sorted_layout(raw_val) == EXPECTED


def test_moves_not_copies(raw_val, kaggle_csv, capsys):
    inode = (raw_val / image_name(2)).stat().st_ino
    assert run_cli(["data", "prepare-imagenet", str(raw_val), "--ground-truth", str(kaggle_csv)], capsys)[0] == 0
    assert (raw_val / WNIDS[1] / image_name(2)).stat().st_ino == inode


def test_dry_run_moves_nothing(raw_val, kaggle_csv, capsys):
    before = sorted(p.name for p in raw_val.iterdir())
    code, out, _ = run_cli(
        ["data", "prepare-imagenet", str(raw_val), "--ground-truth", str(kaggle_csv), "--dry-run"], capsys
    )
    assert code == 0 and "would move 5 images into 3 class folders" in out and "nothing moved" in out
    assert f"would move {raw_val / image_name(1)} -> {raw_val / WNIDS[0] / image_name(1)}" in out
    assert sorted(p.name for p in raw_val.iterdir()) == before


def test_a_half_sorted_folder_is_finished(raw_val, kaggle_csv, capsys):
    (raw_val / WNIDS[1]).mkdir()
    (raw_val / image_name(2)).rename(raw_val / WNIDS[1] / image_name(2))
    code, out, _ = run_cli(["data", "prepare-imagenet", str(raw_val), "--ground-truth", str(kaggle_csv)], capsys)
    assert code == 0 and "moved 4 images" in out and "(1 were already in place)" in out
    assert sorted_layout(raw_val) == EXPECTED


def refuses_and_moves_nothing(raw_val: Path, args: list[str], capsys, *expected: str) -> None:
    before = sorted(str(p.relative_to(raw_val)) for p in raw_val.rglob("*"))
    cli_fails(["data", "prepare-imagenet", str(raw_val), *args], capsys, *expected)
    assert sorted(str(p.relative_to(raw_val)) for p in raw_val.rglob("*")) == before


def test_refuses_a_listed_image_that_is_missing(raw_val, kaggle_csv, capsys):
    (raw_val / image_name(4)).unlink()
    refuses_and_moves_nothing(raw_val, ["--ground-truth", str(kaggle_csv)], capsys, image_name(4), "nothing moved")


def test_refuses_a_target_with_other_content(raw_val, kaggle_csv, capsys):
    (raw_val / WNIDS[2]).mkdir()
    (raw_val / WNIDS[2] / image_name(3)).write_bytes(b"another image")
    refuses_and_moves_nothing(raw_val, ["--ground-truth", str(kaggle_csv)], capsys, "other content", image_name(3))


def test_refuses_ground_truth_that_does_not_cover_every_image(raw_val, kaggle_csv, capsys):
    (raw_val / image_name(6)).write_bytes((raw_val / image_name(1)).read_bytes())
    refuses_and_moves_nothing(
        raw_val, ["--ground-truth", str(kaggle_csv)], capsys, "does not cover 1 image", image_name(6)
    )


@pytest.mark.parametrize(
    "case, expected",
    [
        ("devkit_without_meta", "give --meta"),
        ("wrong_csv", "ImageId and PredictionString"),
        ("unknown_id", "is not an ILSVRC2012_ID"),
        ("missing_file", "does not exist"),
    ],
)
def test_refuses_bad_ground_truth_in_one_line(case, expected, raw_val, devkit, tmp_path, capsys):
    truth, meta = devkit
    args = {
        "devkit_without_meta": ["--ground-truth", str(truth)],
        "missing_file": ["--ground-truth", str(tmp_path / "nope.csv")],
    }.get(case)
    if case == "wrong_csv":
        (tmp_path / "wrong.csv").write_text("id,label\nx,y\n")
        args = ["--ground-truth", str(tmp_path / "wrong.csv")]
    if case == "unknown_id":
        truth.write_text("1\n2\n7\n1\n3\n")
        args = ["--ground-truth", str(truth), "--meta", str(meta)]
    refuses_and_moves_nothing(raw_val, args, capsys, expected)


# --------------------------------------------------------------------------- the 1000-class check


def image_tree(root: Path, classes: dict[str, list[str]]) -> Path:
    """root/train and root/val with one tiny PNG per class (``classes``: split -> class names)."""
    from PIL import Image

    for split, names in classes.items():
        for name in names:
            (root / split / name).mkdir(parents=True)
            Image.new("RGB", (4, 4), (200, 0, 0)).save(root / split / name / "0.png")
    return root


def test_a_folder_of_a_few_classes_is_not_imagenet(tmp_path, capsys):
    root = image_tree(tmp_path / "ten", {"train": list(WNIDS), "val": list(WNIDS)})
    with pytest.raises(ValueError, match=f"has 3 class folders, ImageNet has {IMAGENET_CLASSES}.*{SUBSET_MARKER}"):
        load_data("imagenet", root)


def test_the_1000_classes_pass_and_must_be_the_same_set_in_both_splits(tmp_path):
    wnids = [f"n{index:08d}" for index in range(IMAGENET_CLASSES)]
    root = tmp_path / "imagenet"
    for split in ("train", "val"):
        for wnid in wnids:
            (root / split / wnid).mkdir(parents=True)
    from pokernet.datasets.imagenet import check_imagenet_classes

    check_imagenet_classes(root, [root / "train", root / "val"])
    (root / "val" / wnids[-1]).rename(root / "val" / "n99999999")
    with pytest.raises(ValueError, match="other classes than"):
        check_imagenet_classes(root, [root / "train", root / "val"])
    (root / "val" / "n99999999").rename(root / "val" / "cat")
    with pytest.raises(ValueError, match="not wnids: cat"):
        check_imagenet_classes(root, [root / "train", root / "val"])


def test_a_declared_subset_loads_and_describes_itself(tmp_path):
    from pokernet.datasets.imagenet import subset_record

    root = image_tree(tmp_path / "ten", {"train": list(WNIDS), "val": list(WNIDS)})
    (root / SUBSET_MARKER).write_text("3 classes for a test\n")
    data = load_data("imagenet", root)
    assert data.classes == list(WNIDS)
    assert describe_subset(data.classes, len(data.val)) == "ImageNet subset: 3 classes, 3 images"
    assert subset_record("imagenet", data.source, data.classes, len(data.val)) == {
        "imagenet_subset": "ImageNet subset: 3 classes, 3 images"
    }
    assert subset_record("cifar10", data.source, data.classes, 3) == {}


def test_a_training_run_on_a_declared_subset_records_it(train_args, tmp_path, capsys, train_keep_threads):
    import json

    code, _out, err = run_cli(train_args(tmp_path / "run"), capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["imagenet_subset"] == "ImageNet subset: 3 classes, 6 images"


def test_metrics_schema_takes_the_subset_line_or_null_only():
    from pokernet import schemas

    base = {
        "model": "m",
        "model_options": {},
        "top1": 1.0,
        "top5": 2.0,
        "epochs": 1,
        "seed": 0,
        "dataset": "imagenet",
        "resolution": 8,
        "config_hash": "x",
    }
    for value in (None, describe_subset(100, 5000)):
        schemas.check("metrics", {**base, "imagenet_subset": value}, "metrics.json")
    with pytest.raises(ValueError, match="imagenet_subset must be null"):
        schemas.check("metrics", {**base, "imagenet_subset": "10 classes"}, "metrics.json")
