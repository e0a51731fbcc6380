"""Training recipes: YAML files in pokernet/recipes/, loaded, merged with their parent,
validated, then resolved for one model and run length.

A recipe may name a parent (``derives_from``); its keys override the parent's, section by
section. Resolution turns the paper's rules into numbers: the learning rate scaled
linearly with the global batch, the LR milestones scaled with the number of epochs, and
the weight decay of the model being trained.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import yaml

RECIPE_DIR = Path(__file__).resolve().parent.parent / "recipes"
DEFAULT_RECIPES = {"imagenet": "imagenet", "cifar10": "cifar10", "fashion_mnist": "proxy_fashion_mnist"}
METADATA_KEYS = ("name", "description", "derives_from", "changes")

Check = Callable[[Any], "str | None"]  # returns what is wrong, or None


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a whole number >= 1, got {value!r}"
    return None


def _int_at_least_0(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"must be a whole number >= 0, got {value!r}"
    return None


def _number(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high:
            return (f"must be in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
                    f", got {value!r}")
        return None
    return check


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {value!r}"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _one_of(*choices: str) -> Check:
    return lambda value: None if value in choices else f"must be one of {list(choices)}, got {value!r}"


def _strings(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"must be a list of strings, got {value!r}"
    return None


def _milestones(value: Any) -> str | None:
    if (not isinstance(value, list) or not value
            or any(_number(0, float("inf"), low_open=True)(item) for item in value)):
        return f"must be a non-empty list of numbers > 0, got {value!r}"
    if value != sorted(value):
        return f"must be increasing, got {value!r}"
    return None


def _channel_values(positive: bool) -> Check:
    def check(value: Any) -> str | None:
        if (not isinstance(value, list) or len(value) != 3
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
                or (positive and min(value) <= 0)):
            return f"must be a list of 3 numbers{' > 0' if positive else ''}, got {value!r}"
        return None
    return check


def _per_model_decay(value: Any) -> str | None:
    from pokernet.models import list_models
    if not isinstance(value, dict):
        return f"must map model names to numbers, got {value!r}"
    known = list_models()
    for model, decay in value.items():
        if model not in known:
            return f"names unknown model {model!r}; known models: {', '.join(known)}"
        if problem := _number(0, 1)(decay):
            return f"{model}: {problem}"
    return None


# Every key a resolved recipe file may hold; a nested dict is a section.
SCHEMA: dict[str, Any] = {
    "name": _string,
    "description": _string,
    "derives_from": _optional(_string),
    "changes": _strings,
    "epochs": _positive_int,
    "batch_size": _positive_int,
    "optimizer": {"name": _one_of("sgd"), "momentum": _number(0, 1, high_open=True),
                  "nesterov": _boolean},
    "lr": {"base": _number(0, float("inf"), low_open=True), "reference_batch": _positive_int},
    "lr_schedule": {"name": _one_of("multistep"), "milestones": _milestones,
                    "reference_epochs": _positive_int, "gamma": _number(0, 1, low_open=True)},
    "label_smoothing": _number(0, 1, high_open=True),
    "dropout": _number(0, 1, high_open=True),
    "weight_decay": {"per_model": _per_model_decay, "default": _number(0, 1)},
    "data": {
        "resolution": _positive_int,
        "resize": _optional(_positive_int),
        "pad": _int_at_least_0,
        "hflip": _boolean,
        "color_jitter": {"brightness": _number(0, 1), "contrast": _number(0, 1),
                         "saturation": _number(0, 1)},
        "mean": _channel_values(positive=False),
        "std": _channel_values(positive=True),
    },
}


def packaged_recipes() -> list[str]:
    return sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def recipe_path(spec: str | Path) -> Path:
    """A recipe file path, or the bare name of a packaged recipe (``imagenet``)."""
    path = Path(spec)
    if path.is_file():
        return path
    packaged = RECIPE_DIR / f"{spec}.yaml"
    if "/" not in str(spec) and packaged.is_file():
        return packaged
    raise FileNotFoundError(f"recipe {str(spec)!r} is neither a file nor a packaged recipe "
                            f"(packaged: {', '.join(packaged_recipes())})")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"recipe {path}: cannot read it: {error}") from None
    if not isinstance(content, dict):
        raise ValueError(f"recipe {path}: must be a YAML mapping of keys to values")
    return content


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _validate(recipe: dict[str, Any], schema: dict[str, Any], where: str, prefix: str = "") -> None:
    unknown = sorted(set(recipe) - set(schema))
    if unknown:
        raise ValueError(f"recipe {where}: unknown key {prefix + unknown[0]!r} "
                         f"(known keys here: {', '.join(prefix + k for k in schema)})")
    for key, check in schema.items():
        name = prefix + key
        if key not in recipe:
            raise ValueError(f"recipe {where}: missing key {name!r}")
        value = recipe[key]
        if isinstance(check, dict):
            if not isinstance(value, dict):
                raise ValueError(f"recipe {where}: {name!r} must be a section of keys, got {value!r}")
            _validate(value, check, where, name + ".")
        elif problem := check(value):
            raise ValueError(f"recipe {where}: {name} {problem}")


def load_recipe(spec: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Load, merge with its parents and validate a recipe (a path or a packaged name)."""
    path = recipe_path(spec).resolve()
    if path in _seen:
        raise ValueError(f"recipe {path}: derives_from makes a cycle")
    own = _read_yaml(path)
    parent_spec = own.get("derives_from")
    if parent_spec is None:
        recipe = own
    else:
        if not isinstance(parent_spec, str):
            raise ValueError(f"recipe {path}: derives_from must be a recipe name or path, got {parent_spec!r}")
        sibling = path.parent / parent_spec
        parent = load_recipe(sibling if sibling.is_file() else parent_spec, _seen + (path,))
        inherited = {k: v for k, v in parent.items() if k not in METADATA_KEYS}
        recipe = _merge(inherited, own)
        recipe.setdefault("description", "")
        recipe.setdefault("changes", [])
    recipe.setdefault("name", path.stem)
    _validate(recipe, SCHEMA, str(path))
    return recipe


def resolve_recipe(recipe: dict[str, Any], model: str, epochs: int | None = None) -> dict[str, Any]:
    """The recipe for one run: epochs overridden, plus a ``resolved`` section with the numbers
    the run uses (lr for the global batch, milestones in epochs of this run, weight decay)."""
    resolved = copy.deepcopy(recipe)
    if epochs is not None:
        if problem := _positive_int(epochs):
            raise ValueError(f"epochs {problem}")
        resolved["epochs"] = epochs
    run_epochs = resolved["epochs"]
    schedule = resolved["lr_schedule"]
    decay = resolved["weight_decay"]
    resolved["resolved"] = {
        "lr": resolved["lr"]["base"] * resolved["batch_size"] / resolved["lr"]["reference_batch"],
        "lr_milestones_epochs": [round(m * run_epochs / schedule["reference_epochs"], 6)
                                 for m in schedule["milestones"]],
        "weight_decay": decay["per_model"].get(model, decay["default"]),
    }
    return resolved


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of a config."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
