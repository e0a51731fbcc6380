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
from typing import Any

from pokernet import schemas

RECIPE_DIR = Path(__file__).resolve().parent.parent / "recipes"
DEFAULT_RECIPES = {"fashion_mnist": "proxy_fashion_mnist", "cifar10": "cifar10", "imagenet": "imagenet"}
DATASETS = tuple(DEFAULT_RECIPES)  # the datasets `pokernet train --data` takes: each has its default recipe
# Not training settings: what a recipe is and says, and (study) the GPU study's list of runs.
METADATA_KEYS = ("name", "description", "derives_from", "changes", "study")


def _extra_checks(recipe: dict[str, Any], where: str) -> None:
    """What the JSON Schema (pokernet/schemas/recipe.schema.json) cannot say."""
    from pokernet.models import list_models

    milestones = recipe["lr_schedule"]["milestones"]
    if milestones != sorted(milestones):
        raise ValueError(f"recipe {where}: lr_schedule.milestones must be increasing, got {milestones!r}")
    known = list_models()
    for model in recipe["weight_decay"]["per_model"]:
        if model not in known:
            raise ValueError(
                f"recipe {where}: weight_decay.per_model names unknown model {model!r}; "
                f"known models: {', '.join(known)}"
            )


def validate_recipe(recipe: dict[str, Any], where: str) -> dict[str, Any]:
    """The recipe contract (finite numbers included); errors name the file and the key."""
    schemas.check("recipe", recipe, f"recipe {where}")
    _extra_checks(recipe, where)
    return recipe


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
    raise FileNotFoundError(
        f"recipe {str(spec)!r} is neither a file nor a packaged recipe (packaged: {', '.join(packaged_recipes())})"
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = schemas.load_yaml(path)
    except ValueError as error:
        raise ValueError(f"recipe {error}") from None
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
    return validate_recipe(recipe, str(path))


def resolve_recipe(recipe: dict[str, Any], model: str, epochs: int | None = None) -> dict[str, Any]:
    """The recipe for one run: epochs overridden, plus a ``resolved`` section with the numbers
    the run uses (lr for the global batch, milestones in epochs of this run, weight decay)."""
    resolved = copy.deepcopy(recipe)
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
        resolved["epochs"] = epochs
    run_epochs = resolved["epochs"]
    schedule = resolved["lr_schedule"]
    decay = resolved["weight_decay"]
    resolved["resolved"] = {
        "lr": resolved["lr"]["base"] * resolved["batch_size"] / resolved["lr"]["reference_batch"],
        "lr_milestones_epochs": [
            round(m * run_epochs / schedule["reference_epochs"], 6) for m in schedule["milestones"]
        ],
        "weight_decay": decay["per_model"].get(model, decay["default"]),
    }
    return resolved


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of a config."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
