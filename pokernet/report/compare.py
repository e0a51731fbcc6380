"""Verdict rules shared by the tables and the summary.

Params, MAdds and latency ratios use paper.yaml's tolerance rule (pokernet.paper). Accuracy
has no entry there (paper.yaml is the paper's data, not ours to extend), so its tolerance is
the named constant below: a top-1/top-5 reproduces when |ours − paper| ≤ 0.5 percentage
points, and only on ImageNet at 224×224. On a proxy data set the claim checked is the order.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable

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


@dataclass(frozen=True)
class OrderCheck:
    """One order claim of the paper ("A beats B"), checked on our means.

    ``margin`` relaxes it: holds when mean(A) − mean(B) > −margin (a "comparable" claim)."""
    claim: str
    subject: str  # the model whose claim it is (summary groups by it)
    winner: str
    loser: str
    ours_winner: Stat | None
    ours_loser: Stat | None
    paper_gap: float | None = None
    margin: float = 0.0

    @property
    def gap(self) -> float | None:
        if self.ours_winner is None or self.ours_loser is None:
            return None
        return self.ours_winner.mean - self.ours_loser.mean

    @property
    def holds(self) -> bool | None:
        if self.gap is None:
            return None
        return self.gap > -self.margin if self.margin else self.gap > 0

    @property
    def note(self) -> str:
        if self.gap is None:
            missing = [name for name, found in ((self.winner, self.ours_winner), (self.loser, self.ours_loser))
                       if found is None]
            return f"not testable: no runs of {', '.join(missing)}"
        notes = []
        if min(self.ours_winner.n, self.ours_loser.n) < 2:
            notes.append("one seed: the order is not statistically meaningful")
        else:
            spread = max(self.ours_winner.std, self.ours_loser.std)
            if abs(self.gap) <= spread:
                notes.append(f"gap within the seeds' std ({spread:.2f}): not resolved")
        return "; ".join(notes)


def gain_ok(check: OrderCheck, comparable: bool) -> bool | None:
    """On ImageNet only: is our gap within the accuracy tolerance of the paper's gap?"""
    if not comparable or check.gap is None or check.paper_gap is None:
        return None
    return abs(check.gap - check.paper_gap) <= ACCURACY_TOLERANCE_PP + 1e-9


def overall(oks: Iterable[bool | None]) -> str:
    """Status of a claim made of several checks: ✓ all, ✗ none, partly, — untestable."""
    tested = [ok for ok in oks if ok is not None]
    if not tested:
        return "— not testable here"
    if all(tested):
        return "✓ holds"
    if not any(tested):
        return "✗ does not hold"
    return "partly"
