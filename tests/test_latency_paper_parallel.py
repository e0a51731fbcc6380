"""The ``paper_parallel`` runtime (§4.1's protocol): exact, forked, timed with its reference,
and explicit about the thread counts it cannot run at."""

from __future__ import annotations

import json

import pytest
import torch

from pokernet.cli import main
from pokernet.latency.equivalence import randomize_bn
from pokernet.latency.measure import measure
from pokernet.latency.paper_parallel import ForkedExpansion, fork_branches, paper_parallel_call, trace_and_freeze
from pokernet.latency.prepare import prepare_module
from pokernet.latency.runtimes import make_runner
from pokernet.models import create_model
from pokernet.models.layers import PokerModule
from pokernet.provenance import available_cores

RESOLUTION = 32  # every Poker stage is still at least 1x1; seconds, not minutes


def _model_and_reference(name: str):
    torch.manual_seed(0)
    model = randomize_bn(create_model(name)).eval()
    x = torch.randn(1, 3, RESOLUTION, RESOLUTION)
    with torch.no_grad():
        return model, x, model(x)


@pytest.mark.parametrize("name", ["pokernet_050", "pokernet_100"])
def test_paper_parallel_equals_the_model_as_trained(name):
    model, x, reference = _model_and_reference(name)
    runner = make_runner(name, model, "paper_parallel", 2, x, reference)  # raises on a mismatch
    torch.testing.assert_close(runner.call(), reference, rtol=1e-4, atol=1e-4)
    notes = runner.notes["paper_parallel"]
    assert notes["poker_modules"] == 10 and notes["intra_op_threads"] == 2
    assert notes["forked_per_module"] == [k - 1 for k in notes["branches_per_module"]]
    assert runner.notes["poker_expansion"] == {"split": 10}


def test_the_forks_survive_trace_and_freeze():
    model, x, reference = _model_and_reference("pokernet_050")
    module, _ = prepare_module("pokernet_050", model, "paper_parallel", 2, RESOLUTION)
    ks = fork_branches(module)
    assert len(ks) == 10
    assert all(isinstance(m.expand, ForkedExpansion) for m in module.modules() if isinstance(m, PokerModule))
    frozen = trace_and_freeze(module, x.contiguous(memory_format=torch.channels_last))
    assert len(frozen.graph.findAllNodes("prim::fork")) == sum(k - 1 for k in ks)
    torch.testing.assert_close(frozen(x), reference, rtol=1e-4, atol=1e-4)


def test_direct_model_is_split_and_forked_with_its_order_restored():
    model, x, reference = _model_and_reference("pokernet_050")
    call = paper_parallel_call(model, x, 2, torch.contiguous_format)
    torch.testing.assert_close(call(), reference, rtol=1e-4, atol=1e-4)
    assert call.notes["paper_parallel"]["poker_modules"] == 10
    assert not any(isinstance(m, ForkedExpansion) for m in model.modules())  # the caller's model untouched


def test_ghostnet_is_the_torchscript_runtime():
    model, x, reference = _model_and_reference("ghostnet_050")
    runner = make_runner("ghostnet_050", model, "paper_parallel", 2, x, reference)
    plain = make_runner("ghostnet_050", model, "torchscript", 2, x, reference)
    assert runner.notes["paper_parallel"]["poker_modules"] == 0
    assert {k: v for k, v in runner.notes.items() if k != "paper_parallel"} == plain.notes


def test_one_thread_is_refused_by_the_builder_and_skipped_by_measure():
    model, x, _ = _model_and_reference("pokernet_050")
    with pytest.raises(ValueError, match="at least 2 threads"):
        paper_parallel_call(model, x, 1, torch.contiguous_format)
    said: list[str] = []
    report = measure(
        ["ghostnet_050"],
        ["torchscript", "paper_parallel"],
        [1],
        resolution=RESOLUTION,
        budget_s=0.01,
        min_runs=2,
        warmup_s=0.0,
        log=said.append,
    )
    assert {(r["runtime"], r["threads"]) for r in report["results"]} == {("torchscript", 1)}
    assert any("paper_parallel: not timed at 1 thread" in line for line in said)


def test_cli_threads_1_is_one_line_exit_2(capsys):
    code = main(["latency", "pokernet_050", "--runtime", "paper_parallel", "--threads", "1", "--quick"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "'paper_parallel' needs at least 2 threads" in err[-1]
    assert not any("Traceback" in line for line in err)


@pytest.mark.skipif(available_cores() < 2, reason="the runtime is timed at >= 2 threads only")
def test_cli_quick_json_prints_both_medians_and_the_ratio(capsys):
    code = main(
        ["latency", "pokernet_050", "--runtime", "paper_parallel", "--quick", "--json", "--resolution", str(RESOLUTION)]
    )
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    threads = available_cores()
    medians = {(r["model"], r["runtime"], r["threads"]): r["median_ms"] for r in report["results"]}
    assert set(medians) == {("pokernet_050", "paper_parallel", threads), ("ghostnet_050", "paper_parallel", threads)}
    assert all(m > 0 for m in medians.values())
    (ratio,) = [r for r in report["ratios"] if r["runtime"] == "paper_parallel"]
    assert ratio["threads"] == threads and ratio["reference"] == "ghostnet_050" and ratio["ratio"] > 0
    assert "paper_parallel: not timed at 1 thread" in captured.err
    forked = next(r for r in report["results"] if r["model"] == "pokernet_050")["optimizations"]["paper_parallel"]
    assert forked["inter_op_threads"] == threads and forked["intra_op_threads"] == threads
