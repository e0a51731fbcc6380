"""Every hand-run study in benchmarks/ runs end to end at its smallest size (a smoke test: it must
finish and write its report; its figures mean nothing at this size). Each runs in its own process,
as a user runs it (OpenVINO must not load into the pytest process), and writes under tmp_path,
never into results/benchmarks/ or pokernet/latency/expansion_choice.json."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# every runtime the per-layer profile supports that is installed (OpenVINO is in the test environment)
PROFILED = ["onnxruntime", "eager", *(["openvino"] if importlib.util.find_spec("openvino") else [])]

# script -> (arguments at the smallest size, the files it writes under tmp_path, a line its report holds)
SMOKE = {
    "latency_stability.py": (
        [
            "--repeats",
            "2",
            "--models",
            "pokernet_050",
            "--runtime",
            "eager",
            "--threads",
            "1",
            "--budget-s",
            "0.05",
            "--out",
            "stability.md",
        ],
        ["stability.md"],
        "pokernet_050",
    ),
    "paper_parallel.py": (
        ["--quick", "--threads", "2", "--budget-s", "0.02", "--layer-budget-s", "0.005", "--runs", "2"]
        + ["--out", "paper_parallel.md"],
        ["paper_parallel.md"],
        "paper_parallel",
    ),
    "profile_layers.py": (
        ["--runs", "2", "--models", "pokernet_050", "ghostnet_050", "--runtimes", *PROFILED, "--out", "profile.md"],
        ["profile.json", "profile.md"],
        f"{PROFILED[-1]}: Poker − Ghost ms",  # the cross-runtime section holds the last runtime
    ),
    "proxy_first_steps.py": (["--steps", "1", "--models", "pokernet_050"], [], "pokernet_050"),
    "train_throughput.py": (
        ["--models", "pokernet_050", "--rounds", "1", "--steps", "1", "--members", "2", "--compile-models"],
        [],
        "ratio to today",
    ),
    "epochs_seeds.py": (
        ["--models", "pokernet_050", "ghostnet_050", "--epochs", "1", "--seeds", "0", "1", "--subset", "2"],
        [],
        "power per CPU-min",
    ),
    "proxy_stability.py": (["--models", "pokernet_050", "--subset", "4", "--train-epochs", "1"], [], "pokernet_050"),
    "trainer_ab.py": (
        ["--baseline", "HEAD", "--arms", "baseline:1", "current:1", "--model", "pokernet_050"]
        + ["--runs", "1", "--epochs", "1", "--subset", "2"],
        [],
        "img/s (machine)",
    ),
    "cli_startup.py": (["--rounds", "1", "--out", "cli_startup.md"], ["cli_startup.md"], "pokernet --help"),
    "protocol_explore.py": (
        ["--lengths", "1", "--seeds", "100", "--eval-every", "1", "--subset", "2", "--work", "explore"]
        + ["--protocol", str(ROOT / "workflow/protocol.yaml"), "--timed-runs", str(ROOT / "work/default/runs")],
        [],
        "Protocol exploration",
    ),
    "imagenet_throughput.py": (
        ["--device", "cpu", "--quick", "--out", "imagenet.txt"],
        ["imagenet.txt"],
        "pokernet_100",
    ),
}


def test_every_benchmark_has_a_smoke_test():
    owned_elsewhere = {"gpu_throughput.py"}  # smoke-tested in tests/test_study.py
    assert sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")) == sorted({*SMOKE, *owned_elsewhere})


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_at_its_smallest_size(script, tmp_path):
    argv, written, expected = SMOKE[script]
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in written:
        assert (tmp_path / name).stat().st_size > 0, name
    report = (tmp_path / written[-1]).read_text() if written else result.stdout
    assert expected in report


def test_benchmarks_use_only_the_public_latency_surface():
    """A hand-run study is a thin client: from pokernet.latency it imports pokernet.latency.api only."""
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        modules = {
            node.module
            for node in ast.walk(ast.parse(script.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pokernet.latency")
        }
        assert modules <= {"pokernet.latency.api"}, (script.name, modules)


def test_every_hand_run_result_is_listed_with_its_command():
    """results/benchmarks/ is the one place for hand-run output; its README says what made each file."""
    folder = ROOT / "results" / "benchmarks"
    listed = (folder / "README.md").read_text()
    for path in folder.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in listed or f"`{path.stem}.md`, `.json`" in listed, path.name
    assert not (ROOT / "benchmarks" / "results").exists()


def test_profile_layers_refuses_an_unreadable_latency_report_before_profiling(tmp_path):
    (tmp_path / "latency.json").write_text('{"results": []}')
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "profile_layers.py"),
            "--latency-json",
            "latency.json",
            "--out",
            "p.md",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "profile_layers.py: error: latency.json is not the JSON this needs: it has no hardware, ratios"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latency.json"]


def test_gpu_check_imports_each_name_from_where_it_is_defined():
    """benchmarks/gpu_check.sh needs a GPU to run; here the names its Python heredocs import from
    pokernet are imported, each from the module (or package) that defines it, not one that happens to import it."""
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    imports = [line.split() for line in script.splitlines() if line.startswith("from pokernet")]
    assert imports, "gpu_check.sh imports nothing from pokernet"
    checks = [
        f"assert ({name}.__module__ + '.').startswith({words[1] + '.'!r}), {name}.__module__"
        for words in imports
        for name in (word.rstrip(",") for word in words[3:])
    ]  # a package (pokernet.models) may export what its modules define
    code = "\n".join([" ".join(words) for words in imports] + checks)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
