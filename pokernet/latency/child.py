"""The one way a latency job runs in a fresh Python process: a function (``module:name``) called
on a JSON job read from stdin, its JSON result written to stdout; stderr passes through (the
progress log). Used where a set-up is once per process (ONNX Runtime's shared thread pool,
the inter-op pool of paper_parallel) and for the separate invocations of ``--invocations``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any


def run_in_child(function: str, job: dict[str, Any], what: str) -> Any:
    """``function(job)`` in a fresh process; its result, or RuntimeError naming ``what``."""
    done = subprocess.run(
        [sys.executable, "-m", "pokernet.latency.child", function],
        input=json.dumps(job),
        stdout=subprocess.PIPE,
        stderr=None,  # the child's progress log, live
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed in its process (exit code {done.returncode}; its messages are above)")
    return json.loads(done.stdout)


def main() -> None:
    module, _, name = sys.argv[1].partition(":")
    result = getattr(importlib.import_module(module), name)(json.load(sys.stdin))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
