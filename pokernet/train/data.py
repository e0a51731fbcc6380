"""Datasets, class-balanced subsets and the two input pipelines.

``load_data`` is one pass: the dataset's splits as found (Fashion-MNIST's IDX files, an ImageFolder copy,
ImageNet) -> the evaluated split (the official test split, or ``eval_split="val"``: a fixed holdout carved
from the train split, whose remainder is the train pool) -> the run's class-balanced subset -> memory (or
a lazy ImageFolder). Both pipelines apply one augmentation rule (``augment_pixels``).

Data that fits in memory (Fashion-MNIST, CIFAR-10, any ``--subset``) is decoded once into
a uint8 tensor and augmented a whole batch at a time with tensor ops on the training
device (``MemoryPipeline``): on a 2-core CPU a per-image PIL pipeline in worker processes
would compete with the model for the cores. Full ImageNet streams from disk through
torchvision's ImageFolder and PIL transforms in DataLoader workers (``FolderPipeline``).
Both pipelines yield normalized float batches ready for the model.
"""

from __future__ import annotations

import copy
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as nnf
import torchvision.transforms.v2 as T
import torchvision.transforms.v2.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Subset, default_collate
from torchvision.datasets import CIFAR10, FashionMNIST, ImageFolder
from torchvision.datasets.mnist import read_image_file, read_label_file

from pokernet.datasets.imagenet import check_imagenet_classes

from .core import (
    AugmentDraws,
    EpochPlan,
    augment_generator,
    class_balanced_indices,
    draw_augmentation,
    epoch_order,
    padding,
    plan_epoch,
    train_subset,
    val_subset,
)
from .recipe import DATASETS
from .rng import derive_seed

FASHION_MNIST_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# The split a run evaluates: "test", the dataset's official test split (ImageNet: its val), or
# "val", a holdout carved from the train split, to choose a protocol on without the test split.
EVAL_SPLITS = ("test", "val")
# The holdout's images per class: as many as the test split holds, so that an accuracy measured on
# it is as precise as one on the test split (Fashion-MNIST, CIFAR-10: 1,000; ImageNet: 50), at most
# a sixth of the smallest class (Fashion-MNIST: 6,000 per class, so 1,000; CIFAR-10: 833).
HOLDOUT_PER_CLASS = {"fashion_mnist": 1000, "cifar10": 1000, "imagenet": 50}
HOLDOUT_DRAW = "holdout"  # the holdout's own fixed seed: rng.derive_seed(HOLDOUT_DRAW), no run's seed


def download_root(dataset: str) -> Path:
    """Where torchvision downloads go and where a dataset is looked for by default."""
    base = os.environ.get("POKERNET_DATA_ROOT", "~/.cache/pokernet/datasets")
    return Path(base).expanduser() / dataset


@dataclass
class MemorySplit:
    images: torch.Tensor  # uint8, N x C x H x W (C is 1 or 3)
    labels: torch.Tensor  # int64, N

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class UnreadableImage:
    """Returned by a worker in place of an image it could not decode (see CheckedImageFolder)."""

    path: str
    reason: str

    def error(self) -> ValueError:
        return ValueError(f"cannot read image {self.path}: {self.reason}")


class CheckedImageFolder(ImageFolder):
    """ImageFolder whose unreadable files come back as UnreadableImage: the main process then
    raises one clear error naming the file, instead of a worker's stack trace."""

    def __getitem__(self, index: int) -> tuple[Any, int]:
        path, target = self.samples[index]
        try:
            image = self.loader(path)
        except Exception as error:  # any decoding failure of any image format
            return UnreadableImage(path, f"{type(error).__name__}: {error}"), target
        return (self.transform(image) if self.transform else image), target


def collate_checked(batch: list[tuple[Any, int]]) -> Any:
    for image, _ in batch:
        if isinstance(image, UnreadableImage):
            return image
    return default_collate(batch)


Split = MemorySplit | CheckedImageFolder


@dataclass
class LoadedData:
    name: str
    classes: list[str]
    train: Split | None  # None when only the evaluated split was asked for
    val: Split  # the evaluated split (eval_split)
    source: str  # where it was read from
    eval_split: str = "test"  # EVAL_SPLITS

    @property
    def in_memory(self) -> bool:
        return isinstance(self.val, MemorySplit)


@dataclass
class FoundSplits:
    """A dataset as found on disk: its train and test splits, not yet divided or subset. An
    ImageFolder stays lazy (nothing decoded) until ``_take`` picks what a run reads."""

    name: str
    classes: list[str]
    train: Split | None
    test: Split | None
    source: str


# --------------------------------------------------------------------------- subsets


def _resized(split: Split | None, size: int | None, chunk: int = 4096) -> Split | None:
    """Each image resized (shorter side, bilinear with antialiasing) and center-cropped to a
    ``size`` square once, at load: the in-memory counterpart of decode_to_memory's resize."""
    if not isinstance(split, MemorySplit) or size is None or split.images.shape[-2:] == (size, size):
        return split
    resized = [
        F.center_crop(F.resize(part, [size], antialias=True), [size, size]) for part in split.images.split(chunk)
    ]
    return MemorySplit(torch.cat(resized), split.labels)


# --------------------------------------------------------------------------- Fashion-MNIST


def read_idx(path: Path, labels: bool = False) -> torch.Tensor:
    """A (Fashion-)MNIST IDX file of images (N x H x W uint8) or ``labels`` (N, int64), gzip-compressed
    or not, parsed by torchvision's reader (which takes a file name: a .gz is decompressed to a temporary file)."""
    reader = read_label_file if labels else read_image_file
    try:
        if path.suffix != ".gz":
            return reader(str(path))
        with gzip.open(path, "rb") as packed, tempfile.NamedTemporaryFile() as raw:
            shutil.copyfileobj(packed, raw)
            raw.flush()
            return reader(raw.name)
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(
            f"cannot read {path} ({error}); the file is damaged: reinstall dataset-fashion-mnist or download it again"
        ) from None
    except (AssertionError, KeyError, TypeError, ValueError, RuntimeError) as error:  # torchvision's checks
        raise ValueError(f"{path} is not a uint8 IDX file of {'labels' if labels else 'images'} ({error})") from None


def _fashion_mnist_dir(root: Path) -> Path | None:
    """The folder under ``root`` holding the four files (Debian's layout or torchvision's)."""
    for folder in (root, root / "FashionMNIST" / "raw"):
        if all(_idx_file(folder, stem) for pair in FASHION_MNIST_FILES.values() for stem in pair):
            return folder
    return None


def _idx_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_fashion_mnist(root: Path | None, download: bool, needed: set[str]) -> FoundSplits:
    roots = [root] if root else [FASHION_MNIST_DEBIAN_DIR, download_root("fashion_mnist")]
    folder = next((found for r in roots if (found := _fashion_mnist_dir(r))), None)
    if folder is None and download:
        target = roots[-1]
        try:
            FashionMNIST(str(target), download=True)
        except Exception as error:  # no network, disk full...: say what failed
            raise FileNotFoundError(f"downloading Fashion-MNIST into {target} failed: {error}") from None
        folder = _fashion_mnist_dir(target)
    if folder is None:
        raise FileNotFoundError(
            f"Fashion-MNIST not found: looked for train-images-idx3-ubyte[.gz] and the 3 other files "
            f"in {', '.join(str(r) for r in roots)} (and their FashionMNIST/raw/). Get it with "
            f"`apt-get install dataset-fashion-mnist` (offline copy in {FASHION_MNIST_DEBIAN_DIR}), "
            f"or pass --download to let torchvision download it, or --data-root DIR"
        )
    loaded = {}
    for split in needed:
        images_stem, labels_stem = FASHION_MNIST_FILES[split]
        images = read_idx(_idx_file(folder, images_stem))
        labels = read_idx(_idx_file(folder, labels_stem), labels=True)
        if len(images) != len(labels):
            raise ValueError(
                f"Fashion-MNIST files in {folder} do not match (images {tuple(images.shape)}, "
                f"labels {tuple(labels.shape)})"
            )
        loaded[split] = MemorySplit(images.unsqueeze(1).contiguous(), labels)
    return FoundSplits(
        "fashion_mnist", list(FashionMNIST.classes), loaded.get("train"), loaded.get("test"), str(folder)
    )


# --------------------------------------------------------------------------- CIFAR-10 / ImageFolder


def _folder_splits(root: Path) -> tuple[Path, Path] | None:
    """``root/train`` and ``root/val`` (or ``root/test``) of an ImageFolder copy."""
    for val_name in ("val", "test"):
        if (root / "train").is_dir() and (root / val_name).is_dir():
            return root / "train", root / val_name
    return None


def image_folder(folder: Path) -> CheckedImageFolder:
    try:
        return CheckedImageFolder(str(folder))
    except (FileNotFoundError, OSError) as error:
        raise FileNotFoundError(
            f"{folder} is not a usable ImageFolder (one sub-folder of images per class): {error}"
        ) from None


def decode_to_memory(folder: CheckedImageFolder, indices: torch.Tensor | None, resize: int | None) -> MemorySplit:
    """Decode (a subset of) an ImageFolder once into uint8 tensors. With ``resize``, each image
    is resized (shorter side) and center-cropped to a ``resize`` square, so they stack."""
    chosen = range(len(folder)) if indices is None else indices.tolist()
    images, labels = [], []
    for index in chosen:
        path, label = folder.samples[index]
        try:
            with Image.open(path) as file:
                image = file.convert("RGB")
        except Exception as error:
            raise ValueError(f"cannot read image {path}: {type(error).__name__}: {error}") from None
        if resize:
            image = F.center_crop(F.resize(image, [resize]), [resize])
        tensor = F.pil_to_tensor(image)
        if images and tensor.shape != images[0].shape:
            raise ValueError(
                f"image {path} is {tuple(tensor.shape[1:])} but the first image is "
                f"{tuple(images[0].shape[1:])}: set data.resize in the recipe"
            )
        images.append(tensor)
        labels.append(label)
    if not images:
        raise FileNotFoundError(f"no images in {folder.root}")
    return MemorySplit(torch.stack(images), torch.tensor(labels, dtype=torch.long))


def _find_folders(name: str, train_dir: Path, test_dir: Path, needed: set[str]) -> FoundSplits:
    folders = {"train": train_dir, "test": test_dir}
    found: dict[str, CheckedImageFolder] = {}
    classes: list[str] = []
    for split in ("train", "test"):
        if split not in needed:
            continue
        folder = found[split] = image_folder(folders[split])
        if classes and folder.classes != classes:
            raise ValueError(f"{folders[split]} has classes {folder.classes}, {train_dir} has {classes}")
        classes = folder.classes
    return FoundSplits(name, classes, found.get("train"), found.get("test"), str(train_dir.parent))


def _find_cifar10(root: Path | None, download: bool, needed: set[str]) -> FoundSplits:
    root = root or download_root("cifar10")
    if found := _folder_splits(root):
        return _find_folders("cifar10", *found, needed)
    if not (root / "cifar-10-batches-py").is_dir() and not download:
        raise FileNotFoundError(
            f"CIFAR-10 not found in {root}: looked for an ImageFolder copy (train/ and test/ or val/) "
            f"and for torchvision's cifar-10-batches-py/. Pass --download to let torchvision download "
            f"it there, or --data-root DIR pointing at either layout"
        )
    loaded = {}
    for split in needed:
        try:
            dataset = CIFAR10(str(root), train=split == "train", download=download)
        except Exception as error:  # torchvision: "Dataset not found or corrupted", network errors
            raise FileNotFoundError(f"CIFAR-10 in {root} is missing or unreadable: {error}") from None
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        loaded[split] = MemorySplit(images, torch.tensor(dataset.targets))
    return FoundSplits("cifar10", list(CIFAR10.classes), loaded.get("train"), loaded.get("test"), str(root))


def _find_imagenet(root: Path | None, download: bool, needed: set[str]) -> FoundSplits:
    root = root or download_root("imagenet")
    found = _folder_splits(root)
    if found is None:
        raise FileNotFoundError(
            f"ImageNet not found in {root}: expected ImageFolder directories train/ and val/ (one "
            f"sub-folder per class). ImageNet cannot be downloaded automatically: get ILSVRC2012 from "
            f"https://image-net.org, sort val/ with `pokernet data prepare-imagenet`, and pass --data-root DIR"
        )
    check_imagenet_classes(root, [folder for split, folder in zip(("train", "test"), found) if split in needed])
    return _find_folders("imagenet", *found, needed)


FINDERS = {"fashion_mnist": _find_fashion_mnist, "cifar10": _find_cifar10, "imagenet": _find_imagenet}


# --------------------------------------------------------------------------- the one pass: dataset -> split -> subset


def split_labels(split: Split) -> torch.Tensor:
    return split.labels if isinstance(split, MemorySplit) else torch.tensor(split.targets)


def holdout_indices(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """The validation holdout of a train split: ``per_class`` images of each class, one fixed
    draw (its own seed, ``HOLDOUT_DRAW``), whatever the run's seed."""
    return class_balanced_indices(labels, per_class, torch.Generator().manual_seed(derive_seed(HOLDOUT_DRAW)))


def divide(labels: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(the train pool, the validation holdout) of a train split: disjoint, sorted, together all of it.
    The holdout takes HOLDOUT_PER_CLASS images of each class, at most a sixth of the smallest class."""
    per_class = min(HOLDOUT_PER_CLASS[name], int(torch.bincount(labels).min()) // 6)
    if per_class == 0:
        raise ValueError(f"{name}: a class of the train split has fewer than 6 images; no validation holdout")
    holdout = holdout_indices(labels, per_class)
    keep = torch.ones(len(labels), dtype=torch.bool)
    keep[holdout] = False
    return keep.nonzero().flatten(), holdout


def _restricted(folder: CheckedImageFolder, indices: torch.Tensor) -> CheckedImageFolder:
    """A copy of an ImageFolder holding only ``indices`` (its own transform slot)."""
    part = copy.copy(folder)
    part.samples = [folder.samples[i] for i in indices.tolist()]
    part.imgs, part.targets = part.samples, [target for _, target in part.samples]
    return part


def _take(split: Split, indices: torch.Tensor | None, resize: int | None, to_memory: bool) -> Split:
    """The images ``indices`` (all with None) of a split: in memory, or a lazy ImageFolder."""
    if isinstance(split, MemorySplit):
        return split if indices is None else MemorySplit(split.images[indices], split.labels[indices])
    if to_memory:
        return decode_to_memory(split, indices, resize)
    return split if indices is None else _restricted(split, indices)


def _train_indices(labels: torch.Tensor, pool: torch.Tensor | None, subset: int | None, seed: int):
    """The run's train images: its seed's class-balanced subset (core.train_subset) of the pool."""
    if subset is None:
        return pool
    if pool is None:  # the test split evaluated: the subset is drawn from the whole train split
        return train_subset(labels, subset, seed)
    return pool[train_subset(labels[pool], subset, seed)]


def _eval_indices(found: FoundSplits, holdout: torch.Tensor | None, subset: int | None, streamed: bool):
    """The evaluated images: the holdout (eval split val) or the whole test split; a dataset
    streamed from disk (ImageNet) with ``subset`` evaluates one fixed class-balanced draw of it."""
    if subset is None or not streamed:
        return holdout
    if holdout is None:
        return val_subset(split_labels(found.test), subset)
    return holdout[val_subset(split_labels(found.train)[holdout], subset)]


def load_data(
    name: str,
    root: str | Path | None = None,
    subset: int | None = None,
    download: bool = False,
    resize: int | None = None,
    splits: tuple[str, ...] = ("train", "val"),
    seed: int = 0,
    eval_split: str = "test",
) -> LoadedData:
    """Load a dataset by name, in one pass: the dataset's splits -> train pool and evaluated split
    -> the run's subset -> memory (or a lazy ImageFolder). ``eval_split``: "test", the dataset's
    official test split (ImageNet: val), or "val", a holdout carved from the train split
    (``HOLDOUT_PER_CLASS`` images per class, one fixed draw) that no train subset touches.
    ``splits``: "val" (the evaluated split) and/or "train". ``subset``: N train images per class
    drawn by ``seed`` (core.train_subset). ``resize``: the recipe's resize, applied at load to data
    held in memory."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    if eval_split not in EVAL_SPLITS:
        raise ValueError(f"unknown eval split {eval_split!r}; choose from {', '.join(EVAL_SPLITS)}")
    root = Path(root).expanduser() if root else None
    if root is not None and not root.is_dir() and not download:
        raise FileNotFoundError(f"--data-root {root} does not exist (dataset {name})")
    needed = {"train"} & set(splits) | ({"train"} if eval_split == "val" else {"test"})
    found = FINDERS[name](root, download, needed)
    pool = holdout = None
    if eval_split == "val":
        pool, holdout = divide(split_labels(found.train), name)
    streamed = name == "imagenet"
    to_memory = subset is not None or not streamed
    train = None
    if "train" in splits:
        indices = _train_indices(split_labels(found.train), pool, subset, seed)
        train = _resized(_take(found.train, indices, resize, to_memory), resize)
    evaluated = found.test if eval_split == "test" else found.train
    val = _take(evaluated, _eval_indices(found, holdout, subset, streamed), resize, to_memory)
    return LoadedData(name, found.classes, train, _resized(val, resize), found.source, eval_split)


# --------------------------------------------------------------------------- batch ops


def to_model_input(images: torch.Tensor, data_cfg: dict[str, Any], in_chans: int = 3) -> torch.Tensor:
    """uint8 (or [0, 1] float) batch -> normalized float; 1-channel data replicated to 3."""
    x = images.float().div_(255) if images.dtype == torch.uint8 else images
    if x.shape[1] == 1 and in_chans == 3:
        x = x.expand(-1, 3, -1, -1)
    return F.normalize(x, data_cfg["mean"], data_cfg["std"])


def augment_pixels(images: torch.Tensor, draws: AugmentDraws, data_cfg: dict[str, Any]) -> torch.Tensor:
    """The recipe's training augmentation, the one rule of both pipelines: a uint8 batch (any number
    of images, on any device) from draws made beforehand (core.draw_augmentation, one per image):
    zero pad, a random crop, random horizontal flip, color jitter (torchvision's definitions of
    brightness, contrast, saturation, always in that order). Returns floats in [0, 1]."""
    size = data_cfg["resolution"]
    count, channels, height, width = images.shape
    pads = padding(height, width, data_cfg)
    if any(pads):
        images = nnf.pad(images, pads)
    device = images.device
    offsets = torch.arange(size, device=device)
    rows = draws.top[:, None] + offsets
    # a flipped image reads its crop's columns right to left
    cols = torch.where(draws.flip[:, None], draws.left[:, None] + size - 1 - offsets, draws.left[:, None] + offsets)
    batch_index = torch.arange(count, device=device)[:, None, None, None]
    channel_index = torch.arange(channels, device=device)[None, :, None, None]
    x = images[batch_index, channel_index, rows[:, None, :, None], cols[:, None, None, :]].float().div_(255)
    view = (-1, 1, 1, 1)
    gray = (lambda t: t) if channels == 1 else F.rgb_to_grayscale
    if draws.brightness is not None:
        x = (x * draws.brightness.view(view)).clamp_(0, 1)
    if draws.contrast is not None:
        mean = gray(x).mean(dim=(1, 2, 3), keepdim=True)
        factor = draws.contrast.view(view)
        x = (factor * x + (1 - factor) * mean).clamp_(0, 1)
    if draws.saturation is not None:
        factor = draws.saturation.view(view)
        x = (factor * x + (1 - factor) * gray(x)).clamp_(0, 1)
    return x


def apply_augmentation(images: torch.Tensor, draws: AugmentDraws, data_cfg: dict[str, Any]) -> torch.Tensor:
    """augment_pixels, then mean subtraction: a batch ready for the model."""
    return to_model_input(augment_pixels(images, draws, data_cfg), data_cfg)


class AugmentImage:
    """augment_pixels of one uint8 image (C x H x W) in a DataLoader worker of the streamed pipeline,
    its draws from the worker's generator (seeded per epoch by FolderPipeline)."""

    def __init__(self, data_cfg: dict[str, Any]):
        self.data_cfg = data_cfg

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        channels, height, width = image.shape
        draws = draw_augmentation(None, 1, height, width, self.data_cfg, channels)
        return augment_pixels(image[None], draws, self.data_cfg)[0]


def augment_batch(
    images: torch.Tensor, data_cfg: dict[str, Any], generator: torch.Generator | None = None
) -> torch.Tensor:
    """The recipe's training augmentation, its draws from ``generator`` (torch's global one when
    None), all made on the CPU, so a seeded run repeats exactly on any device."""
    count, channels, height, width = images.shape
    draws = draw_augmentation(generator, count, height, width, data_cfg, channels).to(images.device)
    return apply_augmentation(images, draws, data_cfg)


def eval_batch(images: torch.Tensor, data_cfg: dict[str, Any]) -> torch.Tensor:
    """Single center crop (zero-padded where the image is smaller), mean subtraction."""
    size = data_cfg["resolution"]
    return to_model_input(F.center_crop(images, [size, size]), data_cfg)


def pil_transforms(data_cfg: dict[str, Any], train: bool) -> T.Compose:
    """The recipe's per-image transforms for data streamed from disk: the resize, then (evaluation)
    the center crop, uint8 out, or (training) the in-memory pipeline's augmentation, [0, 1] floats out."""
    resize = [T.Resize(data_cfg["resize"])] if data_cfg["resize"] else []
    if not train:
        return T.Compose(resize + [T.CenterCrop(data_cfg["resolution"]), T.PILToTensor()])
    return T.Compose(resize + [T.PILToTensor(), AugmentImage(data_cfg)])


# --------------------------------------------------------------------------- pipelines


def _chunks(indices: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    return list(indices.split(batch_size))


def _on_gpu_if_small(split: MemorySplit | None, device: torch.device) -> MemorySplit | None:
    """Keep a split on the GPU when it takes under a quarter of the free memory: batches are
    then gathered there, with no host-to-device copy per step."""
    if split is None or device.type != "cuda":
        return split
    if split.images.nbytes > torch.cuda.mem_get_info(device)[0] // 4:
        return split
    return MemorySplit(split.images.to(device), split.labels.to(device))


class MemoryPipeline:
    """Batches of in-memory data, augmented on ``device`` with tensor ops, as the training core
    plans them (``core.plan_epoch``): each rank reads its shard of the epoch's order and applies
    the draws of the seed's augment stream, so arms paired by seed train on identical batches.
    An incomplete last training batch is dropped unless it is the only one (tiny subsets)."""

    def __init__(
        self,
        train: MemorySplit | None,
        val: MemorySplit,
        data_cfg: dict[str, Any],
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ):
        self.data_cfg = data_cfg
        self.batch_size, self.rank, self.world_size, self.seed = batch_size, rank, world_size, seed
        self.device = torch.device(device)
        self.train, self.val = _on_gpu_if_small(train, self.device), _on_gpu_if_small(val, self.device)

    def steps_per_epoch(self) -> int:
        return len(epoch_order(len(self.train), self.seed, 0, self.batch_size, self.rank, self.world_size))

    def plan(self, epoch: int) -> EpochPlan:
        channels, height, width = self.train.images.shape[1:]
        return plan_epoch(
            [self.seed],
            epoch,
            [torch.arange(len(self.train))],
            self.batch_size,
            (height, width),
            self.data_cfg,
            channels,
            self.rank,
            self.world_size,
        )

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        plan = self.plan(epoch)
        order = plan.order[0].to(self.train.images.device)
        for step in range(plan.steps):
            images = self.train.images[order[step]].to(self.device, non_blocking=True)
            draws = plan.draws[0, step].to(self.device)
            yield apply_augmentation(images, draws, self.data_cfg), self.train.labels[order[step]].to(self.device)

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        shard = torch.arange(self.rank, len(self.val), self.world_size, device=self.val.images.device)
        for chunk in _chunks(shard, self.batch_size):
            images = self.val.images[chunk].to(self.device, non_blocking=True)
            yield eval_batch(images, self.data_cfg), self.val.labels[chunk].to(self.device)


class PlannedBatches:
    """The core's epoch order (``core.epoch_order``) as a DataLoader batch sampler: this rank's
    batches of epoch ``epoch`` (set before each epoch)."""

    def __init__(self, size: int, batch_size: int, seed: int, rank: int, world_size: int):
        self.size, self.batch_size, self.seed, self.rank, self.world_size = size, batch_size, seed, rank, world_size
        self.epoch = 0

    def _order(self) -> torch.Tensor:
        return epoch_order(self.size, self.seed, self.epoch, self.batch_size, self.rank, self.world_size)

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return len(self._order())


class FolderPipeline:
    """Batches streamed from an ImageFolder through PIL transforms in DataLoader workers.
    Workers are started afresh each epoch with seeds drawn from ``augment_generator(seed, epoch,
    rank)``, so arms paired by seed see the same augmentations and a resumed run repeats them.
    (With ``workers=0`` the transforms run in this process on torch's global generator.)"""

    def __init__(
        self,
        train: CheckedImageFolder | None,
        val: CheckedImageFolder,
        data_cfg: dict[str, Any],
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        device: torch.device | str = "cpu",
        workers: int = 4,
    ):
        self.data_cfg, self.device = data_cfg, torch.device(device)
        self.batch_size, self.rank, self.seed = batch_size, rank, seed
        self.worker_seeds = torch.Generator()
        common = dict(num_workers=workers, collate_fn=collate_checked, pin_memory=self.device.type == "cuda")
        self.train_loader = None
        if train is not None:
            train.transform = pil_transforms(data_cfg, train=True)
            self.batches = PlannedBatches(len(train), batch_size, seed, rank, world_size)
            self.train_loader = DataLoader(train, batch_sampler=self.batches, generator=self.worker_seeds, **common)
        val.transform = pil_transforms(data_cfg, train=False)
        shard = Subset(val, range(rank, len(val), world_size))
        self.val_loader = DataLoader(shard, batch_size, shuffle=False, **common)

    def steps_per_epoch(self) -> int:
        return len(self.train_loader)

    def _batches(self, loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for batch in loader:
            if isinstance(batch, UnreadableImage):
                raise batch.error()
            images, labels = batch
            images = images.to(self.device, non_blocking=True)
            yield to_model_input(images, self.data_cfg), labels.to(self.device, non_blocking=True)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.batches.epoch = epoch
        self.worker_seeds.set_state(augment_generator(self.seed, epoch, self.rank).get_state())
        return self._batches(self.train_loader)

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self._batches(self.val_loader)


def build_pipeline(
    data: LoadedData,
    data_cfg: dict[str, Any],
    batch_size: int,
    rank: int = 0,
    world_size: int = 1,
    seed: int = 0,
    device: torch.device | str = "cpu",
    workers: int = 4,
) -> MemoryPipeline | FolderPipeline:
    if data.in_memory:
        return MemoryPipeline(data.train, data.val, data_cfg, batch_size, rank, world_size, seed, device)
    return FolderPipeline(data.train, data.val, data_cfg, batch_size, rank, world_size, seed, device, workers)
