"""Bad input: exit code 2 and one clear line on stderr."""

import subprocess
import sys

import pytest


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pokernet", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, message",
    [
        (["complexity", "resnet50"], "unknown model 'resnet50'"),
        (["complexity", "pokernet_100", "--width", "0"], "--width: must be > 0"),
        (["complexity", "pokernet_100", "--width", "-0.5"], "--width: must be > 0"),
        (["complexity", "pokernet_100", "--act", "gelu"], "invalid choice: 'gelu'"),
        (["complexity", "ghostnet_100", "--no-se"], "does not take --no-se"),
        (["complexity"], "give at least one model name"),
        (["complexity", "pokernet_100", "--bogus"], "unrecognized arguments: --bogus"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    ],
)
def test_bad_input_exit_2_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_models_lists_every_name():
    result = run_cli("models")
    assert result.returncode == 0
    assert len(result.stdout.strip().splitlines()) == 13
