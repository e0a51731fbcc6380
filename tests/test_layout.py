"""The layout: imports flow one way with no circle, a command lives in `pokernet/<pkg>/cli.py`,
functions stay short, and the DAG declares what its jobs read (issue 11)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pokernet"
MAX_FUNCTION_LINES = 60
# Functions allowed over MAX_FUNCTION_LINES, each with its reason (none at present).
# Functions over 60 lines, each with its reason (none today); a new long function fails.
LONG_FUNCTIONS: dict[str, str] = {}


# ------------------------------------------------------------------------------------ imports


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """pokernet module -> the pokernet modules it imports (anywhere in the file, lazily too)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_sees_the_package():
    graph = import_graph()
    assert "pokernet.models.registry" in graph["pokernet.models.zoo"]
    assert "pokernet.complexity.counting" in graph["pokernet.complexity.audit"]  # relative imports
    # The registry is a leaf (timm's layout) over the models' data (catalog, a leaf without torch).
    assert graph["pokernet.models.registry"] == {"pokernet.models.catalog"}
    assert graph["pokernet.models.catalog"] == set()


def test_no_import_circle():
    assert cycles(import_graph()) == []


def test_only_the_cli_wiring_imports_a_command_module():
    entry = {"pokernet.cli", "pokernet.__main__"}
    wrong = {
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if target.endswith(".cli") and module not in entry
    }
    assert wrong == set()


def test_argument_helpers_are_for_command_modules_only():
    wrong = {
        module
        for module, targets in import_graph().items()
        if "pokernet.cliargs" in targets and not module.endswith(".cli")
    }
    assert wrong == set()


@pytest.mark.parametrize(
    "lower, upper",
    [
        ("pokernet.models", ("pokernet.complexity", "pokernet.train", "pokernet.latency", "pokernet.report")),
        ("pokernet.complexity", ("pokernet.train", "pokernet.latency", "pokernet.report")),
        ("pokernet.train", ("pokernet.complexity", "pokernet.latency", "pokernet.report")),
        ("pokernet.latency", ("pokernet.train", "pokernet.report")),
        ("pokernet.datasets", ("pokernet.models", "pokernet.train", "pokernet.latency", "pokernet.report")),
    ],
)
def test_imports_flow_one_way(lower, upper):
    """models -> complexity / train / latency -> report -> CLI: never back."""
    wrong = {
        (module, target)
        for module, targets in import_graph().items()
        if module == lower or module.startswith(lower + ".")
        for target in targets
        if target.startswith(upper) and not module.endswith(".cli")
    }
    assert wrong == set()


def test_every_command_is_its_package_cli():
    from pokernet.cli import COMMANDS, command_module

    for name, (package, _help) in COMMANDS.items():
        module = command_module(name)
        assert module.__name__ == f"pokernet.{package}.cli"
        assert callable(getattr(module, f"configure_{name}")) and callable(getattr(module, f"run_{name}"))
    assert not (PACKAGE / "commands").exists()


def test_functions_are_short():
    long = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                where = f"{path.relative_to(ROOT)}:{node.name}"
                if lines > MAX_FUNCTION_LINES and where not in LONG_FUNCTIONS:
                    long[where] = lines
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines (split them, or list them with a reason)"


# ------------------------------------------------------------------------------------ workflow


def snakemake(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def planned_rules(output: str) -> set[str]:
    stats = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {line.split()[0] for line in stats.splitlines()[3:] if line.split() and line.split()[0] != "total"}


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory) -> Path:
    """The DAG with every output present and up to date (empty files): nothing to do."""
    root = tmp_path_factory.mktemp("workflow")
    shutil.copy(ROOT / "Snakefile", root)
    shutil.copytree(ROOT / "workflow", root / "workflow")
    for folder in ("pokernet/recipes", "pokernet/data"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / "pokernet/latency").mkdir()
    shutil.copy(ROOT / "pokernet/latency/expansion_choice.json", root / "pokernet/latency")
    summary = snakemake("--summary", "tables", cwd=root)
    assert summary.returncode == 0, summary.stderr[-2000:]
    for line in summary.stdout.splitlines()[1:]:
        path = root / line.split("\t")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    touched = snakemake("--touch", "--cores", "1", "tables", cwd=root)
    assert touched.returncode == 0, touched.stderr[-2000:]
    assert "Nothing to be done" in snakemake("-n", "tables", cwd=root).stdout
    return root


REPORT_RULES = {
    "table2",
    "table3",
    "table4",
    "table5",
    "fig5",
    "fig6",
    "summary",
    "calibration",
    "verdicts",
    "page",
    "audit",
    "tables",
}


@pytest.mark.parametrize(
    "hidden, rules",
    [
        ("pokernet/data/paper.yaml", REPORT_RULES | {"claim_counts"}),  # pokernet claims reads Table 2's rows
        ("pokernet/latency/expansion_choice.json", {"latency", "table3", "summary", "verdicts", "page", "tables"}),
    ],
)
def test_editing_a_file_a_job_reads_replans_its_rules(workflow_copy, hidden, rules):
    path = workflow_copy / hidden
    original = path.read_text()
    try:
        path.write_text(original + ("\n# edited\n" if path.suffix == ".yaml" else "\n"))
        result = snakemake("-n", "tables", cwd=workflow_copy)
        assert result.returncode == 0, result.stderr[-2000:]
        planned = planned_rules(result.stdout)
        assert planned == rules
    finally:
        path.write_text(original)
        snakemake("--touch", "--cores", "1", "tables", cwd=workflow_copy)


# The rules whose jobs read each data file the package ships, in the default profile. A new data
# file fails until it is listed here; a rule that reads one must declare it as an input.
READERS = {
    "pokernet/data/paper.yaml": REPORT_RULES - {"tables", "verdicts", "page"}
    | {"claim_counts"},  # verdicts: summary.csv; a page its .md
    "pokernet/data/proxy_notes.yaml": {"table2"},  # the summary reads Table 2's rows (table2.json)
    "pokernet/data/run_caveats.yaml": {"table2", "table4", "table5"},
    "pokernet/latency/expansion_choice.json": {"latency"},
    "pokernet/recipes/proxy_fashion_mnist.yaml": {"train"},  # the default recipe
    "pokernet/recipes/imagenet.yaml": {"train"},  # which it derives from
    "pokernet/recipes/cifar10.yaml": set(),  # other profiles' recipes
    "pokernet/recipes/cifar10_gpu.yaml": set(),
}
# JSON Schemas are code (the contracts every command checks its files against), not data.
CODE_DIRS = ("pokernet/schemas/",)


def packaged_data_files() -> list[str]:
    """Every file under pokernet/data/ and every JSON/YAML file under pokernet/ (tracked or new)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "pokernet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(
        name
        for name in listed
        if (ROOT / name).is_file()
        and not name.startswith(CODE_DIRS)
        and (name.startswith("pokernet/data/") or Path(name).suffix in (".json", ".yaml", ".yml"))
    )


def declared_readers() -> dict[Path, set[str]]:
    """Every input file of the whole default DAG (`-n --forceall`) -> the rules whose jobs declare it."""
    result = snakemake("-n", "--forceall", "tables")
    assert result.returncode == 0, result.stderr[-2000:]
    readers: dict[Path, set[str]] = {}
    for rule, inputs in re.findall(r"^rule (\w+):\n    input: (.*)$", result.stdout, re.M):
        for name in inputs.split(", "):
            readers.setdefault((ROOT / name).resolve(), set()).add(rule)
    return readers


def test_every_packaged_data_file_is_declared_by_the_rules_that_read_it():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the package's files cannot be listed")
    files = packaged_data_files()
    assert "pokernet/data/paper.yaml" in files and sorted(READERS) == files, "list each data file's readers"
    declared = declared_readers()
    for name in files:
        rules = declared.get((ROOT / name).resolve(), set())
        assert rules == READERS[name], f"{name}: declared by {sorted(rules)}, read by {sorted(READERS[name])}"


@pytest.mark.parametrize(
    "target",
    [
        "work/default/runs/resnet50/seed0/metrics.json",
        "work/default/runs/pokernet_050-bogus/seed0/metrics.json",
        "work/default/runs/pokernet_050/seedX/metrics.json",
        "work/default/complexity/pokernet_050/extra.json",
    ],
)
def test_wildcards_match_only_known_variants_and_whole_seeds(target):
    result = snakemake("-n", target)
    assert result.returncode != 0
    assert "MissingRuleException" in result.stderr + result.stdout


def test_an_ablation_variant_is_a_known_target():
    result = snakemake("-n", "work/default/runs/pokernet_050-no_se/seed7/metrics.json")
    assert result.returncode == 0, result.stderr[-2000:]


def test_lint_every_rule_has_its_conda_env_and_log():
    """snakemake --lint flags a rule without `conda:` (or log); none is flagged."""
    result = snakemake("--lint")
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("conda") is None and shutil.which("mamba") is None,
    reason="no conda here: snakemake refuses --sdm conda even for a dry run",
)
def test_conda_dry_run():
    result = snakemake("-n", "tables", "--forceall", "--sdm", "conda")
    assert result.returncode == 0, result.stderr[-2000:]


def pip_requirements(path: Path) -> set[str]:
    dependencies = yaml.safe_load(path.read_text())["dependencies"]
    pip = next(d["pip"] for d in dependencies if isinstance(d, dict))
    return {r for r in pip if not r.startswith("-e")}


def test_job_env_has_the_runtime_dependencies_of_environment_yml():
    tools = {"snakemake", "pytest", "snakemake-executor-plugin-slurm", "ruff", "snakefmt"}
    full = {
        r
        for r in pip_requirements(ROOT / "environment.yml")
        if not any(r.startswith(t + op) for t in tools for op in ("=", ">", "<", "~", "!"))
    }
    assert pip_requirements(ROOT / "workflow/envs/pokernet.yaml") == full


def test_latency_log_does_not_copy_the_report():
    """The JSON report goes to the rule's output only; the log gets the human summary."""
    rule = (ROOT / "workflow/rules/latency.smk").read_text().split("rule latency:", 1)[1]
    shell = rule.split("shell:", 1)[1]
    assert "pokernet latency" in shell and "--out {output:q}" in shell and "--json" not in shell


def test_results_holds_only_the_dag_outputs():
    summary = snakemake("--summary", "tables")
    outputs = {line.split("\t")[0] for line in summary.stdout.splitlines()[1:]}
    top = {str(p.relative_to(ROOT)) for p in (ROOT / "results").iterdir() if p.is_file()}
    assert top <= outputs, top - outputs
