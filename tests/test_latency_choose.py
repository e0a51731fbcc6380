"""``pokernet latency --choose`` records the fastest rewrites per CPU ISA, and a timing run says
which ISA's entry it applied (issue 18: a choice recorded for another ISA is not applied silently)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pokernet.latency.choice import cpu_isa

OTHER_ISA = "NOT_THIS_ISA"


def pokernet(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pokernet", "latency", *argv], capture_output=True, text=True, check=False
    )


def other_isa_record() -> dict:
    entry = {"hardware": {"cpu": "elsewhere", "isa": OTHER_ISA, "threads": [1]}, "date": "2026-01-01", "kept": 1}
    return {"entries": {OTHER_ISA: entry}}


def test_choose_quick_records_this_isa_beside_the_others(tmp_path):
    choice = tmp_path / "choice.json"
    choice.write_text(json.dumps(other_isa_record()))
    done = pokernet("--choose", "--runtime", "eager", "--threads", "1", "--quick", "--choice", str(choice))
    assert done.returncode == 0, done.stderr
    entries = json.loads(choice.read_text())["entries"]
    assert entries[OTHER_ISA]["kept"] == 1  # another ISA's entry survives
    entry = entries[cpu_isa()]
    assert entry["hardware"]["isa"] == cpu_isa() and entry["hardware"]["threads"] == [1]
    shapes = entry["expansion"]["choice"]["eager"]["1"]
    assert shapes and all(entry["expansion"]["timings_us"]["eager"]["1"][key][v] for key, v in shapes.items())
    assert set(entry["model"]["choice"]["eager"]["1"]) == {"pokernet_050", "ghostnet_050"}
    assert "--quick" in entry["command"] and "| shape (M, k, size) |" in done.stdout


def test_a_choice_recorded_for_another_isa_is_not_applied_silently(tmp_path):
    choice = tmp_path / "choice.json"
    choice.write_text(json.dumps(other_isa_record()))
    done = pokernet(
        "ghostnet_050", "--runtime", "eager", "--threads", "1", "--quick", "--choice", str(choice), "--json"
    )
    assert done.returncode == 0, done.stderr
    note = json.loads(done.stdout)["rewrite_choice"]
    assert f"entry {OTHER_ISA}" in note and "NOT recorded on this ISA" in note and cpu_isa() in note


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--choose", "pokernet_050"], "no MODEL"),
        (["--choose", "--runtime", "xnnpack"], "choices are measured for"),
        (["ghostnet_050", "--choice", "/nonexistent/choice.json"], "no such file"),
    ],
)
def test_bad_choose_input_exits_2_with_one_line(argv, message):
    done = pokernet(*argv)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
