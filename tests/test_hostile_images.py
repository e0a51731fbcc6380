"""Hostile ImageFolder data (issue 28, item 6): a symlink loop as a class folder, text named .jpg, a
20000x20000 decompression bomb, an empty class are one line naming the thing, exit 2, nothing written
to the run folder; CMYK, 16-bit and grayscale images mixed in and non-ASCII class names train."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import TRAIN_CLASSES, cli_fails, run_cli
from PIL import Image


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares ``width`` x ``height`` (8-bit RGB) with a few bytes of data: a bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _first_class(root: Path, split: str = "train") -> Path:
    return root / split / TRAIN_CLASSES[0]


def _text_named_jpg(root: Path) -> str:
    (_first_class(root) / "notes.jpg").write_text("this is not an image\n")
    return "notes.jpg"


def _bomb(root: Path) -> str:
    _png_header_only(_first_class(root) / "bomb.png", 20000, 20000)
    return "bomb.png"


def _empty_class(root: Path) -> str:
    for split in ("train", "val"):
        (root / split / "zebra").mkdir()
    return "zebra"


def _loop_class(root: Path) -> str:
    for split in ("train", "val"):
        (root / split / "loop").symlink_to(root / split / "loop")
    return "loop"


@pytest.mark.slow
@pytest.mark.parametrize("make", [_text_named_jpg, _bomb, _empty_class, _loop_class])
@pytest.mark.parametrize("streamed", [False, True], ids=["decoded-to-memory", "streamed"])
def test_a_hostile_image_folder_is_one_line_and_writes_nothing(
    tmp_path, capsys, train_args, train_image_folder, make, streamed
):
    named = make(train_image_folder)
    run = tmp_path / "run"
    argv = train_args(run)
    if streamed:  # no --subset: the folder is read by DataLoader workers (FolderPipeline)
        at = argv.index("--subset")
        argv[at : at + 2] = ["--workers", "1", "--device", "cpu"]
    cli_fails(argv, capsys, named)
    assert not (run / "metrics.json").exists() and not (run / "checkpoint.pt").exists()


def _mixed_modes(root: Path) -> None:
    """Each class gets a CMYK JPEG, a 16-bit grayscale PNG, an 8-bit grayscale PNG and a palette PNG."""
    for split in ("train", "val"):
        for name in TRAIN_CLASSES:
            folder = root / split / name
            base = Image.open(next(folder.glob("*.png"))).convert("RGB")
            base.convert("CMYK").save(folder / "cmyk.jpg")
            Image.fromarray(np.asarray(base.convert("L"), dtype="uint16") * 257).save(folder / "gray16.png")
            base.convert("L").save(folder / "gray8.png")
            base.convert("P").save(folder / "palette.png")


@pytest.mark.slow
def test_mixed_image_modes_and_non_ascii_class_names_train(tmp_path, capsys, train_args, train_image_folder):
    _mixed_modes(train_image_folder)
    for split in ("train", "val"):
        (train_image_folder / split / TRAIN_CLASSES[1]).rename(train_image_folder / split / "ñandú-鳥")
    run = tmp_path / "run"
    code, _, err = run_cli(train_args(run, "--subset", "10"), capsys)
    assert code == 0, err
    assert (run / "metrics.json").is_file()
