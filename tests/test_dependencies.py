"""Declared dependencies = imported ones: every third-party import in `pokernet/` is declared in
pyproject.toml, every declared dependency is imported (or says why not), and the conda files
list the same packages."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Declared but not imported by the package, each for a reason given in pyproject.toml.
NOT_IMPORTED = {
    "onnxscript": "torch.onnx.export needs it at run time",
    "snakemake": "runs the workflow (Snakefile), not imported by the package",
}
# Imported only by a runtime of an optional extra (inside its functions; runtime_spec names the
# missing package first): module -> (extra, distribution). Checked to be in that extra.
OPTIONAL_IMPORTS = {"executorch": ("xnnpack", "executorch")}


def name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared() -> set[str]:
    return {name(r) for r in PYPROJECT["project"]["dependencies"]}


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the package files that import it (conditional imports included)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "pokernet").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("pokernet", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in importlib.metadata.packages_distributions().get(module, [])}


def test_every_third_party_import_is_declared():
    undeclared = {
        module: sorted(files)
        for module, files in third_party_imports().items()
        if not distributions(module) & declared() and module not in OPTIONAL_IMPORTS
    }
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"


def test_optional_imports_are_in_their_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for module, (extra, distribution) in OPTIONAL_IMPORTS.items():
        assert distribution in {name(r) for r in extras[extra]}, (module, extra)
        assert module in third_party_imports(), f"{module} is no longer imported: drop it"


def test_every_declared_dependency_is_imported():
    imported = set().union(*(distributions(module) for module in third_party_imports()))
    unused = declared() - imported - NOT_IMPORTED.keys()
    assert not unused, f"declared in pyproject but never imported by pokernet/: {sorted(unused)}"
    assert not NOT_IMPORTED.keys() & imported, "a NOT_IMPORTED entry is imported after all: drop it"


def conda_pip_list(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {name(r) for r in pip if not r.startswith("-e")}


def test_conda_environments_match_pyproject():
    extras = PYPROJECT["project"]["optional-dependencies"]
    everything = declared() | {name(r) for r in extras["test"] + extras["cluster"]} - {"pokernet-repro"}
    # The workflow's job environment runs the pokernet CLI only: no Snakemake, pytest or plugin.
    expected = {ROOT / "environment.yml": everything}
    expected |= {path: declared() - {"snakemake"} for path in (ROOT / "workflow/envs").glob("*.yaml")}
    pins = {name(r): r.split("#")[0].strip() for r in PYPROJECT["project"]["dependencies"]}
    for path, packages in expected.items():
        listed = conda_pip_list(path)
        assert listed == packages, (path.name, sorted(listed ^ packages))
        text = path.read_text()
        for pinned in ("torch", "torchvision"):  # the pins that keep pip off a multi-GB download
            assert pins[pinned] in text, (path.name, pins[pinned])
