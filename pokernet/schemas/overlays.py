"""The workflow's config as a user expects it to merge: the base (workflow/config/default.yaml),
then the overlay of the profile (workflow/config/<profile_name>.yaml), then the user's config files
in their order, then the ``--config`` values, each merged key by key into what came before.

Two Snakemake behaviours this undoes (issue 20): a ``--configfile`` given on the command line
*replaces* the profile's ``configfile:`` (so ``--profile workflow/profiles/imagenet --configfile
my.yaml`` silently dropped the ImageNet overlay and planned Fashion-MNIST jobs), and a nested
``--config`` value arrives as a string (``latency={threads: 1}``). Here the profile's overlay is
found by the ``profile_name`` the profile also sets with ``config:``, and a ``--config`` value
written as a YAML mapping or list is parsed and merged into the key it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import check_size, load_yaml, parse_yaml

BASE_PROFILE = "default"


def merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` merged into a copy of ``base``: mappings key by key, anything else replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _typed(value: Any) -> Any:
    """Snakemake leaves the leaves of a nested ``--config`` value as strings: type each as YAML
    would (``'1'`` -> 1, ``'true'`` -> True, ``'null'`` -> None); other text stays text."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, str):
        try:
            parsed = parse_yaml(value)
        except yaml.YAMLError:
            return value
        return parsed if parsed is None or isinstance(parsed, (bool, int, float)) else value
    return value


def typed_cli_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``--config`` values with nested values typed (``latency={threads: 1}``); a value that is
    still YAML text (a mapping or list Snakemake did not parse) is parsed first."""
    typed = {}
    for key, value in values.items():
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = parse_yaml(value)
            except yaml.YAMLError as error:
                raise ValueError(f"--config {key}: not valid YAML ({' '.join(str(error).split())})") from None
        check_size(value, f"--config {key}")
        typed[key] = _typed(value)  # Snakemake leaves true/false/null as text too
    return typed


def _mapping(path: Path) -> dict[str, Any]:
    content = load_yaml(path)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ValueError(f"config file {path}: holds a {type(content).__name__}, not a mapping of keys")
    return content


def layered_config(
    base: str | Path, config_files: Iterable[str | Path], cli_values: Mapping[str, Any], overlays_dir: str | Path
) -> dict[str, Any]:
    """The merged config (see the module's docstring) and nothing else: the caller validates it."""
    files = [Path(f) for f in config_files]
    layers = [_mapping(f) for f in files]
    typed = typed_cli_values(cli_values)
    profile = typed.get("profile_name") or next(
        (lay["profile_name"] for lay in reversed(layers) if "profile_name" in lay), BASE_PROFILE
    )
    overlay = Path(overlays_dir) / f"{profile}.yaml"
    given = {f.resolve() for f in files}
    if profile != BASE_PROFILE and overlay.is_file() and overlay.resolve() not in given:
        layers.insert(0, _mapping(overlay))
    merged = _mapping(Path(base))
    for layer in [*layers, typed]:
        merged = merge(merged, layer)
    return merged
