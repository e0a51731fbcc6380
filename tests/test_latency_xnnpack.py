"""The XNNPACK runtime (ExecuTorch's XNNPACK delegate, an optional extra): its output equals
PyTorch's with every conv delegated, its thread count is set, a missing package is one line,
and the no-op aliases that would split the delegate are removed without changing the output."""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest
import torch

from pokernet.cli import main
from pokernet.latency import runtime_table
from pokernet.latency.equivalence import randomize_bn
from pokernet.latency.runtime_table import ALL_RUNTIMES, RUNTIMES, runtime_spec
from pokernet.latency.runtimes import make_runner
from pokernet.latency.xnnpack_runtime import strip_aliases
from pokernet.models import create_model

RESOLUTION = 64  # the same graph as at 224, smaller activations
HAS_EXECUTORCH = importlib.util.find_spec("executorch") is not None
needs_executorch = pytest.mark.skipif(
    not HAS_EXECUTORCH, reason='executorch not installed (pip install -e ".[xnnpack]")'
)


@pytest.fixture
def no_executorch(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        runtime_table.importlib.util, "find_spec", lambda name, *a: None if name == "executorch" else real(name, *a)
    )


def test_missing_executorch_is_one_line(no_executorch):
    with pytest.raises(ValueError) as error:
        runtime_spec("xnnpack")
    message = str(error.value)
    assert "'executorch'" in message and 'pip install -e ".[xnnpack]"' in message and "\n" not in message


def test_cli_without_executorch_exits_2_with_one_line(no_executorch):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(["latency", "pokernet_050", "ghostnet_050", "--runtime", "xnnpack", "--threads", "1", "--quick"])
    assert code == 2
    lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1 and "executorch" in lines[0] and "Traceback" not in lines[0], lines


def test_xnnpack_is_a_choice_but_not_in_all():
    assert "xnnpack" in RUNTIMES and "xnnpack" not in ALL_RUNTIMES


def test_strip_aliases_keeps_the_output():
    """timm's GhostModule slices out[:, :out_chs] of exactly out_chs channels: an alias node."""
    torch.manual_seed(0)
    model = randomize_bn(create_model("ghostnet_050").eval())
    x = torch.randn(1, 3, 32, 32)
    program = torch.export.export(model, (x,))
    assert strip_aliases(program) > 0
    assert not [n for n in program.graph.nodes if n.target is torch.ops.aten.alias.default]
    with torch.no_grad():
        assert torch.allclose(program.module()(x), model(x), rtol=1e-5, atol=1e-5)


@needs_executorch
@pytest.mark.parametrize("name", ["pokernet_050", "ghostnet_050"])
def test_xnnpack_output_equals_pytorch_with_every_conv_delegated(name):
    torch.manual_seed(0)
    model = randomize_bn(create_model(name).eval())
    x = torch.randn(1, 3, RESOLUTION, RESOLUTION)
    with torch.no_grad():
        reference = model(x)
    runner = make_runner(name, model, "xnnpack", 1, x, reference)  # raises unless equal
    assert torch.allclose(torch.as_tensor(runner.call()), reference, rtol=1e-4, atol=1e-4)
    summary = runner.notes["xnnpack"]
    assert summary["xnnpack_delegates"] == 1  # one partition: the whole network
    assert not [op for op in summary["outside_delegate"] if "conv" in op or "linear" in op]


@needs_executorch
def test_xnnpack_threads_are_set():
    from executorch.extension.pybindings import portable_lib

    from pokernet.latency.xnnpack_runtime import set_xnnpack_threads

    for threads in (2, 1):
        set_xnnpack_threads(threads)
        assert portable_lib._threadpool_get_thread_count() == threads
