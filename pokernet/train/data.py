"""Datasets, class-balanced subsets and the two input pipelines.

Data that fits in memory (Fashion-MNIST, CIFAR-10, any ``--subset``) is decoded once into
a uint8 tensor and augmented a whole batch at a time with tensor ops on the training
device (``MemoryPipeline``): on a 2-core CPU a per-image PIL pipeline in worker processes
would compete with the model for the cores. Full ImageNet streams from disk through
torchvision's ImageFolder and PIL transforms in DataLoader workers (``FolderPipeline``).
Both pipelines yield normalized float batches ready for the model.
"""

from __future__ import annotations

import gzip
import os
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

from pokernet.datasets.imagenet import check_imagenet_classes

from .core import (
    AugmentDraws,
    EpochPlan,
    augment_generator,
    draw_augmentation,
    epoch_order,
    padding,
    plan_epoch,
    train_subset,
    val_subset,
)
from .recipe import DATASETS

FASHION_MNIST_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


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
    train: Split | None  # None when only the validation split was asked for
    val: Split
    source: str  # where it was read from

    @property
    def in_memory(self) -> bool:
        return isinstance(self.val, MemorySplit)


# --------------------------------------------------------------------------- subsets


def _resized(split: MemorySplit | None, size: int | None, chunk: int = 4096) -> MemorySplit | None:
    """Each image resized (shorter side, bilinear with antialiasing) and center-cropped to a
    ``size`` square once, at load: the in-memory counterpart of decode_to_memory's resize."""
    if split is None or size is None or split.images.shape[-2:] == (size, size):
        return split
    resized = [
        F.center_crop(F.resize(part, [size], antialias=True), [size, size]) for part in split.images.split(chunk)
    ]
    return MemorySplit(torch.cat(resized), split.labels)


def _subset(split: MemorySplit, per_class: int | None, seed: int) -> MemorySplit:
    """The train subset of the run with ``seed`` (core.train_subset)."""
    if per_class is None:
        return split
    keep = train_subset(split.labels, per_class, seed)
    return MemorySplit(split.images[keep], split.labels[keep])


# --------------------------------------------------------------------------- Fashion-MNIST


def read_idx(path: Path) -> torch.Tensor:
    """A uint8 array in the IDX format of (Fashion-)MNIST, gzip-compressed or not."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(
            f"cannot read {path} ({error}); the file is damaged: reinstall dataset-fashion-mnist or download it again"
        ) from None
    ndim = data[3] if len(data) >= 4 else 0
    if len(data) < 4 + 4 * ndim or data[:3] != b"\x00\x00\x08" or ndim == 0:
        raise ValueError(f"{path} is not a uint8 IDX file (Fashion-MNIST format)")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    payload = torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8)
    expected = int(torch.tensor(dims).prod())
    if payload.numel() != expected:
        raise ValueError(f"{path} holds {payload.numel()} values, its header says {expected}: truncated?")
    return payload.view(*dims)


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


def _load_fashion_mnist(root: Path | None, download: bool, splits: tuple[str, ...]) -> LoadedData:
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
    for split in splits:
        images_stem, labels_stem = FASHION_MNIST_FILES[split]
        images = read_idx(_idx_file(folder, images_stem))
        labels = read_idx(_idx_file(folder, labels_stem)).long()
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(
                f"Fashion-MNIST files in {folder} do not match (images {tuple(images.shape)}, "
                f"labels {tuple(labels.shape)})"
            )
        loaded[split] = MemorySplit(images.unsqueeze(1).contiguous(), labels)
    return LoadedData("fashion_mnist", list(FashionMNIST.classes), loaded.get("train"), loaded["val"], str(folder))


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


def _load_folder_copy(
    name: str,
    train_dir: Path,
    val_dir: Path,
    splits: tuple[str, ...],
    subset: int | None,
    resize: int | None,
    in_memory: bool,
    seed: int,
) -> LoadedData:
    folders = {"train": train_dir, "val": val_dir}
    loaded: dict[str, Split] = {}
    classes: list[str] = []
    for split in splits:
        folder = image_folder(folders[split])
        if classes and folder.classes != classes:
            raise ValueError(f"{folders[split]} has classes {folder.classes}, {train_dir} has {classes}")
        classes = folder.classes
        if subset is not None or in_memory:
            # the whole test split whatever the train subset, except for ImageNet's 50,000 val
            # images (they would not fit in memory at the recipe's resize)
            labels = torch.tensor(folder.targets)
            indices = (
                train_subset(labels, subset, seed)
                if split == "train" and subset is not None
                else val_subset(labels, subset)
                if subset is not None and not in_memory
                else None
            )
            loaded[split] = decode_to_memory(folder, indices, resize)
        else:
            loaded[split] = folder
    return LoadedData(name, classes, loaded.get("train"), loaded["val"], str(train_dir.parent))


def _load_cifar10(
    root: Path | None, download: bool, splits: tuple[str, ...], subset: int | None, resize: int | None, seed: int
) -> LoadedData:
    root = root or download_root("cifar10")
    if found := _folder_splits(root):
        return _load_folder_copy("cifar10", *found, splits, subset, resize, in_memory=True, seed=seed)
    if not (root / "cifar-10-batches-py").is_dir() and not download:
        raise FileNotFoundError(
            f"CIFAR-10 not found in {root}: looked for an ImageFolder copy (train/ and test/ or val/) "
            f"and for torchvision's cifar-10-batches-py/. Pass --download to let torchvision download "
            f"it there, or --data-root DIR pointing at either layout"
        )
    loaded = {}
    for split in splits:
        try:
            dataset = CIFAR10(str(root), train=split == "train", download=download)
        except Exception as error:  # torchvision: "Dataset not found or corrupted", network errors
            raise FileNotFoundError(f"CIFAR-10 in {root} is missing or unreadable: {error}") from None
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        split_data = MemorySplit(images, torch.tensor(dataset.targets))
        loaded[split] = _subset(split_data, subset, seed) if split == "train" else split_data
    return LoadedData("cifar10", list(CIFAR10.classes), loaded.get("train"), loaded["val"], str(root))


def _load_imagenet(
    root: Path | None, splits: tuple[str, ...], subset: int | None, resize: int | None, seed: int
) -> LoadedData:
    root = root or download_root("imagenet")
    found = _folder_splits(root)
    if found is None:
        raise FileNotFoundError(
            f"ImageNet not found in {root}: expected ImageFolder directories train/ and val/ (one "
            f"sub-folder per class). ImageNet cannot be downloaded automatically: get ILSVRC2012 from "
            f"https://image-net.org, sort val/ with `pokernet data prepare-imagenet`, and pass --data-root DIR"
        )
    check_imagenet_classes(root, [dict(zip(("train", "val"), found))[split] for split in splits])
    return _load_folder_copy("imagenet", *found, splits, subset, resize, in_memory=False, seed=seed)


def load_data(
    name: str,
    root: str | Path | None = None,
    subset: int | None = None,
    download: bool = False,
    resize: int | None = None,
    splits: tuple[str, ...] = ("train", "val"),
    seed: int = 0,
) -> LoadedData:
    """Load a dataset by name. ``subset``: N images per class of the train split (class-balanced,
    drawn by ``seed``: core.train_subset); the validation split is the dataset's whole official
    test split (for ImageNet, streamed from disk, ``subset`` subsets val too, one fixed draw).
    ``resize``: the recipe's resize, used when an
    ImageFolder is decoded to memory, and to in-memory data (Fashion-MNIST, CIFAR-10) once at load."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    root = Path(root).expanduser() if root else None
    if root is not None and not root.is_dir() and not download:
        raise FileNotFoundError(f"--data-root {root} does not exist (dataset {name})")
    if name == "fashion_mnist":
        data = _load_fashion_mnist(root, download, splits)
        data.train = _subset(data.train, subset, seed) if data.train is not None else None
    elif name == "cifar10":
        data = _load_cifar10(root, download, splits, subset, resize, seed)
    else:
        return _load_imagenet(root, splits, subset, resize, seed)
    data.train, data.val = _resized(data.train, resize), _resized(data.val, resize)
    return data


# --------------------------------------------------------------------------- batch ops


def to_model_input(images: torch.Tensor, data_cfg: dict[str, Any], in_chans: int = 3) -> torch.Tensor:
    """uint8 (or [0, 1] float) batch -> normalized float; 1-channel data replicated to 3."""
    x = images.float().div_(255) if images.dtype == torch.uint8 else images
    if x.shape[1] == 1 and in_chans == 3:
        x = x.expand(-1, 3, -1, -1)
    return F.normalize(x, data_cfg["mean"], data_cfg["std"])


def apply_augmentation(images: torch.Tensor, draws: AugmentDraws, data_cfg: dict[str, Any]) -> torch.Tensor:
    """The recipe's training augmentation of a uint8 batch (any number of images, on any device)
    from draws made beforehand (core.draw_augmentation, one per image): zero pad, a random crop,
    random horizontal flip, color jitter (torchvision's ColorJitter definitions: brightness,
    contrast, saturation, in that order), mean subtraction."""
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
    return to_model_input(x, data_cfg)


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
    """The same recipe as per-image PIL transforms, for data streamed from disk. Output: uint8."""
    resize = [T.Resize(data_cfg["resize"])] if data_cfg["resize"] else []
    size = data_cfg["resolution"]
    if not train:
        return T.Compose(resize + [T.CenterCrop(size), T.PILToTensor()])
    jitter = data_cfg["color_jitter"]
    return T.Compose(
        resize
        + [
            T.RandomCrop(size, padding=data_cfg["pad"] or None, pad_if_needed=True),
            *([T.RandomHorizontalFlip()] if data_cfg["hflip"] else []),
            T.ColorJitter(jitter["brightness"], jitter["contrast"], jitter["saturation"]),
            T.PILToTensor(),
        ]
    )


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
