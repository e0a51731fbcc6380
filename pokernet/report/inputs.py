"""Load and validate the reports' inputs. Every error names the file it comes from.

* complexity JSON (``pokernet complexity ... --json``): a list of
  {model, params, madds, resolution, options};
* training runs (one ``metrics.json`` per run): model, model_options, top1, top5, epochs,
  seed, dataset, resolution, config_hash, ... ;
* latency JSON (``pokernet latency ... --json``): hardware, versions, batch, resolution,
  results, ratios.

Each is checked against its contract in pokernet/schemas/ (the one the writer checks too);
NaN and Infinity are refused.

A model variant is identified by (model, options) where options equal to the builder's
defaults are dropped, so ``{}`` and ``{"se": true}`` name the same PokerNet-0.5×.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pokernet import schemas
from pokernet.models.registry import option_defaults
from pokernet.models.variant import DATA_OPTIONS
from pokernet.protocol import check_runs as check_protocol
from pokernet.train.divergence import divergence_reason
from pokernet.train.runcheck import check_run, check_run_location, same_runs

# drop_rate changes no parameter and no MAdd, so a complexity entry may carry it.
COUNT_NEUTRAL_OPTIONS = ("drop_rate",)

VariantKey = tuple[str, tuple[tuple[str, Any], ...]]


def variant_key(model: str, options: dict[str, Any], ignore: Iterable[str] = ()) -> VariantKey:
    """(model, sorted non-default options): the identity of a model variant."""
    try:
        defaults = option_defaults(model)
    except ValueError as error:  # unknown model: the registry's message lists the known ones
        raise ValueError(str(error)) from None
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"model {model!r} does not take option(s) {', '.join(unknown)}")
    kept = {k: v for k, v in options.items() if k not in set(ignore) and defaults[k] != v}
    return model, tuple(sorted(kept.items()))


def describe_variant(key: VariantKey) -> str:
    model, options = key
    return model + (f" ({', '.join(f'{k}={v}' for k, v in options)})" if options else "")


def _number(value: Any, where: str, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{where}: {name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


# --- complexity ---------------------------------------------------------------------


@dataclass(frozen=True)
class ComplexityEntry:
    model: str
    options: dict[str, Any]
    params: int
    madds: int
    resolution: int
    source: Path

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def madds_m(self) -> float:
        return self.madds / 1e6


@dataclass
class Complexity:
    """Every entry of the given complexity files, looked up by variant and resolution."""

    files: list[Path]
    entries: dict[tuple[VariantKey, int], ComplexityEntry] = field(default_factory=dict)

    def get(self, model: str, options: dict[str, Any] | None = None, resolution: int = 224) -> ComplexityEntry:
        key = variant_key(model, options or {}, COUNT_NEUTRAL_OPTIONS)
        if (key, resolution) not in self.entries:
            raise ValueError(
                f"no complexity entry for {describe_variant(key)} at resolution {resolution} in "
                f"{', '.join(map(str, self.files)) or 'no file'}; run `pokernet complexity "
                f"{model} --json` with those options and pass its output with --complexity"
            )
        return self.entries[(key, resolution)]


def load_complexity(paths: Iterable[str | Path]) -> Complexity:
    table = Complexity(files=[Path(p) for p in paths])
    for path in table.files:
        data = schemas.read(path, "complexity")
        for index, item in enumerate(data):
            where = f"{path}: entry {index}"
            try:
                key = variant_key(item["model"], item["options"], COUNT_NEUTRAL_OPTIONS)
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
            entry = ComplexityEntry(
                item["model"], item["options"], item["params"], item["madds"], item["resolution"], path
            )
            previous = table.entries.get((key, entry.resolution))
            if previous and (previous.params, previous.madds) != (entry.params, entry.madds):
                raise ValueError(
                    f"{path}: {describe_variant(key)} contradicts {previous.source} "
                    f"({entry.params}/{entry.madds} vs {previous.params}/{previous.madds} params/MAdds)"
                )
            table.entries[(key, entry.resolution)] = entry
    return table


# --- training runs -------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What produced an accuracy: the same for every run compared in one table."""

    dataset: str
    resolution: int
    epochs: int
    subset_per_class: int | None
    imagenet_subset: str | None = None  # metrics.json's describe_subset line of a declared ImageNet subset
    protocol: str | None = None  # the frozen protocol's sha256 (first 12) the runs were made under; None: none

    @property
    def comparable_with_paper(self) -> bool:
        """Only the full ImageNet at 224×224 gives accuracies comparable with the paper's."""
        return (
            self.dataset.lower() == "imagenet"
            and self.resolution == 224
            and self.subset_per_class is None
            and self.imagenet_subset is None
        )

    def describe(self) -> str:
        subset = f", {self.subset_per_class} images per class" if self.subset_per_class else ""
        dataset = self.imagenet_subset or self.dataset
        made = f"protocol sha256 {self.protocol}" if self.protocol else "no frozen protocol (exploratory runs)"
        return f"{dataset} at {self.resolution}×{self.resolution}, {self.epochs} epochs{subset}; {made}"


@dataclass(frozen=True)
class Run:
    source: Path
    key: VariantKey
    top1: float
    top5: float
    seed: int
    setting: Setting
    config_hash: str
    git_commit: str | None
    device: str | None
    torch_version: str | None
    val_size: int | None = None  # images the accuracy was measured on
    weight_decay: float | None = None  # the recipe's, as resolved for this model
    diverged: str | None = None  # why the run is not a result (pokernet.train.divergence), None if it trained
    trace: Trace | None = None  # how the training went (the proxy notes quote it)
    # metrics.json's per-epoch records (the learning curves)
    history: tuple[dict[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Trace:
    """What a run's history says about its training, as the proxy notes quote it."""

    num_classes: int
    first_loss: float  # mean train loss of epoch 1
    train_top1: float | None  # train top-1 of the last epoch
    grad_clip_norm: float | None  # the recipe's optimizer.grad_clip_norm (None: not clipped)


def _trace(data: dict[str, Any]) -> Trace | None:
    num_classes = data["model_options"].get("num_classes", option_defaults(data["model"]).get("num_classes"))
    history = data.get("history") or []
    if not history or not isinstance(num_classes, int) or history[0].get("train_loss") is None:
        return None
    recipe = data.get("recipe") if isinstance(data.get("recipe"), dict) else {}
    optimizer = recipe.get("optimizer") if isinstance(recipe.get("optimizer"), dict) else {}
    return Trace(num_classes, float(history[0]["train_loss"]), data.get("train_top1"), optimizer.get("grad_clip_norm"))


def _weight_decay(data: dict[str, Any], where: str) -> float | None:
    recipe = data.get("recipe")
    resolved = recipe.get("resolved") if isinstance(recipe, dict) else None
    if not isinstance(resolved, dict) or "weight_decay" not in resolved:
        return None
    return _number(resolved["weight_decay"], where, "recipe.resolved.weight_decay", 0)


def read_run(path: str | Path) -> dict[str, Any]:
    """A run's metrics.json, checked (runcheck: contract, self-consistency, the folder it lies in)."""
    data = check_run(str(path), schemas.load(path))  # check_run checks the contract
    check_run_location(path, data)
    return data


def _diverged(data: dict[str, Any]) -> str | None:
    """The run's own ``diverged`` field when it has one; otherwise the same rule applied to its history."""
    if "diverged" in data:
        return data["diverged"]
    num_classes = data["model_options"].get("num_classes", option_defaults(data["model"]).get("num_classes"))
    if not data.get("history") or not isinstance(num_classes, int):
        return None
    return divergence_reason(data["history"], num_classes)


def load_run(path: str | Path, data: dict[str, Any] | None = None) -> Run:
    path = Path(path)
    data = read_run(path) if data is None else data
    where = str(path)
    subset = data.get("subset_per_class")
    try:
        key = variant_key(data["model"], data["model_options"], DATA_OPTIONS)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    protocol = (data.get("protocol") or {}).get("sha256")
    setting = Setting(
        data["dataset"],
        data["resolution"],
        data["epochs"],
        subset,
        data.get("imagenet_subset"),
        protocol and protocol[:12],
    )
    return Run(
        path,
        key,
        float(data["top1"]),
        float(data["top5"]),
        data["seed"],
        setting,
        data["config_hash"],
        data.get("git_commit"),
        data.get("device"),
        data.get("torch_version"),
        data.get("val_size") or None,
        _weight_decay(data, where),
        _diverged(data),
        _trace(data),
        tuple(data.get("history") or ()),
    )


def load_runs(paths: Iterable[str | Path], protocol: str | Path | None = None) -> list[Run]:
    """The runs, checked; with ``protocol``, each must have been made under that file as it is now."""
    held = {str(p): read_run(p) for p in paths}
    same_runs(held)
    if protocol is not None:
        check_protocol(held, protocol)
    runs = [load_run(p, data) for p, data in held.items()]
    seen: dict[tuple[VariantKey, int, Setting], Run] = {}
    for run in runs:
        other = seen.setdefault((run.key, run.seed, run.setting), run)
        if other is not run:
            raise ValueError(
                f"{run.source}: same variant {describe_variant(run.key)}, seed {run.seed} and "
                f"setting as {other.source}; give each run once"
            )
    return runs


def common_setting(runs: list[Run]) -> Setting | None:
    """The one setting of the runs compared in a table; several are an error."""
    settings = {run.setting: run.source for run in runs}
    if len(settings) > 1:
        listed = "; ".join(f"{s.describe()} ({source})" for s, source in settings.items())
        raise ValueError(f"runs compared in one table must share dataset, resolution, epochs and subset; got {listed}")
    return next(iter(settings), None)


# --- latency -------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    model: str
    runtime: str
    threads: int
    median_ms: float
    iqr_ms: float
    runs: int
    low_ms: float  # min and max over invocations of each invocation's median (= median_ms for one)
    high_ms: float


@dataclass(frozen=True)
class MeasuredRatio:
    """A PokerNet/GhostNet ratio: median over invocations, their min–max, and stability
    (None when one invocation: not checked)."""

    ratio: float
    low: float
    high: float
    invocations: int
    stable: bool | None


@dataclass
class LatencyReport:
    source: Path
    hardware: dict[str, Any]
    versions: dict[str, Any]
    batch: int
    resolution: int
    results: list[Latency]
    ratios: dict[tuple[str, str, str, int], MeasuredRatio]  # (model, reference, runtime, threads) -> ratio
    protocol: dict[str, Any] = field(default_factory=dict)  # any other top-level fields (timing, ...)

    def settings(self) -> list[tuple[str, int]]:
        """(runtime, threads) in the order the file lists them."""
        return list(dict.fromkeys((r.runtime, r.threads) for r in self.results))

    def find(self, model: str, runtime: str, threads: int) -> Latency | None:
        return next((r for r in self.results if (r.model, r.runtime, r.threads) == (model, runtime, threads)), None)

    def ratio(self, model: str, reference: str, runtime: str, threads: int) -> MeasuredRatio | None:
        """The file's ratio; else the ratio of the two medians of the same file (one invocation)."""
        if (model, reference, runtime, threads) in self.ratios:
            return self.ratios[(model, reference, runtime, threads)]
        ours, ref = self.find(model, runtime, threads), self.find(reference, runtime, threads)
        if not (ours and ref):
            return None
        value = ours.median_ms / ref.median_ms
        return MeasuredRatio(value, value, value, 1, None)


def _measured_ratio(item: dict[str, Any]) -> MeasuredRatio:
    values = item.get("invocation_ratios", [item["ratio"]])
    return MeasuredRatio(
        float(item["ratio"]),
        float(item.get("ratio_min", min(values))),
        float(item.get("ratio_max", max(values))),
        len(values),
        item.get("stable"),
    )


LATENCY_KEYS = ("hardware", "versions", "batch", "resolution", "results", "ratios")


def load_latency(path: str | Path) -> LatencyReport:
    path = Path(path)
    data = schemas.read(path, "latency")
    results = []
    for item in data["results"]:
        medians = item.get("invocation_median_ms", [item["median_ms"]])
        results.append(
            Latency(
                item["model"],
                item["runtime"],
                item["threads"],
                float(item["median_ms"]),
                float(item["iqr_ms"]),
                item["runs"],
                float(min(medians)),
                float(max(medians)),
            )
        )
    # "best" (each model in its fastest runtime), written by earlier versions, repeats a measured
    # setting: it is not read, so that no setting is counted twice.
    ratios = {
        (item["model"], item["reference"], item["runtime"], item["threads"]): _measured_ratio(item)
        for item in data["ratios"]
        if item["runtime"] != "best"
    }
    return LatencyReport(
        path,
        data["hardware"],
        data["versions"],
        data["batch"],
        data["resolution"],
        results,
        ratios,
        {k: v for k, v in data.items() if k not in LATENCY_KEYS},
    )
