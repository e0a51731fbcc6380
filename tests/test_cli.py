"""Bad input: exit code 2 and one clear line on stderr."""

import subprocess
import sys

import pytest

from pokernet.cli import COMMANDS


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
    from pokernet.models import list_models

    result = run_cli("models")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.strip().splitlines()[:-1]] == list_models()
    assert result.stdout.strip().splitlines()[-1].startswith("(timm ")


# What a command needs only when it runs: `--help`, `pokernet models` and the workflow's parse
# must not pay for it (issue 26: `import torch` alone took 26 s on a loaded machine).
HEAVY = ("torch", "timm", "torchvision", "ptflops", "onnxruntime", "matplotlib", "pandas", "scipy")
LIGHT_PATHS = {
    "import pokernet.cli": "import pokernet.cli",
    "build the parser": "import pokernet.cli as c; c.build_parser()",
    "pokernet models": "import pokernet.cli as c; c.main(['models'])",
    "the Snakefile's imports": (
        "from pokernet import schemas; from pokernet.schemas.overlays import layered_config; "
        "from pokernet.train.recipe import load_recipe; from pokernet.models import list_models; "
        "from pokernet.provenance import available_cores; from pokernet.models.variant import Variant; "
        "Variant.parse('pokernet_050-no_se').reference; list_models()"
    ),
}


@pytest.mark.parametrize("path", LIGHT_PATHS)
def test_light_paths_import_no_torch(path):
    code = f"import sys; {LIGHT_PATHS[path]}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", f"{path} imports {result.stdout.strip().splitlines()[-1]}"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_imports_no_torch(command):
    code = (
        "import sys, contextlib, io\nimport pokernet.cli as c\nquiet = contextlib.redirect_stdout(io.StringIO())\n"
        f"with contextlib.suppress(SystemExit), quiet: c.main([{command!r}, '--help'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"pokernet {command} --help imports {result.stdout.strip()}"
