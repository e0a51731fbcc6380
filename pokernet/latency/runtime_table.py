"""The runtimes `pokernet latency` times, as data without torch: the command line lists them
(``--runtime``) without importing a runtime (issue 26); ``RuntimeSpec.builder()`` imports the
builder when a measurement needs it."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuntimeSpec:
    """How one runtime turns a prepared module into a no-argument callable.

    ``build``: "module:function" of ``function(module, x, threads, memory_format)``; ``package``
    is the pip package it needs beyond torch (a missing one is a one-line error naming it);
    ``in_all``: part of ``--runtime all`` (False for a runtime of an optional extra);
    ``min_threads``: the fewest threads it runs with (measure skips smaller counts, saying so).
    A builder may attach ``notes`` (a dict) to its callable: make_runner records them."""

    name: str
    build: str
    package: str | None = None
    in_all: bool = True
    min_threads: int = 1
    install: str | None = None  # how to install ``package`` when not `pip install <package>` (a pinned extra)

    def builder(self) -> Callable[..., Callable[[], Any]]:
        module, _, function = self.build.partition(":")
        return getattr(importlib.import_module(module), function)


# The registry: a new runtime is one builder function (in its own module) and one entry here.
RUNTIME_SPECS: dict[str, RuntimeSpec] = {
    spec.name: spec
    for spec in (
        RuntimeSpec("eager", "pokernet.latency.runtimes:eager_call"),
        RuntimeSpec("torchscript", "pokernet.latency.runtimes:torchscript_call"),
        RuntimeSpec("onnxruntime", "pokernet.latency.runtimes:onnxruntime_call", "onnxruntime"),
        RuntimeSpec("openvino", "pokernet.latency.openvino_runtime:openvino_call", "openvino"),
        RuntimeSpec("paper_parallel", "pokernet.latency.paper_parallel:paper_parallel_call", min_threads=2),
        RuntimeSpec(
            "xnnpack",
            "pokernet.latency.xnnpack_runtime:xnnpack_call",
            "executorch",
            in_all=False,
            install='pip install -e ".[xnnpack]"',
        ),
    )
}
RUNTIMES = tuple(RUNTIME_SPECS)
ALL_RUNTIMES = tuple(name for name, spec in RUNTIME_SPECS.items() if spec.in_all)  # --runtime all


def runtime_spec(runtime: str) -> RuntimeSpec:
    """The spec of ``runtime``; ValueError naming the choices, or the package to install."""
    if runtime not in RUNTIME_SPECS:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    spec = RUNTIME_SPECS[runtime]
    if spec.package and importlib.util.find_spec(spec.package.replace("-", "_")) is None:
        raise ValueError(
            f"runtime {runtime!r} needs the Python package {spec.package!r}, which is not "
            f"installed ({spec.install or 'pip install ' + spec.package})"
        )
    return spec
