"""One JSON Schema per file contract, used by the code that writes a file and the code that reads it.

Contracts: ``recipe`` (pokernet/recipes/*.yaml, after ``derives_from`` is merged), ``metrics``
(RUN_DIR/metrics.json), ``latency`` (``pokernet latency --json/--out``), ``complexity``
(``pokernet complexity --json``), ``claims`` (``pokernet claims``). Each is ``<kind>.schema.json``
beside this file.

JSON Schema cannot say "finite": every comparison with NaN is false, so NaN passes ``minimum``,
``exclusiveMinimum`` and ``maximum`` alike, and Python's json module reads and writes NaN and
Infinity, which are not JSON. So :func:`check` also walks the instance for non-finite numbers,
:func:`parse` refuses NaN/Infinity in JSON text and :func:`dumps` refuses to write them.

Size before content: :func:`check` first counts the values and the nesting depth of an instance
(without recursion, stopping at :data:`MAX_VALUES` / :data:`MAX_DEPTH`), so that a YAML alias bomb
or a file nested 100,000 deep is refused in milliseconds instead of hanging or overflowing the
stack in the walks that follow; :func:`parse` and :func:`load_yaml` turn the parsers' own
RecursionError into that line, and :func:`load_yaml` refuses YAML aliases (no recipe needs them).

A schema may give a leaf an ``errorMessage`` ("must be a whole number >= 1"): the error then
reads ``<key> must be ..., got <value>``, the way a person would say it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

from pokernet.fileio import read_file_limited

KINDS = ("recipe", "metrics", "latency", "complexity", "claims", "protocol", "checkpoint")
# Far above any file of this project (a metrics.json of 600 epochs holds ~20,000 values, nested 4 deep).
MAX_VALUES = 1_000_000
MAX_DEPTH = 64


def _is_integer(_checker: Any, instance: Any) -> bool:
    """A whole number as written: 2.0 and True are not integers here (JSON Schema says they are)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def validator(kind: str) -> jsonschema.protocols.Validator:
    if kind not in KINDS:
        raise ValueError(f"unknown file contract {kind!r}; known: {', '.join(KINDS)}")
    schema = json.loads(resources.files(__name__).joinpath(f"{kind}.schema.json").read_text("utf-8"))
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    strict = jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_integer))
    return strict(schema)


def key_path(parts: Iterable[Any]) -> str:
    """``lr.base``, ``data.mean[0]``, ``results[3].median_ms``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_size(instance: Any, where: str) -> Any:
    """``instance`` if it holds at most MAX_VALUES values nested at most MAX_DEPTH deep, else a
    one-line ValueError. Iterative, and it stops at the bound: shared (aliased) values count each
    time they are reached, so a YAML alias bomb stops here rather than in a later walk."""
    stack, count = [(instance, 0)], 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ValueError(f"{where}: more than {MAX_VALUES:,} values (an alias bomb or a runaway file?); refused")
        if depth > MAX_DEPTH:
            raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels; refused")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        stack.extend((child, depth + 1) for child in children)
    return instance


def first_non_finite(instance: Any, path: tuple[Any, ...] = ()) -> tuple[str, float] | None:
    """(key path, value) of the first NaN or infinity in a tree of dicts and lists, else None."""
    if isinstance(instance, float) and not math.isfinite(instance):
        return key_path(path), instance
    children = (
        instance.items()
        if isinstance(instance, dict)
        else enumerate(instance)
        if isinstance(instance, (list, tuple))
        else ()
    )
    for key, value in children:
        if found := first_non_finite(value, path + (key,)):
            return found
    return None


def _describe(error: ValidationError, prefix: tuple[Any, ...] = ()) -> str:
    at = (*prefix, *error.absolute_path)
    where = key_path(at)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        known = ", ".join(key_path([*at, k]) for k in error.schema.get("properties", {}))
        return f"unknown key {key_path([*at, extra[0]])!r} (known keys here: {known})"
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return f"missing key {key_path([*at, missing])!r}"
    if "errorMessage" in error.schema:
        return f"{where or 'the file'} {error.schema['errorMessage']}, got {error.instance!r}"
    return f"{where or 'the file'}: {error.message}"


def check(kind: str, instance: Any, where: str, prefix: tuple[Any, ...] = ()) -> Any:
    """``instance`` if it keeps the ``kind`` contract, else one-line ValueError naming ``where``
    and the key (``prefix``: the keys above ``instance`` where it is nested in a larger file)."""
    check_size(instance, where)
    if found := first_non_finite(instance, prefix):
        key, value = found
        raise ValueError(f"{where}: {key or 'the value'} must be a finite number, got {value}")
    error = best_match(validator(kind).iter_errors(instance))
    if error is not None:
        raise ValueError(f"{where}: {_describe(error, prefix)}")
    return instance


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (only finite numbers are)")


def parse(text: str, where: str) -> Any:
    """JSON text to Python, refusing NaN and Infinity; errors name ``where``."""
    try:
        return check_size(json.loads(text, parse_constant=_refuse_constant), where)
    except RecursionError:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels; refused") from None
    except ValueError as error:  # JSONDecodeError is a ValueError
        if str(error).startswith(where):
            raise
        raise ValueError(f"{where}: not valid JSON ({error})") from None


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (``*name``): each value is written out where it is used."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"line {mark.line + 1}: YAML aliases (*name) are not accepted; write the value out")
        return super().compose_node(parent, index)


# YAML 1.1 (PyYAML's) reads 1e9 and 1.0e9 as text: its floats need a dot and a signed exponent (1.0e+9).
# YAML 1.2 and every reader of a config file take them for numbers, and so does this loader.
_NoAliasLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def parse_yaml(text: str) -> Any:
    """YAML text to Python: safe, no aliases, exponent forms as numbers (yaml.YAMLError when invalid)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml(path: str | Path) -> Any:
    """A YAML file (UTF-8, no aliases, bounded in size and depth); errors are one line naming ``path``."""
    try:
        text = read_file_limited(path).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        content = parse_yaml(text)
    except RecursionError:
        raise ValueError(f"{path}: nested deeper than {MAX_DEPTH} levels; refused") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    return check_size(content, str(path))


def load(path: str | Path) -> Any:
    """A JSON file's content (UTF-8, bounded in bytes, size and depth), not yet checked against a contract."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        text = read_file_limited(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it ({error})") from None
    return parse(text, str(path))


def read(path: str | Path, kind: str) -> Any:
    """Read a JSON file and check it against its contract."""
    return check(kind, load(path), str(path))


def dumps(kind: str, content: Any, where: str) -> str:
    """The JSON text of ``content`` after checking it against its contract (what a writer calls)."""
    check(kind, content, where)
    return json.dumps(content, indent=2, allow_nan=False) + "\n"
