"""Accuracy comparisons of two arms over seeds, paired by seed, and their verdicts.

An accuracy claim of the paper ("A beats B") is checked on the paired differences
d_s = top1(A, seed s) − top1(B, seed s): both arms trained with seed s see the same initial
data order and the same augmented batches, so pairing removes the data-order noise they share.

- mean difference, its 95% confidence interval and the two-sided p of the paired t-test
  (scipy.stats.t on the n differences, n − 1 degrees of freedom);
- verdict: ✓ resolved (the interval excludes 0 on the side the paper claims), ✗ resolved
  (it excludes 0 on the other side), not resolved (it contains 0, or n < 2: no noise estimate);
- for an unresolved comparison with n ≥ 2, the seeds per arm that a paired t-test needs to
  resolve the observed gap with 80% power at α = 0.05, two-sided, taking the observed mean and
  standard deviation of the differences as the truth: the exact power of the paired t-test from
  the noncentral t distribution (scipy.stats.nct), smallest n with power ≥ 0.8. It is a
  post-hoc planning figure, as uncertain as the two numbers it rests on;
- magnitude: the paper's own gap is consistent with ours when it lies inside the 95% CI, excluded
  otherwise, with the two-sided p of the one-sample t-test of the differences against that gap
  (as scipy.stats.ttest_1samp with popmean = the paper's gap);
- equivalence, for a claim the paper words "comparable" (a margin δ from paper.yaml): two one-sided
  t-tests (TOST) at α = 0.05, p = the larger of the two one-sided p; equivalent within ±δ when
  p < 0.05, i.e. when the 90% CI lies inside [−δ, +δ]. The smallest margin the data support is the
  larger end of that 90% CI in absolute value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats as sps

CONFIDENCE = 0.95
POWER = 0.80
MAX_SEEDS = 10_000  # beyond this, "more than"

RESOLVED_AS_CLAIMED, RESOLVED_AGAINST, NOT_RESOLVED = "✓ resolved", "✗ resolved", "not resolved"
CONSISTENT, EXCLUDED = "consistent", "excluded"
EQUIVALENT, NOT_EQUIVALENT = "equivalent", "not shown equiv."
ALPHA = 1 - CONFIDENCE

VOCABULARY = (
    "Verdicts of an accuracy comparison (A − B, paired by seed). *Order*: ✓ resolved = the 95% CI excludes 0 on "
    "the paper's side; ✗ resolved = on the other side; not resolved = it contains 0 (or n < 2), with the seeds "
    "per arm a paired t-test needs to resolve the observed gap at 80% power. *Magnitude*: consistent = the "
    "paper's gap lies inside our 95% CI; excluded = outside it (p: one-sample t-test of the differences against "
    'the paper\'s gap). *Equivalence* (claims the paper words "comparable"): equivalent within ±δ = both '
    "one-sided t-tests (TOST, α = 0.05) reject |Δ| ≥ δ, i.e. the 90% CI lies in [−δ, +δ] (δ from paper.yaml); "
    "min δ = the smallest margin the data would support."
)


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a label and top-1 (or any score) per seed."""

    label: str
    scores: Mapping[int, float]
    weight_decay: float | None = None  # the training recipe's, to name a confound


@dataclass(frozen=True)
class Comparison:
    """ "``ahead`` beats ``behind``" as the paper claims it, checked on paired seeds."""

    claim: str
    ahead: Arm
    behind: Arm
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    paper_gap: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    margin: float | None = None  # equivalence margin δ (pp) of a "comparable" claim, from paper.yaml

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        return sum(self.differences) / self.n

    @property
    def std(self) -> float:
        """Sample standard deviation of the differences (nan for n < 2)."""
        if self.n < 2:
            return math.nan
        return float(pd.Series(self.differences).std(ddof=1))

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.n < 2:
            return None
        half = float(sps.t.ppf(0.5 + CONFIDENCE / 2, self.n - 1)) * self.std / math.sqrt(self.n)
        return self.mean - half, self.mean + half

    @property
    def p(self) -> float | None:
        if self.n < 2:
            return None
        if self.std == 0:
            return 1.0 if self.mean == 0 else 0.0
        t = self.mean / (self.std / math.sqrt(self.n))
        return float(2 * sps.t.sf(abs(t), self.n - 1))

    @property
    def verdict(self) -> str:
        if self.ci is None:
            return f"{NOT_RESOLVED} (n < 2)"
        low, high = self.ci
        if low > 0:
            return RESOLVED_AS_CLAIMED
        if high < 0:
            return RESOLVED_AGAINST
        return NOT_RESOLVED

    @property
    def resolved(self) -> bool:
        return self.verdict in (RESOLVED_AS_CLAIMED, RESOLVED_AGAINST)

    @property
    def seeds_needed(self) -> int | None:
        """Seeds per arm to resolve the observed gap at 80% power (None: resolved or n < 2)."""
        if self.resolved or self.n < 2:
            return None
        return seeds_for_power(self.mean, self.std)

    @property
    def p_vs_paper(self) -> float | None:
        """Two-sided p of the one-sample t-test of the differences against the paper's gap."""
        if self.paper_gap is None or self.n < 2:
            return None
        if self.std == 0:
            return 1.0 if self.mean == self.paper_gap else 0.0
        t = (self.mean - self.paper_gap) / (self.std / math.sqrt(self.n))  # scipy.stats.ttest_1samp's t
        return float(2 * sps.t.sf(abs(t), self.n - 1))

    @property
    def magnitude(self) -> str | None:
        """consistent / excluded (the paper's gap against our 95% CI); None without both."""
        if self.paper_gap is None or self.ci is None:
            return None
        return CONSISTENT if self.ci[0] <= self.paper_gap <= self.ci[1] else EXCLUDED

    @property
    def ci90(self) -> tuple[float, float] | None:
        """The 90% CI: the interval TOST at α = 0.05 checks against [−δ, +δ]."""
        if self.n < 2:
            return None
        half = float(sps.t.ppf(1 - ALPHA, self.n - 1)) * self.std / math.sqrt(self.n)
        return self.mean - half, self.mean + half

    @property
    def smallest_margin(self) -> float | None:
        """The smallest δ for which TOST at α = 0.05 concludes equivalence."""
        return None if self.ci90 is None else max(abs(self.ci90[0]), abs(self.ci90[1]))

    @property
    def tost_p(self) -> float | None:
        """p of the two one-sided t-tests against ±margin (the larger of the two)."""
        if self.margin is None or self.n < 2:
            return None
        if self.std == 0:
            return 0.0 if abs(self.mean) < self.margin else 1.0
        se = self.std / math.sqrt(self.n)
        above_lower = float(sps.t.sf((self.mean + self.margin) / se, self.n - 1))
        below_upper = float(sps.t.cdf((self.mean - self.margin) / se, self.n - 1))
        return max(above_lower, below_upper)

    @property
    def equivalence(self) -> str | None:
        if self.tost_p is None:
            return None
        return EQUIVALENT if self.tost_p < ALPHA else NOT_EQUIVALENT

    def row(self) -> dict[str, object]:
        """The numbers of this comparison, as the tables, the summary and the CSVs print them."""
        low, high = self.ci or (math.nan, math.nan)
        return {
            "claim": self.claim,
            "ahead": self.ahead.label,
            "behind": self.behind.label,
            "n": self.n,
            "seeds": " ".join(map(str, self.seeds)),
            "mean_ahead": _mean(self.ahead, self.seeds),
            "mean_behind": _mean(self.behind, self.seeds),
            "mean_difference": self.mean,
            "ci95_low": low,
            "ci95_high": high,
            "p": self.p if self.p is not None else math.nan,
            "verdict": self.verdict,
            "seeds_needed_80pct": self.seeds_needed,
            "paper_gap": self.paper_gap,
            "magnitude": self.magnitude,
            "p_vs_paper": _nan(self.p_vs_paper),
            "equivalence_margin": self.margin,
            "tost_p": _nan(self.tost_p),
            "equivalence": self.equivalence,
            "smallest_margin": _nan(self.smallest_margin),
            "notes": "; ".join(self.notes),
        }


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _mean(arm: Arm, seeds: Iterable[int]) -> float:
    values = [arm.scores[s] for s in seeds]
    return sum(values) / len(values)


def paired_t_power(effect: float, n: int, alpha: float = 1 - CONFIDENCE) -> float:
    """Power of the two-sided paired t-test with n pairs when the true mean difference is
    ``effect`` standard deviations of the differences (noncentral t, df = n − 1)."""
    df = n - 1
    critical = sps.t.ppf(1 - alpha / 2, df)
    shift = effect * math.sqrt(n)
    return float(sps.nct.sf(critical, df, shift) + sps.nct.cdf(-critical, df, shift))


def seeds_for_power(mean: float, std: float, power: float = POWER) -> int | None:
    """Smallest n ≥ 2 whose paired t-test reaches ``power`` for a true gap ``mean`` with
    differences of standard deviation ``std``; None when the gap is 0 or needs > MAX_SEEDS."""
    if mean == 0 or math.isnan(std):
        return None
    if std == 0:
        return 2
    effect = abs(mean) / std
    low, high = 2, 2
    while paired_t_power(effect, high) < power:  # power grows with n: double, then bisect
        low, high = high, 2 * high
        if high > MAX_SEEDS:
            return None
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if paired_t_power(effect, middle) < power else (low, middle)
    return high


def compare(
    claim: str,
    ahead: Arm,
    behind: Arm,
    paper_gap: float | None = None,
    seeds: Iterable[int] | None = None,
    margin: float | None = None,
) -> Comparison:
    """Pair ``ahead`` and ``behind`` by seed. ``seeds``: the seeds to pair on (default: every
    seed of either arm); each must have a run in both arms, or the error names arm and seed."""
    wanted = sorted(set(seeds) if seeds is not None else set(ahead.scores) | set(behind.scores))
    for arm in (ahead, behind):
        missing = [s for s in wanted if s not in arm.scores]
        if missing:
            raise ValueError(
                f"comparison {claim!r}: arm {arm.label!r} has no run with seed "
                f"{', '.join(map(str, missing))} (seeds of {ahead.label!r}: "
                f"{sorted(ahead.scores)}, of {behind.label!r}: {sorted(behind.scores)}); "
                f"train the missing run(s) or pair on fewer seeds"
            )
    if not wanted:
        raise ValueError(f"comparison {claim!r}: no seeds to compare")
    notes = []
    if None not in (ahead.weight_decay, behind.weight_decay) and ahead.weight_decay != behind.weight_decay:
        notes.append(
            f"confound: weight decay {ahead.weight_decay:g} ({ahead.label}) vs "
            f"{behind.weight_decay:g} ({behind.label}), as the paper's recipe has it"
        )
    differences = tuple(ahead.scores[s] - behind.scores[s] for s in wanted)
    return Comparison(claim, ahead, behind, tuple(wanted), differences, paper_gap, tuple(notes), margin)


# --- formatting: one text per comparison, used by the tables and the summary ----------


def format_p(p: float | None) -> str:
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def seeds_needed_text(comparison: Comparison) -> str:
    if comparison.resolved:
        return "—"
    if comparison.n < 2:
        return "unknown (n < 2: no noise estimate)"
    needed = comparison.seeds_needed
    if needed is None:
        return "never (gap 0)" if comparison.mean == 0 else f"> {MAX_SEEDS}"
    return str(needed)


def magnitude_text(c: Comparison) -> str:
    """The paper's gap against our 95% CI: "paper +3.3: excluded (p 0.016)"."""
    if c.paper_gap is None:
        return "—"
    if c.magnitude is None:
        return f"paper {c.paper_gap:+.1f}: n < 2"
    p = f" (p {format_p(c.p_vs_paper)})" if c.magnitude == EXCLUDED else ""
    return f"paper {c.paper_gap:+.1f}: {c.magnitude}{p}"


def equivalence_text(c: Comparison) -> str:
    """TOST against ±δ and the smallest δ the data support; "—" for a claim with no margin."""
    if c.margin is None:
        return "—"
    if c.equivalence is None:
        return f"±{c.margin:g}: n < 2"
    return f"{c.equivalence} ±{c.margin:g} (TOST p {format_p(c.tost_p)}; min δ {c.smallest_margin:.2f})"


def comparison_text(comparison: Comparison) -> str:
    """One line: the same words wherever this comparison is printed."""
    c = comparison
    interval = "" if c.ci is None else f", 95% CI [{c.ci[0]:+.2f}, {c.ci[1]:+.2f}], p {format_p(c.p)}"
    needed = "" if c.resolved else f"; seeds/arm to resolve at 80% power: {seeds_needed_text(c)}"
    paper = "" if c.paper_gap is None else f"; magnitude: {magnitude_text(c)}"
    equivalence = "" if c.margin is None else f"; equivalence: {equivalence_text(c)}"
    return f"{c.claim}: n={c.n}, Δ {c.mean:+.2f} pp{interval} → order {c.verdict}{needed}{paper}{equivalence}"


def claim_verdict(comparisons: list[Comparison], untestable: int = 0) -> str:
    """A claim made of several comparisons: ✗ resolved if any part resolves against it,
    ✓ resolved only if every part is tested and resolves as claimed, else not resolved."""
    total = len(comparisons) + untestable
    if not comparisons:
        return "— not testable here"
    against = [c for c in comparisons if c.verdict == RESOLVED_AGAINST]
    if against:
        return f"{RESOLVED_AGAINST} ({len(against)} of {total} parts against)"
    claimed = sum(c.verdict == RESOLVED_AS_CLAIMED for c in comparisons)
    if claimed == total:
        return RESOLVED_AS_CLAIMED
    untested = f"; {untestable} untestable" if untestable else ""
    return f"{NOT_RESOLVED} ({claimed} of {total} parts ✓{untested})"


def comparisons_frame(comparisons: Iterable[Comparison]) -> pd.DataFrame:
    return pd.DataFrame([c.row() for c in comparisons])
