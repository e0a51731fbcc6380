"""Accuracy comparisons of two arms over seeds, paired by seed, and their verdicts on the proxy.

An accuracy claim of the paper ("A beats B") is checked on the paired differences
d_s = top1(A, seed s) − top1(B, seed s): both arms trained with seed s see the same initial
data order and the same augmented batches, so pairing removes the data-order noise they share.
Every statistic comes from a library: the paired t-test, its CI and the one-sample p from
scipy.stats.ttest_1samp; TOST from statsmodels (DescrStatsW.ttost_mean); power from the
noncentral t (scipy.stats.nct; where it loses a tail to a nan at large noncentrality, the same
tail by quadrature over the chi-square, scipy.integrate); Holm from statsmodels' multipletests;
the calibration fit from scipy.stats.linregress and spearmanr.

The analysis rule (fixed here, applied to the confirming runs; summary.md states it):

- *Family.* The order tests of the accuracy claims are one family (FAMILY_RULE); the order is
  resolved when the Holm-adjusted p < α = 0.05 (statsmodels.stats.multitest.multipletests);
  the raw p is printed beside it. A lone comparison is a family of one.
- *No verdict from few seeds.* A pair with fewer than MIN_SEEDS pairs is "descriptive, n = k":
  its numbers are printed, no order, magnitude or equivalence verdict.
- *The paper's gap on the proxy's scale.* The paper's ImageNet gap (and the ±δ margin of a
  "comparable" claim) is mapped onto the proxy through a measured calibration (``Calibration``):
  between model families by the slope of proxy on paper top-1 over Table 2's models; within a
  family (an ablation, PokerNet vs the GhostNet it rewrites) by the width-effect ratio.
- *Detectable gap.* The smallest |gap| the proxy tells apart: the gap a paired t-test with the
  comparison's n and sd detects at 80% power, and between families at least the spread two
  models' residuals around the fit give a gap (1.96·√2·residual sd). Magnitude: a mapped gap
  below it is "not testable on this proxy"; otherwise consistent when the mapped interval meets
  our 95% CI, excluded when not. Equivalence (TOST at the mapped margin) is "not testable on this
  proxy" when the mapped margin is below the smallest margin TOST reaches at 80% power.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
from scipy import integrate, optimize
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

CONFIDENCE = 0.95
POWER = 0.80
MAX_SEEDS = 10_000  # beyond this, "more than"
MIN_SEEDS = 5  # pairs a comparison needs for any verdict (fewer: descriptive)
SCATTER_Z = 1.96  # between families: a gap within ±1.96·√2·residual sd is architecture scatter

RESOLVED_AS_CLAIMED, RESOLVED_AGAINST, NOT_RESOLVED = "✓ resolved", "✗ resolved", "open"
DESCRIPTIVE = "descriptive"
NOT_TESTABLE = "not testable on this proxy"
CONSISTENT, EXCLUDED = "consistent", "excluded"
EQUIVALENT, NOT_EQUIVALENT = "equivalent", "not shown equiv."
ALPHA = 1 - CONFIDENCE
BETWEEN, WITHIN = "between families", "within a family"

FAMILY_RULE = (
    "The family: every order test of the accuracy claims (accuracy_literal, accuracy_050, accuracy_100, se_gain, "
    "hard_swish_gain; a comparison shared by several claims counted once), Holm-adjusted together "
    "(statsmodels multipletests); an order is resolved when its Holm p < 0.05. A pair with fewer than "
    f"{MIN_SEEDS} seeds is descriptive (its numbers, no verdict); its raw p still enters the family."
)

VOCABULARY = (
    "Verdicts of an accuracy comparison (A − B, paired by seed), all on the proxy. *Order*: ✓ resolved = Holm p "
    "< 0.05 with A ahead; ✗ resolved = with A behind; open = Holm p ≥ 0.05; descriptive, n = k = fewer than "
    f"{MIN_SEEDS} seed pairs, no verdict. *Magnitude*: the paper's ImageNet gap mapped onto the proxy (with its "
    "interval) against our 95% CI: consistent = they meet; excluded = they do not; not testable on this proxy = "
    'the mapped gap is below the detectable gap. *Equivalence* (claims the paper words "comparable"): TOST at '
    "α = 0.05 (statsmodels) at the mapped margin; not testable on this proxy when that margin is below the "
    "smallest one TOST reaches at 80% power. Unscaled = the paper's ImageNet number, printed beside, not judged."
)


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a label and top-1 (or any score) per seed."""

    label: str
    scores: Mapping[int, float]
    weight_decay: float | None = None  # the training recipe's, to name a confound


@dataclass(frozen=True)
class ProxyGap:
    """The paper's gap on the proxy's scale, and what the proxy can detect (``Inference``)."""

    yardstick: str  # BETWEEN or WITHIN
    gap: float
    low: float
    high: float
    margin: float | None  # the equivalence margin, mapped the same way
    detectable: float | None  # the smallest |gap| the proxy tells apart (None: n < 2)
    detectable_margin: float | None  # the smallest margin TOST reaches at 80% power


@dataclass(frozen=True)
class Inference:
    """What the family (Holm) and the calibration add to one comparison."""

    p_holm: float | None
    mapped: ProxyGap | None = None


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
    margin: float | None = None  # equivalence margin δ (pp, ImageNet) of a "comparable" claim, from paper.yaml
    inference: Inference | None = None  # set by the summary (family, calibration); None: a family of one, unscaled
    independent: bool = True  # False: the runs' seeds share data orders (run_caveats.yaml), so no verdict

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        return sum(self.differences) / self.n

    @property
    def std(self) -> float:
        """Sample standard deviation of the differences (nan for n < 2)."""
        return math.nan if self.n < 2 else float(pd.Series(self.differences).std(ddof=1))

    def _ttest(self, popmean: float = 0.0):
        return sps.ttest_1samp(self.differences, popmean)

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.n < 2:
            return None
        if self.std == 0:
            return self.mean, self.mean
        interval = self._ttest().confidence_interval(CONFIDENCE)
        return float(interval.low), float(interval.high)

    def _p(self, popmean: float) -> float | None:
        if self.n < 2:
            return None
        if self.std == 0:
            return 1.0 if self.mean == popmean else 0.0
        return float(self._ttest(popmean).pvalue)

    @property
    def p(self) -> float | None:
        """Two-sided p of the paired t-test of Δ = 0 (raw, before Holm)."""
        return self._p(0.0)

    @property
    def p_holm(self) -> float | None:
        return self.p if self.inference is None else self.inference.p_holm

    @property
    def descriptive(self) -> bool:
        return self.n < MIN_SEEDS or not self.independent

    @property
    def verdict(self) -> str:
        if self.descriptive:
            return f"{DESCRIPTIVE}, n = {self.n}" + ("" if self.independent else " (seeds share data orders)")
        if self.p_holm >= ALPHA:
            return NOT_RESOLVED
        return RESOLVED_AS_CLAIMED if self.mean > 0 else RESOLVED_AGAINST

    @property
    def resolved(self) -> bool:
        return self.verdict in (RESOLVED_AS_CLAIMED, RESOLVED_AGAINST)

    @property
    def seeds_needed(self) -> int | None:
        """Seeds per arm to resolve the observed gap at 80% power (None: resolved or n < 2)."""
        if self.resolved or self.n < 2:
            return None
        needed = seeds_for_power(self.mean, self.std)
        return None if needed is None else max(needed, MIN_SEEDS)  # the rule's minimum for any verdict

    @property
    def mapped(self) -> ProxyGap | None:
        return None if self.inference is None else self.inference.mapped

    @property
    def target_gap(self) -> float | None:
        """The gap the magnitude is judged against: the mapped one, else the paper's (unscaled)."""
        return self.paper_gap if self.mapped is None else self.mapped.gap

    @property
    def p_vs_paper(self) -> float | None:
        """Two-sided p of the one-sample t-test of the differences against the (mapped) paper gap."""
        return None if self.target_gap is None else self._p(self.target_gap)

    @property
    def magnitude(self) -> str | None:
        """consistent / excluded / not testable on this proxy; None without a gap, an interval or a verdict."""
        if self.paper_gap is None or self.ci is None or self.descriptive:
            return None
        low, high = (self.paper_gap, self.paper_gap) if self.mapped is None else (self.mapped.low, self.mapped.high)
        detectable = None if self.mapped is None else self.mapped.detectable
        if detectable is not None and abs(self.mapped.gap) < detectable:
            return NOT_TESTABLE
        return CONSISTENT if low <= self.ci[1] and self.ci[0] <= high else EXCLUDED

    @property
    def target_margin(self) -> float | None:
        return self.margin if self.mapped is None or self.margin is None else self.mapped.margin

    @property
    def ci90(self) -> tuple[float, float] | None:
        """The 90% CI: the interval TOST at α = 0.05 checks against [−δ, +δ]."""
        if self.n < 2:
            return None
        interval = self._ttest().confidence_interval(1 - 2 * ALPHA)
        return float(interval.low), float(interval.high)

    @property
    def smallest_margin(self) -> float | None:
        """The smallest δ for which TOST at α = 0.05 concludes equivalence."""
        return None if self.ci90 is None else max(abs(self.ci90[0]), abs(self.ci90[1]))

    def tost(self, margin: float | None) -> float | None:
        """p of the two one-sided t-tests against ±margin (statsmodels; the larger of the two)."""
        if margin is None or self.n < 2:
            return None
        if self.std == 0:
            return 0.0 if abs(self.mean) < margin else 1.0
        return float(DescrStatsW(list(self.differences)).ttost_mean(-margin, margin)[0])

    @property
    def tost_p(self) -> float | None:
        return self.tost(self.target_margin)

    @property
    def equivalence(self) -> str | None:
        if self.tost_p is None or self.descriptive:
            return None
        reach = None if self.mapped is None else self.mapped.detectable_margin
        if reach is not None and self.target_margin < reach:
            return NOT_TESTABLE
        return EQUIVALENT if self.tost_p < ALPHA else NOT_EQUIVALENT

    def row(self) -> dict[str, object]:
        """The numbers of this comparison, as the tables, the summary and the CSVs print them."""
        low, high = self.ci or (math.nan, math.nan)
        mapped = self.mapped
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
            "p": _nan(self.p),
            "p_holm": _nan(self.p_holm),
            "verdict": self.verdict,
            "seeds_needed_80pct": self.seeds_needed,
            "paper_gap": self.paper_gap,
            "yardstick": None if mapped is None else mapped.yardstick,
            "paper_gap_mapped": None if mapped is None else mapped.gap,
            "paper_gap_mapped_low": None if mapped is None else mapped.low,
            "paper_gap_mapped_high": None if mapped is None else mapped.high,
            "detectable_gap": None if mapped is None else mapped.detectable,
            "magnitude": self.magnitude,
            "p_vs_paper": _nan(self.p_vs_paper),
            "equivalence_margin": self.margin,
            "margin_mapped": None if mapped is None else mapped.margin,
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


def _upper_tail(x: float, df: int, shift: float) -> float:
    """P(T > x) for the noncentral t (scipy.stats.nct). Where scipy returns nan (a far tail at large
    noncentrality), the same probability as E[Φ(shift − x·√(V/df))], V ~ χ²(df), by quadrature."""
    value = float(sps.nct.sf(x, df, shift))
    if math.isfinite(value):
        return value
    return float(
        integrate.quad(lambda v: sps.norm.sf(x * math.sqrt(v / df) - shift) * sps.chi2.pdf(v, df), 0, math.inf)[0]
    )


def paired_t_power(effect: float, n: int, alpha: float = 1 - CONFIDENCE) -> float:
    """Power of the two-sided paired t-test with n pairs when the true mean difference is
    ``effect`` standard deviations of the differences (noncentral t, df = n − 1)."""
    df = n - 1
    critical = float(sps.t.ppf(1 - alpha / 2, df))
    shift = effect * math.sqrt(n)
    return _upper_tail(critical, df, shift) + _upper_tail(critical, df, -shift)


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


def detectable_gap(std: float, n: int, power: float = POWER) -> float | None:
    """The smallest true gap a two-sided paired t-test with n pairs detects with ``power`` (in the
    units of ``std``, the sd of the differences): the root of power(d) = ``power`` (scipy.optimize)."""
    if n < 2 or not math.isfinite(std):
        return None
    effect = optimize.brentq(lambda d: paired_t_power(d, n) - power, 1e-6, 1e4)
    return effect * std


def tost_reach(std: float, n: int, power: float = POWER) -> float | None:
    """The smallest margin δ TOST at α = 0.05 establishes with ``power`` when the true gap is 0:
    δ = (t_{1−α} + t_{1−(1−power)/2}) · sd/√n with n − 1 degrees of freedom (scipy.stats.t)."""
    if n < 2 or not math.isfinite(std):
        return None
    df = n - 1
    return float(sps.t.ppf(1 - ALPHA, df) + sps.t.ppf(1 - (1 - power) / 2, df)) * std / math.sqrt(n)


def holm(p_values: Sequence[float | None]) -> list[float]:
    """Holm-adjusted p over one family (statsmodels); a member without a p (n < 2) enters as 1."""
    if not p_values:
        return []
    raw = [1.0 if p is None or math.isnan(p) else p for p in p_values]
    return [float(p) for p in multipletests(raw, alpha=ALPHA, method="holm")[1]]


@dataclass(frozen=True)
class Calibration:
    """How the proxy maps ImageNet: over Table 2's models (between families), the OLS fit of proxy
    top-1 on the paper's top-1 (scipy.stats.linregress); within a family, the width effect (0.5× → 1.0×,
    PokerNet and GhostNet averaged, paired by seed) over the paper's."""

    labels: tuple[str, ...]
    paper: tuple[float, ...]  # the paper's ImageNet top-1 per model (%)
    proxy: tuple[float, ...]  # our mean top-1 per model on the proxy (%)
    width_effects: tuple[float, ...]  # ours, per seed (pp)
    paper_width_effect: float  # the paper's (pp)

    @property
    def fit(self):
        return sps.linregress(self.paper, self.proxy)

    @property
    def slope_ci(self) -> tuple[float, float]:
        half = float(sps.t.ppf(0.5 + CONFIDENCE / 2, len(self.paper) - 2)) * self.fit.stderr
        return self.fit.slope - half, self.fit.slope + half

    @property
    def residual_sd(self) -> float:
        fit = self.fit
        residuals = [y - (fit.intercept + fit.slope * x) for x, y in zip(self.paper, self.proxy)]
        return math.sqrt(sum(r * r for r in residuals) / (len(residuals) - 2))

    @property
    def spearman(self) -> tuple[float, float]:
        result = sps.spearmanr(self.paper, self.proxy)
        return float(result.statistic), float(result.pvalue)

    @property
    def width_ratio(self) -> float:
        return sum(self.width_effects) / len(self.width_effects) / self.paper_width_effect

    @property
    def width_ratio_ci(self) -> tuple[float, float] | None:
        if len(self.width_effects) < 2:
            return None
        interval = sps.ttest_1samp(self.width_effects, 0.0).confidence_interval(CONFIDENCE)
        return interval.low / self.paper_width_effect, interval.high / self.paper_width_effect

    @property
    def scatter_gap(self) -> float:
        """Between families, the gap two models' residuals around the fit give at 95%."""
        return SCATTER_Z * math.sqrt(2) * self.residual_sd

    def factor(self, yardstick: str) -> tuple[float, float, float]:
        """(estimate, low, high) of the proxy pp per ImageNet pp under ``yardstick``."""
        if yardstick == BETWEEN:
            return (self.fit.slope, *self.slope_ci)
        interval = self.width_ratio_ci or (self.width_ratio, self.width_ratio)
        return (self.width_ratio, *interval)

    def map(self, c: Comparison, yardstick: str) -> ProxyGap | None:
        """The paper's gap (and margin) of ``c`` on the proxy's scale, and the smallest gap the proxy detects."""
        if c.paper_gap is None:
            return None
        factor, low, high = self.factor(yardstick)
        ends = sorted((c.paper_gap * low, c.paper_gap * high))
        seeds = detectable_gap(c.std, c.n)
        detectable = seeds if seeds is None or yardstick == WITHIN else max(seeds, self.scatter_gap)
        margin = None if c.margin is None else c.margin * factor
        return ProxyGap(yardstick, c.paper_gap * factor, ends[0], ends[1], margin, detectable, tost_reach(c.std, c.n))

    def text(self) -> str:
        low, high = self.slope_ci
        rho, p = self.spearman
        ratio = self.width_ratio_ci
        interval = "" if ratio is None else f" [{ratio[0]:.2f}, {ratio[1]:.2f}]"
        return (
            f"slope of proxy on paper top-1 over {len(self.paper)} models {self.fit.slope:.2f} (95% CI [{low:.2f}, "
            f"{high:.2f}]), residual sd {self.residual_sd:.2f} pp (ours), Spearman ρ {rho:+.2f} (p {format_p(p)}); "
            f"width-effect ratio (0.5× → 1.0×, proxy/ImageNet) {self.width_ratio:.3f}{interval} over "
            f"{len(self.width_effects)} seeds (ours {self.width_ratio * self.paper_width_effect:.2f} pp, paper "
            f"{self.paper_width_effect:.2f} pp)"
        )


def infer(comparisons: Sequence[tuple[Comparison, str]], calibration: Calibration | None) -> list[Comparison]:
    """One family: Holm over the comparisons' raw p, and (with a calibration) each paper gap mapped
    with the comparison's yardstick (BETWEEN / WITHIN)."""
    adjusted = holm([c.p for c, _ in comparisons])
    return [
        replace(c, inference=Inference(p, None if calibration is None else calibration.map(c, yardstick)))
        for (c, yardstick), p in zip(comparisons, adjusted)
    ]


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
    if p is None or math.isnan(p):
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


def _unscaled(c: Comparison) -> str:
    return f"paper {c.paper_gap:+.1f} pp ImageNet, unscaled"


def magnitude_text(c: Comparison) -> str:
    """The paper's gap on the proxy's scale against our 95% CI, the unscaled gap beside it."""
    if c.paper_gap is None:
        return "—"
    m = c.mapped
    p = f" (p {format_p(c.p_vs_paper)})" if c.magnitude == EXCLUDED else ""
    verdict = "" if c.magnitude is None else f": {c.magnitude}{p}"
    if m is None:
        return f"{_unscaled(c)}{verdict}"
    detectable = "unknown" if m.detectable is None else f"{m.detectable:.2f}"
    return f"mapped {m.gap:+.2f} [{m.low:+.2f}, {m.high:+.2f}] pp, detectable {detectable}{verdict} ({_unscaled(c)})"


def equivalence_text(c: Comparison) -> str:
    """TOST at the (mapped) margin, and at the paper's unscaled margin beside it; "—" for no margin."""
    if c.margin is None:
        return "—"
    unscaled = f"unscaled ±{c.margin:g}: TOST p {format_p(c.tost(c.margin))}"
    if c.equivalence is None:
        return f"±{c.target_margin:.2f}: n = {c.n}, no verdict ({unscaled})"
    reach = "" if c.mapped is None else f", reachable ±{c.mapped.detectable_margin:.2f}"
    scale = "mapped " if c.mapped is not None else ""
    return (
        f"{c.equivalence} at {scale}±{c.target_margin:.2f} (TOST p {format_p(c.tost_p)}{reach}; min δ "
        f"{c.smallest_margin:.2f}; {unscaled})"
    )


def comparison_text(comparison: Comparison) -> str:
    """One line: the same words wherever this comparison is printed."""
    c = comparison
    interval = "" if c.ci is None else f", 95% CI [{c.ci[0]:+.2f}, {c.ci[1]:+.2f}], p {format_p(c.p)}"
    holm_p = "" if c.inference is None or c.p is None else f" (Holm {format_p(c.p_holm)})"
    needed = "" if c.resolved else f"; seeds/arm to resolve at 80% power: {seeds_needed_text(c)}"
    paper = "" if c.paper_gap is None else f"; magnitude: {magnitude_text(c)}"
    equivalence = "" if c.margin is None else f"; equivalence: {equivalence_text(c)}"
    return (
        f"{c.claim}: n={c.n}, Δ {c.mean:+.2f} pp (ours){interval}{holm_p} → order {c.verdict}"
        f"{needed}{paper}{equivalence}"
    )


ON_PROXY = "on the proxy"


def claim_verdict(comparisons: list[Comparison], untestable: int = 0) -> str:
    """A claim made of several comparisons: ✗ if any part resolves against it, ✓ only if every part is
    tested and resolves as claimed, descriptive when no part has a verdict, else open."""
    total = len(comparisons) + untestable
    if not comparisons:
        return "— not testable here"
    against = sum(c.verdict == RESOLVED_AGAINST for c in comparisons)
    claimed = sum(c.verdict == RESOLVED_AS_CLAIMED for c in comparisons)
    described = [c.n for c in comparisons if c.descriptive]
    if against:
        return f"✗ does not hold {ON_PROXY} ({against} of {total} parts against)"
    if claimed == total:
        return f"✓ holds {ON_PROXY}"
    if len(described) == total:
        k = f"{min(described)}–{max(described)}" if min(described) != max(described) else str(described[0])
        return f"{DESCRIPTIVE} {ON_PROXY}, n = {k} (no verdict)"
    counts = (claimed, total - claimed - len(described) - untestable, len(described), untestable)
    parts = [f"{k} {word}" for k, word in zip(counts, ("✓", "open", "descriptive", "untestable")) if k]
    return f"open {ON_PROXY} ({', '.join(parts)} of {total})"


def comparisons_frame(comparisons: Iterable[Comparison]) -> pd.DataFrame:
    return pd.DataFrame([c.row() for c in comparisons])
