"""Adding a model in one step (issue 26), end to end with a `snakemake -n` plan in a copy of the tree laid
out as a fresh clone: a PokerNet 0.75× registered by one catalog line and named once in `models:` gets
its exact label, reaches Tables 2-5 and the latency models, and, having no GhostNet 0.75×, a warning
that names the missing arm; `--forcerun latency` (the README's command) re-plans Table 3 with it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NEW = "pokernet_075"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the fresh-clone layout cannot be listed")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True
    ).stdout.decode()
    tree = tmp_path_factory.mktemp("clone")
    for name in sorted(n for n in listed.split("\0") if n and (ROOT / n).is_file()):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tree / name)
    catalog = tree / "pokernet/models/catalog.py"
    text = catalog.read_text()
    assert "    pokernet_entry(1.0),\n" in text
    catalog.write_text(
        text.replace("    pokernet_entry(1.0),\n", "    pokernet_entry(1.0),\n    pokernet_entry(0.75),\n")
    )
    models = yaml.safe_load((tree / "workflow/config/default.yaml").read_text())["models"]
    (tree / "more.yaml").write_text(yaml.safe_dump({"models": [*models, NEW]}))
    return tree


def run(tree: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "PYTHONPATH": str(tree), "HOME": str(tree)}
    return subprocess.run([*argv], cwd=tree, capture_output=True, text=True, timeout=600, env=env)


def test_the_new_width_is_labelled_exactly(tree):
    code = f"from pokernet.models import get_entry; print(get_entry({NEW!r}).paper_row)"
    result = run(tree, sys.executable, "-c", code)
    assert result.stdout.strip() == "PokerNet 0.75×", result.stderr[-2000:]


def test_one_config_entry_reaches_every_table(tree):
    result = run(
        tree, sys.executable, "-m", "snakemake", "-n", "-p", "tables", "--forcerun", "latency",
        "--configfile", "more.yaml",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f"{NEW} has no reference arm: no GhostNet 0.75× is registered" in output
    for variant in (NEW, f"{NEW}-no_se", f"{NEW}-act_relu", f"{NEW}-act_relu6"):  # Tables 2, 4, 5
        assert f"work/default/runs/{variant}/seed0/metrics.json" in output, variant
        assert f"work/default/complexity/{variant}.json" in output, variant
    latency = re.search(r"^Shell command: pokernet latency (.*)$", output, re.M)
    assert latency and NEW in latency.group(1).split(), "Table 3's latency job does not time the new width"
    planned = set(re.findall(r"^rule (\w+):", output, re.M))
    assert {"table2", "table3", "table4", "table5", "latency"} <= planned, sorted(planned)
