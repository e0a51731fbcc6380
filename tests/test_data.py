"""Datasets, subsets and the two input pipelines (in-memory batch ops, streamed ImageFolder)."""

from __future__ import annotations

import gzip

import pytest
import torch
import torchvision.transforms.v2.functional as F

from pokernet.models import create_model
from pokernet.train import data as data_module
from pokernet.train.core import STREAMS, augment_generator, epoch_order, stream_seed, train_subset
from pokernet.train.data import (
    FASHION_MNIST_DEBIAN_DIR,
    FolderPipeline,
    MemoryPipeline,
    MemorySplit,
    augment_batch,
    eval_batch,
    load_data,
    read_idx,
)
from pokernet.train.recipe import load_recipe

NO_JITTER = {"brightness": 0.0, "contrast": 0.0, "saturation": 0.0}


def _data_cfg(**changes):
    cfg = dict(load_recipe("proxy_fashion_mnist")["data"])
    cfg.update(changes)
    return cfg


def _write_idx(path, array: torch.Tensor) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.to(torch.uint8).numpy().tobytes())


@pytest.fixture
def fake_fashion_mnist(tmp_path):
    """Debian's layout (gzip IDX files) with 4 train and 2 test images per class."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for prefix, per_class in (("train", 4), ("t10k", 2)):
        labels = torch.arange(10).repeat_interleave(per_class)
        images = (labels * 20).view(-1, 1, 1).expand(-1, 28, 28)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


def test_class_balanced_subset_is_deterministic_and_balanced():
    labels = torch.arange(5).repeat(40)[torch.randperm(200)]
    first = train_subset(labels, 7, seed=0)
    assert torch.equal(first, train_subset(labels, 7, seed=0))
    assert torch.bincount(labels[first]).tolist() == [7] * 5
    assert len(train_subset(labels, 100, seed=0)) == 200  # a class with fewer: all of it


def test_each_seed_draws_its_own_train_subset():
    labels = torch.arange(10).repeat(600)
    subsets = [set(train_subset(labels, 50, seed).tolist()) for seed in range(5)]
    assert all(len(subset) == 500 for subset in subsets)
    for one in range(5):
        for other in range(one + 1, 5):
            assert len(subsets[one] & subsets[other]) < 250, (one, other)  # chance overlap ~ 42


def test_no_seed_replays_another_seeds_epoch_order():
    # DistributedSampler(seed=s).set_epoch(e) seeded one generator with s + e: seed s at epoch e
    # replayed seed s+1 at epoch e-1. Every (seed, epoch) order here is its own.
    orders = {
        (seed, epoch): tuple(epoch_order(500, seed, epoch, 50).flatten().tolist())
        for seed in range(6)
        for epoch in range(6)
    }
    assert len(set(orders.values())) == len(orders)
    assert all(sorted(order) == list(range(500)) for order in orders.values())
    seeds = {stream_seed(stream, *range(len(parts))) for stream, parts in STREAMS.items()}
    assert len(seeds) == len(STREAMS)  # the streams of one seed differ from each other too


def test_fashion_mnist_from_a_folder_the_test_writes(fake_fashion_mnist):
    data = load_data("fashion_mnist", fake_fashion_mnist, subset=3)
    assert data.train.images.shape == (30, 1, 28, 28) and data.train.images.dtype == torch.uint8
    assert data.val.images.shape == (20, 1, 28, 28)  # 2 per class: the whole test split
    assert len(data.classes) == 10 and data.source == str(fake_fashion_mnist)
    assert torch.equal(data.train.images[:, 0, 0, 0].long(), data.train.labels * 20)


@pytest.mark.skipif(
    not FASHION_MNIST_DEBIAN_DIR.is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_debian_package():
    data = load_data("fashion_mnist", subset=20)
    assert data.source == str(FASHION_MNIST_DEBIAN_DIR)
    assert len(data.train) == 200 and len(data.val) == 10_000  # the whole official test split
    assert torch.bincount(data.train.labels).tolist() == [20] * 10


def test_truncated_idx_file_is_a_clear_error(fake_fashion_mnist):
    path = fake_fashion_mnist / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        read_idx(path)


def test_missing_fashion_mnist_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "FASHION_MNIST_DEBIAN_DIR", tmp_path / "not-installed")
    monkeypatch.setenv("POKERNET_DATA_ROOT", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError) as error:
        load_data("fashion_mnist")
    message = str(error.value)
    for expected in ("not-installed", str(tmp_path / "cache"), "apt-get install dataset-fashion-mnist", "--download"):
        assert expected in message


@pytest.mark.parametrize("name, hint", [("cifar10", "--download"), ("imagenet", "train/ and val/")])
def test_missing_folder_datasets_are_clear_errors(tmp_path, name, hint):
    with pytest.raises(FileNotFoundError) as error:
        load_data(name, tmp_path)
    assert str(tmp_path) in str(error.value) and hint in str(error.value)


def test_subset_takes_train_images_only_and_val_stays_whole(fake_fashion_mnist):
    data = load_data("fashion_mnist", fake_fashion_mnist, subset=1)
    assert len(data.train) == 10 and len(data.val) == 20


def test_image_folder_decodes_to_memory_and_subsets(train_image_folder):
    data = load_data("cifar10", train_image_folder, subset=1)  # an ImageFolder copy of "cifar10"
    assert data.in_memory and data.classes == ["circle", "square", "stripe"]
    assert data.train.images.shape == (3, 3, 20, 20) and data.val.images.shape == (6, 3, 20, 20)
    resized = load_data("imagenet", train_image_folder, subset=1, resize=8)
    assert resized.train.images.shape == (3, 3, 8, 8)


def test_corrupt_image_is_reported_by_path(train_image_folder):
    bad = train_image_folder / "train" / "square" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ValueError, match="broken.png"):
        load_data("imagenet", train_image_folder, subset=10)


def test_augment_batch_crops_flips_and_normalizes():
    cfg = _data_cfg(color_jitter=NO_JITTER, pad=2, resolution=28, mean=[0, 0, 0], std=[1, 1, 1])
    images = torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8)
    torch.manual_seed(0)
    out = augment_batch(images, cfg)
    assert out.shape == (16, 3, 28, 28) and out.dtype == torch.float32
    padded = torch.nn.functional.pad(images, [2, 2, 2, 2]).float() / 255
    for image, result in zip(padded, out):
        crops = [image[0, y : y + 28, x : x + 28] for y in range(5) for x in range(5)]
        assert any(torch.equal(result[0], c) or torch.equal(result[0], c.flip(-1)) for c in crops)
        assert torch.equal(result[0], result[2])  # gray replicated to 3 channels


def test_augment_batch_jitters_each_image_and_stays_in_range():
    cfg = _data_cfg(
        mean=[0, 0, 0],
        std=[1, 1, 1],
        hflip=False,
        pad=0,
        resolution=8,
        color_jitter={"brightness": 0.4, "contrast": 0.4, "saturation": 0.4},
    )
    images = torch.full((8, 3, 8, 8), 128, dtype=torch.uint8)
    out = augment_batch(images, cfg)
    assert out.min() >= 0 and out.max() <= 1
    assert len(out.mean(dim=(1, 2, 3)).unique()) > 1  # a factor per image, not per batch


def test_eval_batch_pads_28_to_32_centered():
    cfg = _data_cfg(mean=[0, 0, 0], std=[1, 1, 1], resolution=32)
    out = eval_batch(torch.full((2, 1, 28, 28), 255, dtype=torch.uint8), cfg)
    assert out.shape == (2, 3, 32, 32)
    assert out[:, :, 2:30, 2:30].eq(1).all() and out[:, :, :2].eq(0).all() and out[:, :, :, 30:].eq(0).all()


def test_memory_pipeline_shards_over_ranks_and_keeps_the_global_batch():
    split = MemorySplit(torch.zeros(20, 1, 28, 28, dtype=torch.uint8), torch.arange(20) % 10)
    cfg = _data_cfg()
    shards = [MemoryPipeline(split, split, cfg, batch_size=5, rank=r, world_size=2, seed=3) for r in (0, 1)]
    orders = [p.plan(0).order.flatten() for p in shards]
    assert set(orders[0].tolist()).isdisjoint(orders[1].tolist())
    whole = epoch_order(20, 3, 0, 20)[0]  # each rank takes its share of the one epoch order
    assert torch.equal(orders[0], whole[0::2]) and torch.equal(orders[1], whole[1::2])
    assert sorted(orders[0].tolist() + orders[1].tolist()) == list(range(20))
    assert [p.steps_per_epoch() for p in shards] == [2, 2]
    assert sum(len(y) for p in shards for _, y in p.val_batches()) == 20


def test_streamed_and_in_memory_evaluation_see_the_same_pixels(train_image_folder):
    cfg = _data_cfg(resolution=16, resize=None)
    streamed = load_data("imagenet", train_image_folder)
    in_memory = load_data("imagenet", train_image_folder, subset=100)
    assert not streamed.in_memory and in_memory.in_memory
    folder = FolderPipeline(streamed.train, streamed.val, cfg, batch_size=4, workers=0)
    memory = MemoryPipeline(in_memory.train, in_memory.val, cfg, batch_size=4)
    for (a, la), (b, lb) in zip(folder.val_batches(), memory.val_batches()):
        assert torch.equal(la, lb) and torch.allclose(a, b)
    x, y = next(iter(folder.train_batches(0)))
    assert x.shape == (4, 3, 16, 16) and y.shape == (4,)


def _augmented_epoch(seed: int, model_name: str, epoch: int = 0) -> list[torch.Tensor]:
    """One epoch of augmented batches, with a model built (and run) between batches as training
    does: model init and dropout draw from torch's global generator."""
    pixels = torch.randint(0, 256, (24, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    split = MemorySplit(pixels, torch.arange(24) % 10)
    cfg = _data_cfg(color_jitter={"brightness": 0.4, "contrast": 0.4, "saturation": 0.4})
    pipeline = MemoryPipeline(split, split, cfg, batch_size=8, seed=seed)
    torch.manual_seed(seed)
    model = create_model(model_name, num_classes=10).train()
    batches = []
    for x, _ in pipeline.train_batches(epoch):
        model(x[:2])  # dropout and any other global draws in between
        batches.append(x)
    return batches


def test_arms_paired_by_seed_see_identical_augmented_batches():
    poker, ghost = _augmented_epoch(3, "pokernet_050"), _augmented_epoch(3, "ghostnet_050")
    assert len(poker) == 3 and all(torch.equal(a, b) for a, b in zip(poker, ghost))
    other_seed = _augmented_epoch(4, "pokernet_050")
    assert not any(torch.equal(a, b) for a, b in zip(poker, other_seed))
    next_epoch = _augmented_epoch(3, "pokernet_050", epoch=1)
    assert not any(torch.equal(a, b) for a, b in zip(poker, next_epoch))


def test_augmentation_draws_only_from_its_generator():
    images = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    cfg = _data_cfg(resolution=12, pad=2, color_jitter={"brightness": 0.4, "contrast": 0.4, "saturation": 0.4})
    torch.manual_seed(0)
    first = augment_batch(images, cfg, augment_generator(5, 0))
    global_state = torch.get_rng_state()
    torch.manual_seed(123)
    assert torch.equal(first, augment_batch(images, cfg, augment_generator(5, 0)))
    torch.manual_seed(0)
    augment_batch(images, cfg, augment_generator(5, 0))
    assert torch.equal(torch.get_rng_state(), global_state)  # the global stream is untouched
    assert not torch.equal(first, augment_batch(images, cfg, augment_generator(5, 0, rank=1)))


def test_in_memory_data_is_resized_once_at_load(fake_fashion_mnist):
    data = load_data("fashion_mnist", fake_fashion_mnist, subset=1, resize=40)
    assert data.train.images.shape == (10, 1, 40, 40) and data.val.images.shape == (20, 1, 40, 40)
    assert data.train.images.dtype == torch.uint8
    # a flat image stays flat (its value is the class times 20)
    assert torch.equal(data.train.images[:, 0, 20, 20].long(), data.train.labels * 20)


def test_the_validation_holdout_is_fixed_balanced_and_no_train_subset_touches_it():
    labels = torch.arange(10).repeat(60)[torch.randperm(600, generator=torch.Generator().manual_seed(1))]
    pool, holdout = data_module.divide(labels, "fashion_mnist")  # 60 per class: a sixth, 10 per class
    assert torch.bincount(labels[holdout]).tolist() == [10] * 10
    assert sorted(pool.tolist() + holdout.tolist()) == list(range(600))
    assert torch.equal(holdout, data_module.divide(labels, "fashion_mnist")[1])  # one fixed draw
    for seed in range(20):
        chosen = data_module._train_indices(labels, pool, 40, seed)
        assert (
            set(chosen.tolist()).isdisjoint(holdout.tolist()) and torch.bincount(labels[chosen]).tolist() == [40] * 10
        )


def test_eval_split_val_never_reads_the_test_split(tmp_path):
    labels = torch.arange(10).repeat_interleave(12)  # 12 train images per class: 2 held out
    images = (torch.arange(120) * 2).view(-1, 1, 1).expand(-1, 28, 28)  # each image its own value
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    for stem in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / stem).write_bytes(b"not an IDX file: reading it would fail")
    data = load_data("fashion_mnist", tmp_path, subset=5, eval_split="val")
    assert data.eval_split == "val" and torch.bincount(data.val.labels).tolist() == [2] * 10
    assert torch.bincount(data.train.labels).tolist() == [5] * 10
    held, trained = set(data.val.images[:, 0, 0, 0].tolist()), set(data.train.images[:, 0, 0, 0].tolist())
    assert len(held) == 20 and held.isdisjoint(trained)
    with pytest.raises(ValueError, match="t10k-images"):
        load_data("fashion_mnist", tmp_path, subset=5)  # the test split is read only when evaluated


def test_eval_split_test_keeps_the_subset_it_always_drew(fake_fashion_mnist):
    data = load_data("fashion_mnist", fake_fashion_mnist, subset=2, seed=5)
    everything = load_data("fashion_mnist", fake_fashion_mnist)
    expected = train_subset(everything.train.labels, 2, 5)
    assert torch.equal(data.train.images, everything.train.images[expected]) and data.eval_split == "test"


def test_a_streamed_holdout_has_its_own_transforms(train_image_folder):
    data = load_data("imagenet", train_image_folder, eval_split="val")  # 6 train images per class: 1 held out
    assert not data.in_memory and len(data.val) == 3 and len(data.train) == 15
    assert {s for s, _ in data.val.samples}.isdisjoint(s for s, _ in data.train.samples)
    pipeline = FolderPipeline(data.train, data.val, _data_cfg(resolution=16, resize=None), batch_size=3, workers=0)
    assert data.train.transform is not data.val.transform
    assert sum(len(y) for _, y in pipeline.val_batches()) == 3


def _jitter_in_order(images, draws, cfg, order=("brightness", "contrast", "saturation")):
    """The oracle: crop and flip by the draws, then torchvision's own jitter functions in ``order``."""
    size, out = cfg["resolution"], []
    padded = torch.nn.functional.pad(images, data_module.padding(*images.shape[-2:], cfg))
    adjust = {"brightness": F.adjust_brightness, "contrast": F.adjust_contrast, "saturation": F.adjust_saturation}
    for index, image in enumerate(padded.float() / 255):
        top, left = int(draws.top[index]), int(draws.left[index])
        x = image[:, top : top + size, left : left + size]
        x = x.flip(-1) if draws.flip[index] else x
        for name in order:
            x = adjust[name](x, float(getattr(draws, name)[index]))
        out.append(x)
    return torch.stack(out)


def test_both_pipelines_jitter_brightness_then_contrast_then_saturation():
    cfg = _data_cfg(resolution=12, pad=2, color_jitter={"brightness": 0.4, "contrast": 0.4, "saturation": 0.4})
    images = torch.randint(0, 256, (6, 3, 12, 12), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    draws = data_module.draw_augmentation(torch.Generator().manual_seed(3), 6, 12, 12, cfg)
    expected = _jitter_in_order(images, draws, cfg)
    assert torch.allclose(data_module.augment_pixels(images, draws, cfg), expected, atol=1e-5)  # in memory
    streamed = []
    for index, image in enumerate(images):  # a streaming worker: its draws from torch's global generator
        torch.manual_seed(index)
        streamed.append(data_module.AugmentImage(cfg)(image))
        torch.manual_seed(index)
        one = data_module.draw_augmentation(None, 1, 12, 12, cfg)
        assert torch.allclose(streamed[-1], _jitter_in_order(image[None], one, cfg)[0], atol=1e-5)
    # the oracle tells the orders apart: ColorJitter's random order would not pass
    assert not torch.allclose(_jitter_in_order(images, draws, cfg, ("contrast", "brightness", "saturation")), expected)
