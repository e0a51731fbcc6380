"""Shared fixtures. Training fixtures (issue 3) are prefixed ``train_``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

TRAIN_CLASSES = ("circle", "square", "stripe")


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``pokernet ARGV`` in this process: exit code (argparse's usage errors included), stdout, stderr."""
    from pokernet.cli import main

    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_fails(argv: list[str], capsys, *expected: str) -> tuple[str, str]:
    """Exit code 2, one line on stderr, no traceback, every ``expected`` text in it; (stdout, stderr)."""
    code, out, err = run_cli(argv, capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return out, err


TRAIN_COLORS = ((220, 40, 40), (40, 200, 60), (40, 60, 220))


@pytest.fixture
def train_image_folder(tmp_path: Path) -> Path:
    """A tiny ImageFolder written by the test: train/ and val/, 3 classes of 20x20 PNGs
    (6 train and 2 val images per class), each class tinted its own color so it is learnable;
    declared an ImageNet subset (IMAGENET_SUBSET), as it is read as imagenet."""
    from PIL import Image

    generator = torch.Generator().manual_seed(0)
    root = tmp_path / "folder_data"
    root.mkdir()
    (root / "IMAGENET_SUBSET").write_text("3 made-up classes of a test (pokernet.datasets.imagenet)\n")
    for split, count in (("train", 6), ("val", 2)):
        for name, color in zip(TRAIN_CLASSES, TRAIN_COLORS):
            (root / split / name).mkdir(parents=True)
            for index in range(count):
                noise = torch.randint(-30, 30, (20, 20, 3), generator=generator)
                pixels = (torch.tensor(color) + noise).clamp(0, 255).to(torch.uint8)
                Image.fromarray(pixels.numpy()).save(root / split / name / f"{index}.png")
    return root


@pytest.fixture
def train_tiny_recipe(tmp_path: Path) -> Path:
    """A 2-epoch, batch-6, 16x16 recipe derived from the paper's (runs in a second on a CPU)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\n"
        "derives_from: imagenet\n"
        "changes: ['epochs, batch_size, data.*: a test-sized run']\n"
        "epochs: 2\n"
        "batch_size: 6\n"
        "data: {resolution: 16, resize: null, pad: 2}\n"
    )
    return path


@pytest.fixture
def train_keep_threads():
    """Training sets torch's thread count; give the next tests the count they had."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


# A PokerNet small enough for tests: 0.25x width, 32-wide head.
TRAIN_TINY_MODEL = ["--model", "pokernet_050", "--width", "0.25", "--head-chs", "32"]


@pytest.fixture
def train_tiny_model() -> list[str]:
    return list(TRAIN_TINY_MODEL)


@pytest.fixture
def train_args(train_tiny_model, train_image_folder, train_tiny_recipe):
    """``pokernet train`` arguments for the tiny model on the tiny folder: args(out, *extra)."""

    def args(out, *extra):
        return [
            "train",
            *train_tiny_model,
            "--data",
            "imagenet",
            "--data-root",
            str(train_image_folder),
            "--subset",
            "6",
            "--recipe",
            str(train_tiny_recipe),
            "--threads",
            "1",
            "--out",
            str(out),
            *extra,
        ]

    return args


# The fast tier (`python -m pytest -m "not slow"`) leaves out every test that starts a process
# (Snakemake, the CLI in a subprocess) or trains a model: those whose source names one of these,
# or that use a fixture which trains. Marked here so that a new such test joins the slow tier.
SLOW_SIGNS = ("subprocess", "sys.executable", "snakemake", "_snakemake(", "study_main([", "train_window(")
SLOW_FIXTURES = {"train_args", "study_archive", "tiny_metrics", "tiny_fused", "workflow_copy"}
# Compute-bound tests measured at several seconds each (counting every layer of the model zoo).
SLOW_TESTS = (
    "test_width_family_matches_the_registered_models",
    "test_summary_prints_the_counted_claims",
    "test_selection_rows_contradict_table1_exactly_at_blocks_4_and_7",
    "test_kinds_sum_to_the_flop_counter_total",
)


def pytest_collection_modifyitems(items):
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        if function is None or "slow" in item.keywords:
            continue
        source = inspect.getsource(function)
        slow_source = any(sign in source for sign in SLOW_SIGNS) or function.__name__ in SLOW_TESTS
        if slow_source or SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
