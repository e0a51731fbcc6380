"""`pokernet latency` / `pokernet profile`: JSON contract, ONNX check, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from pokernet.cli import main
from pokernet.latency.choice import choice_note
from pokernet.latency.equivalence import OutputMismatch, check_equal
from pokernet.latency.onnx_export import drop_noop_slices, export_onnx
from pokernet.latency.ratios import ratio_spread, ratios, references_for
from pokernet.latency.runtime_table import ALL_RUNTIMES, runtime_spec
from pokernet.latency.runtimes import make_runner
from pokernet.latency.timing import summarize, time_interleaved
from pokernet.models import create_model


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """One quick run of every runtime of --runtime all at a tiny resolution (the reference is added).

    In its own process, as users run it: OpenVINO loaded into the pytest process crashed later
    tests (SIGSEGV; see tests/test_latency_openvino.py)."""
    out = tmp_path_factory.mktemp("latency") / "latency.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pokernet",
            "latency",
            "pokernet_050",
            "--runtime",
            "all",
            "--threads",
            "1",
            "--quick",
            "--resolution",
            "32",
            "--json",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), done.stderr, out


def test_json_has_the_contract_keys(quick_report):
    report, _, _ = quick_report
    assert {"hardware", "versions", "batch", "resolution", "results", "ratios"} <= set(report)
    assert isinstance(report["hardware"]["cpu"], str) and report["hardware"]["cores"] >= 1
    assert report["hardware"]["threads"] == [1]
    assert {"torch", "onnxruntime"} <= set(report["versions"])
    assert report["batch"] == 1 and report["resolution"] == 32
    assert report["rewrite_choice"] == choice_note(report["hardware"]["isa"])  # Table 3 prints it
    assert {(r["model"], r["runtime"]) for r in report["results"]} == {
        (m, rt) for m in ("pokernet_050", "ghostnet_050") for rt in ALL_RUNTIMES if runtime_spec(rt).min_threads == 1
    }  # paper_parallel needs 2 threads: skipped, said on stderr
    for r in report["results"]:
        assert {"model", "runtime", "threads", "median_ms", "iqr_ms", "runs"} <= set(r)
        assert r["median_ms"] > 0 and r["iqr_ms"] >= 0 and r["runs"] >= 3 and r["threads"] == 1
    runtimes = [r["runtime"] for r in report["ratios"]]
    assert sorted(runtimes) == sorted({r["runtime"] for r in report["results"]})  # each setting once, no "best"
    for r in report["ratios"]:
        assert {"model", "reference", "runtime", "threads", "ratio", "invocation_ratios", "stable"} <= set(r)
        assert r["model"] == "pokernet_050" and r["reference"] == "ghostnet_050" and r["ratio"] > 0
        assert r["invocation_ratios"] == [r["ratio"]] and r["stable"] is None  # one invocation: not checked


def test_missing_reference_is_added_and_said(quick_report):
    report, stderr, _ = quick_report
    assert "added reference model(s) ghostnet_050" in stderr
    assert report["added_references"] == ["ghostnet_050"]
    assert references_for(["pokernet_100", "ghostnet_100"]) == (["pokernet_100", "ghostnet_100"], [])


def test_out_file_is_the_same_json(quick_report):
    report, _, out = quick_report
    assert json.loads(out.read_text()) == report
    assert not list(out.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["latency", "no_such_model", "--quick"], "unknown model"),
        (["latency", "pokernet_050", "--runtime", "tvm"], "invalid choice"),
        (["latency", "pokernet_050", "--threads", "0"], "must be >= 1"),
        (["latency", "pokernet_050", "--budget-s", "-1"], "must be > 0"),
        (["latency"], "at least one model"),
        (["profile", "no_such_model"], "unknown model"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_onnx_check_catches_a_mismatch():
    torch.manual_seed(0)
    model = create_model("pokernet_050").eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        good = model(x)
    runner = make_runner("pokernet_050", model, "onnxruntime", 1, x, good)  # passes the check
    assert runner.call() is not None
    with pytest.raises(OutputMismatch, match="differs from PyTorch eager"):
        make_runner("pokernet_050", model, "onnxruntime", 1, x, good + 1e-2)
    with pytest.raises(OutputMismatch, match="shape"):
        check_equal("x", torch.zeros(2), torch.zeros(3))


def test_noop_slice_removal_removes_slices_and_keeps_the_graph_output():
    import io

    import onnx
    import onnxruntime as ort

    model = create_model("ghostnet_050").eval()
    x = torch.randn(1, 3, 32, 32)
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model, (x,), buffer, dynamo=False, opset_version=17, input_names=["input"], output_names=["output"]
        )
    raw = buffer.getvalue()

    def slices(model_bytes):
        return sum(node.op_type == "Slice" for node in onnx.load_from_string(model_bytes).graph.node)

    pruned = drop_noop_slices(raw)
    # GhostModule's out[:, :out_chs] keeps every channel when out_chs is even: such Slices go.
    assert slices(pruned) < slices(raw)
    assert slices(export_onnx(model, x)) == slices(pruned)  # the exporter prunes
    assert drop_noop_slices(pruned) == pruned  # nothing left to remove
    with torch.no_grad():
        expected = model(x)
    for graph in (raw, pruned):
        out = ort.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
        check_equal("pruned", out, expected)


def test_interleaved_timing_and_summary():
    calls = {"a": lambda: sum(range(100)), "b": lambda: sum(range(200))}
    times = time_interleaved(calls, budget_s=0.01, min_runs=5, warmup_s=0.0)
    assert len(times["a"]) == len(times["b"]) >= 5
    stats = summarize([0.001, 0.002, 0.003, 0.004])
    assert stats["median_ms"] == pytest.approx(2.5) and stats["runs"] == 4 and stats["iqr_ms"] == pytest.approx(1.5)


def test_ratios_one_per_setting_and_their_spread_over_invocations():
    results = [
        {"model": "pokernet_100", "runtime": "eager", "threads": 1, "median_ms": 10.0},
        {"model": "ghostnet_100", "runtime": "eager", "threads": 1, "median_ms": 8.0},
        {"model": "pokernet_100", "runtime": "onnxruntime", "threads": 1, "median_ms": 6.0},
        {"model": "ghostnet_100", "runtime": "onnxruntime", "threads": 1, "median_ms": 5.0},
    ]
    got = {r["runtime"]: r for r in ratios(results, ["eager", "onnxruntime"])}
    assert got == {"eager": {**got["eager"], "ratio": 1.25}, "onnxruntime": {**got["onnxruntime"], "ratio": 1.2}}
    stable = ratio_spread([1.00, 1.02, 0.99, 1.01, 1.00])
    assert (stable["ratio"], stable["ratio_min"], stable["ratio_max"], stable["stable"]) == (1.0, 0.99, 1.02, True)
    assert ratio_spread([1.00, 1.05, 1.00])["stable"] is False  # one invocation 5% off the median
    assert ratio_spread([1.05])["stable"] is None


def test_invocations_run_in_separate_processes_and_combine(capsys):
    assert (
        main(
            [
                "latency",
                "pokernet_050",
                "--runtime",
                "eager",
                "--threads",
                "1",
                "--quick",
                "--resolution",
                "32",
                "--invocations",
                "2",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert len(report["invocations"]) == 2 and report["command"].endswith("--invocations 2")
    [ratio] = report["ratios"]
    assert len(ratio["invocation_ratios"]) == 2 and ratio["ratio_min"] <= ratio["ratio"] <= ratio["ratio_max"]
    assert all(len(r["invocation_median_ms"]) == 2 for r in report["results"])


def test_profile_command_json(capsys):
    assert main(["profile", "pokernet_050", "--resolution", "32", "--runs", "3", "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    categories = {r["category"]: r for r in report["categories"]}
    assert categories["depthwise xk (Poker expansion)"]["madds"] > 0
    assert categories["SE"]["madds"] > 0 and categories["pointwise"]["madds"] > 0
    assert sum(r["madds"] for r in report["categories"]) == report["total_madds"]
