"""Every command in the code blocks of the README and of the report's narrative
(workflow/report/*.rst) runs as written, or as far as it can here without hours or data: each is
parsed by its own parser, the quick ones run, Snakemake's are planned (`-n`) in a copy of the tree
laid out as a fresh clone, and the HTML report is written there and must hold every table, figure
and narrative section. CI (.ci/run) runs the set-up, the test command and the smoke target for real."""

import base64
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
NARRATIVE = sorted((ROOT / "workflow" / "report").glob("*.rst"))

# Run as written: quick, and write nothing outside their working folder.
RUN_AS_WRITTEN = {"pokernet complexity pokernet_100 --width 0.75 --no-se --json"}


def code_blocks() -> list[str]:
    """The README's ```bash blocks and the narrative's `.. code:: bash` blocks (unindented)."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    for path in NARRATIVE:
        for block in re.findall(r"^\.\. code(?:-block)?:: bash\n\n((?:(?:   .*)?\n)+)", path.read_text(), re.M):
            blocks.append("\n".join(line[3:] for line in block.splitlines()))
    return blocks


def readme_commands() -> list[str]:
    """The commands of the code blocks: continuation lines joined, comments dropped,
    `a && b` split into a and b."""
    commands = []
    for block in code_blocks():
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            commands += [part.strip() for part in line.split(" && ") if part.strip()]
    return list(dict.fromkeys(commands))


COMMANDS = readme_commands()


def pokernet_argv(command: str) -> list[str] | None:
    argv = shlex.split(command)
    if argv[0] == "pokernet":
        return argv[1:]
    if argv[0] == "torchrun" and "pokernet" in argv:
        return argv[argv.index("pokernet") + 1 :]
    return None


def kind(command: str) -> str | None:
    argv = shlex.split(command)
    if pokernet_argv(command) is not None:
        return "pokernet"
    if argv[0] == "snakemake":
        return "snakemake"
    if argv[:2] == ["bash", "scripts/setup.sh"] or argv[:3] == ["python", "-m", "pytest"]:
        return "ci"  # .ci/run runs both, in a fresh virtual environment
    if argv[:3] == ["pip", "install", "-e"]:
        return "pip"
    if argv[:2] in (["bash", "scripts/gpu_study.sh"], ["bash", "scripts/gpu_window.sh"]):
        return "gpu"  # needs a GPU machine; tests/test_study.py checks their CPU side
    if argv[0] in ("mkdir", "tar"):
        return "shell"  # unpacking an offline copy of CIFAR-10 (optional; users download it)
    return None


def test_every_readme_command_is_checked():
    assert len(COMMANDS) >= 10, COMMANDS
    assert not [c for c in COMMANDS if kind(c) is None], "add a check for these README commands"
    assert "bash scripts/setup.sh" in COMMANDS and "python -m pytest" in COMMANDS


@pytest.mark.parametrize("command", [c for c in COMMANDS if kind(c) == "pokernet"])
def test_pokernet_command_parses_as_written(command):
    from pokernet.cli import build_parser

    build_parser().parse_args(pokernet_argv(command))  # an unknown option or bad value exits 2


@pytest.mark.parametrize("command", sorted(RUN_AS_WRITTEN))
def test_quick_command_runs_as_written(command, tmp_path):
    assert command in COMMANDS, "RUN_AS_WRITTEN names a command the README no longer shows"
    assert shutil.which("pokernet"), "the `pokernet` console script is not installed (scripts/setup.sh)"
    result = subprocess.run(shlex.split(command), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_pip_extras_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for command in (c for c in COMMANDS if kind(c) == "pip"):
        assert re.search(r"\[(\w+)\]", command).group(1) in extras, command
    assert any("[cluster]" in r for r in extras["test"]), "the test command dry-runs the SLURM profile"


@pytest.fixture(scope="module")
def fresh_tree(tmp_path_factory) -> Path:
    """The working tree as a fresh clone lays it out: tracked and new files, in index order (so
    modification times are as a checkout leaves them), no .snakemake/, work/ or logs/."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the fresh-clone layout cannot be listed")
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    tree = tmp_path_factory.mktemp("fresh")
    for name in sorted(n for n in listed if n and (ROOT / n).is_file()):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tree / name)
    return tree


def snakemake(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


# Jobs that only render committed numbers again (seconds, deterministic).
RENDER_RULES = {"table2", "table3", "table4", "table5", "fig5", "fig6", "learning_curves", "summary", "page"}
RENDER_RULES |= {"narrative_page", "calibration", "verdicts", "tables"}


def test_main_command_on_a_fresh_clone_plans_no_training(fresh_tree):
    """The results and the DAG's small intermediates (work/default) are committed, so the main
    command has nothing to do, or only re-renders: a checkout's file order can leave a table
    older than its inputs by microseconds. It never retrains or re-measures latency."""
    assert "bash scripts/setup.sh && snakemake --cores 8 tables" in README
    if not list(fresh_tree.glob("work/default/runs/*/seed*/metrics.json")):
        pytest.skip(
            "work/default/ is not committed: without the runs' metrics.json a fresh clone may plan "
            "the whole DAG (retraining) whenever the checkout leaves a table older than its inputs"
        )
    result = snakemake(["--cores", "8", "tables", "-n"], fresh_tree)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    planned = set(re.findall(r"^rule (\w+):", output, re.M))
    assert "Nothing to be done" in output or planned <= RENDER_RULES, sorted(planned - RENDER_RULES)
    assert "Nothing to be done" in README and "--forceall" in README and "--unlock" in README


@pytest.mark.parametrize(
    "command",
    sorted({c.removesuffix(" -n") for c in COMMANDS if kind(c) == "snakemake"} - {"snakemake --cores 8 tables"}),
)
def test_snakemake_command_plans_as_written(command, fresh_tree):
    argv = shlex.split(command)[1:]
    if "--report" in argv:  # quick: writes the HTML report of the committed results
        result = snakemake(argv, fresh_tree)
        assert result.returncode == 0, result.stderr[-2000:]
        check_report(fresh_tree / argv[argv.index("--report") + 1], fresh_tree)
    elif "--unlock" in argv:  # quick, and only removes Snakemake's lock
        result = snakemake(argv, fresh_tree)
        assert result.returncode == 0 and "Unlock" in result.stdout + result.stderr, result.stderr[-2000:]
    else:
        result = snakemake([*argv, "-n"], fresh_tree)
        assert result.returncode == 0, result.stderr[-2000:]


# What the report must carry: the paper's Tables 2-5 and Figs. 5-6, the claim summary (the tables and the
# summary as the HTML pages it shows inline).
REPORTED = [
    "results/html/table2.html",
    "results/html/table3.html",
    "results/html/table4.html",
    "results/html/table5.html",
    "results/fig5.png",
    "results/fig6.png",
    "results/learning_curves.png",
    "results/html/summary.html",
]


def embedded_file(html: str, path: str) -> bytes:
    """The bytes Snakemake's report embeds for ``path`` (its entry's base64 data URI)."""
    within_entry = r'(?:(?!": \{"name").)*?'  # up to the next file's entry, not beyond
    data_uri = r'"data_uri": "data:[^"]*?;base64,([\w+/=]+)"'
    entry = re.search(re.escape(json.dumps(path)) + r": \{" + within_entry + data_uri, html)
    assert entry, f"{path} is not in the report"
    return base64.b64decode(entry.group(1))


def section_ids(path: Path) -> list[str]:
    """The ids docutils gives the headings of one narrative file."""
    from docutils import nodes
    from docutils.core import publish_doctree

    tree = publish_doctree(path.read_text(), settings_overrides={"doctitle_xform": False, "report_level": 5})
    return [section["ids"][0] for section in tree.findall(nodes.section)]


def check_report(report: Path, tree: Path) -> None:
    html = report.read_text(encoding="utf-8")
    for path in REPORTED:
        assert embedded_file(html, path) == (tree / path).read_bytes(), f"{path} differs in the report"
    front = tree / "workflow/report/workflow.rst"
    included = [tree / name for name in re.findall(r"^\.\. include:: (\S+)$", front.read_text(), re.M)]
    captions = re.findall(
        r'caption="\.\./report/([\w.]+)"',
        "".join(rules.read_text() for rules in (tree / "workflow/rules").glob("*.smk")),
    )
    pages = {path.name: f"results/html/narrative/{path.stem}.html" for path in NARRATIVE}  # rule narrative_page
    pages = {name: page for name, page in pages.items() if (tree / page).is_file()}
    captions += [f"{path.stem}.rst" for path in (tree / "results/html").glob("*.html")]  # rule page: page.rst
    orphans = {path.name for path in NARRATIVE} - {front.name, *captions, *pages, *(p.name for p in included)}
    assert not orphans, f"narrative files the report neither includes nor shows as a page: {sorted(orphans)}"
    for path in [front, *included]:
        for section in section_ids(path):
            assert f'id=\\"{section}\\"' in html, f"section {section!r} of {path.name} is not in the report"
    for name, page in pages.items():
        shown = embedded_file(html, page).decode()
        for section in section_ids(tree / "workflow/report" / name):
            assert f'id="{section}"' in shown, f"section {section!r} of {name} is not in the report's {page}"
    assert "system-message" not in html, "docutils reported a problem in a narrative or caption file"
