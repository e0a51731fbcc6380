"""DDP on CPU: 2 processes (gloo) train a few steps and end with identical weights."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from pokernet.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from pokernet.train.engine import METRICS_NAME

pytestmark = pytest.mark.usefixtures("train_keep_threads")
WORLD = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank_main(rank: int, port: int, recipe_path: str, data_root: str, out_dir: str, weights_dir: str) -> None:
    """What torchrun would start: one process per rank, told its place by the environment."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        LOCAL_WORLD_SIZE=str(WORLD),
    )
    from pokernet.train.engine import TrainConfig, train
    from pokernet.train.recipe import load_recipe, resolve_recipe

    recipe = resolve_recipe(load_recipe(recipe_path), "pokernet_050")
    result = train(
        TrainConfig(
            model="pokernet_050",
            model_options={"width": 0.25, "head_chs": 32},
            recipe=recipe,
            dataset="imagenet",
            out_dir=Path(out_dir),
            data_root=data_root,
            subset=6,
            seed=0,
            threads=1,
            device="cpu",
            progress=False,
        )
    )
    torch.save(result.model.state_dict(), Path(weights_dir) / f"rank{rank}.pt")


def test_two_gloo_ranks_end_with_identical_weights(tmp_path, train_image_folder, train_tiny_recipe):
    run_dir, weights_dir = tmp_path / "run", tmp_path / "weights"
    weights_dir.mkdir()
    mp.spawn(
        _rank_main,
        args=(_free_port(), str(train_tiny_recipe), str(train_image_folder), str(run_dir), str(weights_dir)),
        nprocs=WORLD,
        join=True,
    )

    ranks = [torch.load(weights_dir / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    for name, tensor in ranks[0].items():  # parameters and BN statistics
        assert torch.equal(tensor, ranks[1][name]), name
    assert sorted(p.name for p in run_dir.iterdir()) == [CHECKPOINT_NAME, METRICS_NAME, "train.log"]

    metrics = json.loads((run_dir / METRICS_NAME).read_text())
    assert metrics["world_size"] == WORLD
    assert metrics["recipe"]["batch_size"] == 6  # the global batch of the recipe...
    assert metrics["recipe"]["resolved"]["lr"] == pytest.approx(0.5 * 6 / 1024)  # ...and its lr
    assert "batch 6 (2 x 3)" in (run_dir / "train.log").read_text()
    checkpoint = load_checkpoint(run_dir)
    assert len(checkpoint["rng_states"]) == WORLD
    # the sampler shards: each epoch sees the 18 training images once in total, not once per rank
    assert checkpoint["totals"]["train_images"] == 2 * metrics["train_size"]
    for name, tensor in checkpoint["model_state"].items():
        assert torch.equal(tensor, ranks[0][name]), name
