"""The child process that times the ``paper_parallel`` runtime (``python -m`` this module, a
measure() job as JSON on stdin, the result rows as JSON on stdout): it sizes the inter-op
pool before any inter-op work, which a process can do once, then runs the ordinary measurement."""
from __future__ import annotations

import json
import sys

from .measure import measure
from .paper_parallel import RUNTIME, use_interop_threads


def main() -> None:
    job = json.load(sys.stdin)
    use_interop_threads(job["threads"])
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if job["verbose"] else None
    report = measure(job["models"], [RUNTIME], [job["threads"]], job["batch"], job["resolution"],
                     job["budget_s"], job["min_runs"], job["warmup_s"], job["optimize"], log,
                     job["model_options"])
    json.dump(report["results"], sys.stdout)


if __name__ == "__main__":
    main()
