"""Verdict rules shared by the tables and the summary.

Params, MAdds and latency ratios use paper.yaml's tolerance rule (pokernet.paper). Accuracy
has no entry there (paper.yaml is the paper's data, not ours to extend), so its tolerance is
the named constant below: a top-1/top-5 reproduces when |ours − paper| ≤ 0.5 percentage
points, and only on ImageNet at 224×224. Order claims ("A beats B") are comparisons paired by
seed, in pokernet.report.stats.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from pokernet.paper import within_tolerance

ACCURACY_TOLERANCE_PP = 0.5

HOLDS, FAILS, NOT_COMPARABLE = "✓", "✗", "—"


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation (ddof=1; nan for one value) over seeds."""

    mean: float
    std: float
    n: int

    def text(self, digits: int = 2) -> str:
        if self.n < 2:
            return f"{self.mean:.{digits}f} (n=1)"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f} (n={self.n})"


def stat(values: Iterable[float]) -> Stat:
    values = list(values)
    if not values:
        raise ValueError("no values to average")
    std = statistics.stdev(values) if len(values) > 1 else math.nan
    return Stat(statistics.fmean(values), std, len(values))


def mark(ok: bool | None) -> str:
    return NOT_COMPARABLE if ok is None else HOLDS if ok else FAILS


def value_ok(ours: float, paper: float, rel: float, precision: float) -> bool:
    return within_tolerance(ours, paper, rel, precision)


def accuracy_ok(ours: Stat | None, paper: float | None, comparable: bool) -> bool | None:
    """None (—) unless both exist and ours was measured where the paper's was."""
    if ours is None or paper is None or not comparable:
        return None
    return abs(ours.mean - paper) <= ACCURACY_TOLERANCE_PP + 1e-9


def overall(oks: Iterable[bool | None]) -> str:
    """Status of a count or latency claim made of several exact checks: ✓ all, ✗ none, partly,
    — untestable (accuracy claims use stats.claim_verdict instead)."""
    tested = [ok for ok in oks if ok is not None]
    if not tested:
        return "— not testable here"
    if all(tested):
        return "✓ holds"
    if not any(tested):
        return "✗ does not hold"
    return "partly"
