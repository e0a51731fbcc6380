"""Paired comparisons over seeds (pokernet.report.stats) against hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from pokernet.report.stats import (
    BETWEEN,
    CONSISTENT,
    EQUIVALENT,
    EXCLUDED,
    NOT_EQUIVALENT,
    NOT_RESOLVED,
    NOT_TESTABLE,
    RESOLVED_AGAINST,
    RESOLVED_AS_CLAIMED,
    WITHIN,
    Arm,
    Calibration,
    claim_verdict,
    compare,
    comparison_text,
    detectable_gap,
    equivalence_text,
    holm,
    infer,
    magnitude_text,
    paired_t_power,
    seeds_for_power,
    seeds_needed_text,
    tost_reach,
)


def _arms(ahead: list[float], behind: list[float]) -> tuple[Arm, Arm]:
    return Arm("A", dict(enumerate(ahead))), Arm("B", dict(enumerate(behind)))


def test_paired_t_against_the_closed_form_for_two_degrees_of_freedom():
    # differences 1, 2, 3: mean 2, sd 1, se 1/√3. With df = 2 Student's t has a closed form:
    # P(|T| > t) = 1 − t/√(2 + t²) and the 97.5% quantile is √(2q²/(1 − q²)) with q = 0.95.
    comparison = compare("A beats B", *_arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0]))
    t = 2 / (1 / math.sqrt(3))
    critical = math.sqrt(2 * 0.95**2 / (1 - 0.95**2))  # 4.302653
    assert comparison.n == 3 and comparison.mean == pytest.approx(2.0) and comparison.std == pytest.approx(1.0)
    assert comparison.p == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)  # 0.07418
    low, high = comparison.ci
    assert low == pytest.approx(2 - critical / math.sqrt(3), rel=1e-9)  # -0.4841
    assert high == pytest.approx(2 + critical / math.sqrt(3), rel=1e-9)  # 4.4841
    assert comparison.verdict == "descriptive, n = 3"  # fewer than MIN_SEEDS pairs: no verdict


def test_pairing_removes_the_noise_the_arms_share():
    # Both arms swing by ±3 pp with the seed; the gap is 0.5 ± 0.1 every time: resolved.
    ahead, behind = _arms([80.5, 77.6, 83.4, 79.5, 81.4], [80.0, 77.0, 83.0, 79.0, 81.0])
    comparison = compare("A beats B", ahead, behind)
    assert comparison.verdict == RESOLVED_AS_CLAIMED and comparison.ci[0] > 0
    assert comparison.seeds_needed is None and seeds_needed_text(comparison) == "—"
    against = compare("B beats A", behind, ahead)
    assert against.verdict == RESOLVED_AGAINST and against.ci[1] < 0


def test_seeds_needed_matches_published_paired_t_sample_sizes():
    # Two-sided α = 0.05, power 0.8 (G*Power's paired t-test): d = 0.5 → 34, 0.8 → 15, 1 → 10 pairs.
    assert [seeds_for_power(d, 1.0) for d in (0.5, 0.8, 1.0)] == [34, 15, 10]
    assert paired_t_power(1.0, 10) >= 0.8 > paired_t_power(1.0, 9)
    assert seeds_for_power(0.0, 1.0) is None and seeds_for_power(1e-4, 1.0) is None  # never / > MAX_SEEDS
    comparison = compare("A beats B", *_arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0]))
    assert seeds_for_power(2.0, 1.0) == 5 and comparison.seeds_needed == 5  # never below MIN_SEEDS


def test_one_seed_is_not_resolved_and_says_why():
    comparison = compare("A beats B", *_arms([81.0], [80.0]))
    assert seeds_needed_text(comparison).startswith("unknown")
    assert comparison.verdict == "descriptive, n = 1" and comparison.ci is None and comparison.p is None
    assert comparison_text(comparison) == (
        "A beats B: n=1, Δ +1.00 pp (ours) → order descriptive, n = 1; seeds/arm to "
        "resolve at 80% power: unknown (n < 2: no noise estimate)"
    )


def test_a_seed_missing_from_one_arm_is_an_error_naming_arm_and_seed():
    ahead, behind = Arm("PokerNet", {0: 80.0, 1: 81.0, 2: 82.0}), Arm("GhostNet", {0: 80.0, 1: 80.0})
    with pytest.raises(ValueError, match=r"arm 'GhostNet' has no run with seed 2"):
        compare("PokerNet beats GhostNet", ahead, behind)
    with pytest.raises(ValueError, match=r"arm 'PokerNet' has no run with seed 5"):
        compare("PokerNet beats GhostNet", ahead, behind, seeds=[0, 5])
    assert compare("PokerNet beats GhostNet", ahead, behind, seeds=[0, 1]).n == 2  # explicit pairing


def test_weight_decay_difference_is_named_as_a_confound():
    ahead, behind = Arm("PokerNet 0.5×", {0: 1.0, 1: 2.0}, 1e-5), Arm("GhostNet 0.5×", {0: 1.0, 1: 1.0}, 4e-5)
    assert compare("x", ahead, behind).notes == (
        "confound: weight decay 1e-05 (PokerNet 0.5×) vs 4e-05 (GhostNet 0.5×), as the paper's recipe has it",
    )


def test_a_claim_of_several_parts():
    resolved = compare("a", *_arms([2.0, 2.1, 1.9, 2.0, 2.05], [1.0] * 5))
    unresolved = compare("b", *_arms([1.0, 3.0, 1.5, 2.6, 2.0], [2.0, 2.1, 2.0, 2.0, 2.1]))
    against = compare("c", *_arms([1.0, 1.1, 0.9, 1.0, 1.05], [2.0] * 5))
    few = compare("d", *_arms([2.0, 2.1, 1.9], [1.0] * 3))
    assert claim_verdict([resolved]) == "✓ holds on the proxy"
    assert claim_verdict([resolved], untestable=1) == "open on the proxy (1 ✓, 1 untestable of 2)"
    assert claim_verdict([resolved, unresolved]) == "open on the proxy (1 ✓, 1 open of 2)"
    assert claim_verdict([resolved, few]) == "open on the proxy (1 ✓, 1 descriptive of 2)"
    assert claim_verdict([few, few]) == "descriptive on the proxy, n = 3 (no verdict)"
    assert claim_verdict([resolved, unresolved, against]).startswith("✗ does not hold on the proxy")
    assert claim_verdict([]) == "— not testable here"


def _upper_tail_df2(t: float) -> float:
    """P(T > t) for Student's t with 2 degrees of freedom (closed form)."""
    return (1 - t / math.sqrt(2 + t * t)) / 2


def test_magnitude_against_the_paper_gap_by_hand():
    # differences 1, 2, 3 (mean 2, sd 1, se 1/√3); 95% CI [-0.48, +4.48]
    ahead, behind = _arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])
    excluded = compare("A beats B", ahead, behind, paper_gap=6.0)
    t = (2 - 6) / (1 / math.sqrt(3))
    assert excluded.p_vs_paper == pytest.approx(2 * _upper_tail_df2(abs(t)), rel=1e-9)  # 0.0202 (scipy ttest_1samp)
    assert excluded.magnitude is None  # n = 3 < MIN_SEEDS: descriptive, no verdict
    five = _arms([3.0, 4.0, 5.0, 3.0, 5.0], [2.0] * 5)  # mean 2, 95% CI [0.89, 3.11]
    assert compare("A beats B", *five, paper_gap=6.0).magnitude == EXCLUDED
    assert "magnitude: paper +6.0 pp ImageNet, unscaled: excluded (p " in comparison_text(
        compare("A beats B", *five, paper_gap=6.0)
    )
    consistent = compare("A beats B", *five, paper_gap=1.0)
    assert consistent.magnitude == CONSISTENT and "paper +1.0 pp ImageNet, unscaled: consistent" in comparison_text(
        consistent
    )
    assert compare("A beats B", ahead, behind).magnitude is None
    one = compare("A beats B", *_arms([3.0], [2.0]), paper_gap=6.0)
    assert one.magnitude is None and magnitude_text(one) == "paper +6.0 pp ImageNet, unscaled"


def test_tost_equivalence_by_hand():
    ahead, behind = _arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])
    se = 1 / math.sqrt(3)
    wide = compare("A comparable to B", ahead, behind, margin=5.0)
    # the two one-sided p: P(T > (2 + 5)/se) and P(T < (2 - 5)/se); TOST p is the larger
    assert wide.tost_p == pytest.approx(max(_upper_tail_df2(7 / se), _upper_tail_df2(3 / se)), rel=1e-9)  # 0.0175
    assert wide.equivalence is None  # n = 3: descriptive
    critical90 = math.sqrt(2 * 0.9**2 / (1 - 0.9**2))  # t_0.95 with df 2: 2.9200
    assert wide.ci90 == pytest.approx((2 - critical90 * se, 2 + critical90 * se), rel=1e-9)
    assert wide.smallest_margin == pytest.approx(2 + critical90 * se, rel=1e-9)  # 3.686
    narrow = compare("A comparable to B", ahead, behind, margin=3.0)
    assert narrow.tost_p == pytest.approx(_upper_tail_df2(1 / se), rel=1e-9)  # 0.1127
    five = _arms([3.0, 4.0, 5.0, 3.0, 5.0], [2.0] * 5)
    assert compare("A comparable to B", *five, margin=5.0).equivalence == EQUIVALENT
    assert compare("A comparable to B", *five, margin=2.5).equivalence == NOT_EQUIVALENT
    assert equivalence_text(narrow) == "±3.00: n = 3, no verdict (unscaled ±3: TOST p 0.113)"
    assert compare("A beats B", ahead, behind).equivalence is None and "equivalence" not in comparison_text(
        compare("A beats B", ahead, behind)
    )


def test_seeds_for_power_where_scipy_loses_the_tail_to_nan():
    # "PokerNet 1.0× beats MobileNetV2 0.6×" (results at a341dc5): differences 3.08, 3.68. At n = 2
    # the power is 0.62; scipy.stats.nct.cdf returns nan for the far tail at n = 2 and 5, which read as
    # "power reached" gave 2. The tail by quadrature gives the power; 3 seeds per arm reach 0.8.
    std = math.sqrt(((3.08 - 3.38) ** 2 + (3.68 - 3.38) ** 2) / 1)
    assert paired_t_power(3.38 / std, 2) == pytest.approx(0.6233, abs=1e-4)
    assert all(math.isfinite(paired_t_power(3.38 / std, n)) for n in range(2, 12))
    assert seeds_for_power(3.38, std) == 3


def test_power_agrees_with_statsmodels_where_both_are_finite():
    from statsmodels.stats.power import TTestPower

    for effect, n in ((0.5, 34), (1.0, 10), (0.3, 8)):
        assert paired_t_power(effect, n) == pytest.approx(TTestPower().power(effect, n, 0.05), rel=1e-9)
    # the detectable gap is the effect whose power is 0.8 (statsmodels' solve_power as the oracle)
    assert detectable_gap(2.0, 10) == pytest.approx(2.0 * TTestPower().solve_power(None, 10, 0.05, 0.8), rel=1e-6)
    assert detectable_gap(1.0, 1) is None and tost_reach(1.0, 1) is None


def test_holm_by_hand_and_the_family_resolves_on_the_adjusted_p():
    # Holm: sorted p 0.01, 0.02, 0.04 → 3·0.01, max(0.03, 2·0.02), max(0.04, 1·0.04); a missing p is 1
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.01, None]) == pytest.approx([0.02, 1.0])
    close = compare("a", *_arms([2.0, 2.6, 1.4, 3.0, 1.2], [1.0] * 5))  # raw p ≈ 0.03
    assert close.p < 0.05 and close.verdict == RESOLVED_AS_CLAIMED  # a family of one
    noise = [compare(str(i), *_arms([1.0 + i, 3.0, 0.0, 2.0, 1.0], [1.2] * 5)) for i in range(4)]
    family = infer([(c, BETWEEN) for c in [close, *noise]], None)
    assert family[0].p_holm == pytest.approx(min(1.0, 5 * close.p)) and family[0].verdict == NOT_RESOLVED


def _calibration() -> Calibration:
    # proxy = 50 + 0.25·paper + residuals ±0.5; width effect 1.0, 1.5, 2.0 pp per seed over the paper's 8 pp
    paper = (60.0, 64.0, 68.0, 72.0)
    proxy = tuple(50 + 0.25 * x + r for x, r in zip(paper, (0.5, -0.5, -0.5, 0.5)))
    return Calibration(("a", "b", "c", "d"), paper, proxy, (1.0, 1.5, 2.0), 8.0)


def test_calibration_by_hand():
    cal = _calibration()
    assert cal.fit.slope == pytest.approx(0.25) and cal.residual_sd == pytest.approx(math.sqrt(1 / 2))
    half = 4.302653 * math.sqrt(0.5 / 80)  # t_0.975(2) · residual sd / √Σ(x − x̄)²
    assert cal.slope_ci == pytest.approx((0.25 - half, 0.25 + half), rel=1e-5)
    assert cal.width_ratio == pytest.approx(1.5 / 8)
    low, high = cal.width_ratio_ci
    assert low == pytest.approx((1.5 - 4.302653 * 0.5 / math.sqrt(3)) / 8, rel=1e-5)
    assert cal.scatter_gap == pytest.approx(1.96 * math.sqrt(2) * math.sqrt(0.5))


def test_a_mapped_gap_below_the_detectable_gap_is_not_testable_on_this_proxy():
    cal = _calibration()
    arms = _arms([1.0, 1.4, 0.6, 1.2, 0.8], [0.0] * 5)  # Δ 1.0, sd 0.32
    within = infer([(compare("w", *arms, paper_gap=2.0, margin=0.5), WITHIN)], cal)[0]
    assert within.mapped.gap == pytest.approx(2.0 * 1.5 / 8) and within.mapped.margin == pytest.approx(0.5 * 1.5 / 8)
    assert within.mapped.detectable == pytest.approx(detectable_gap(within.std, 5))
    assert within.magnitude == NOT_TESTABLE and within.equivalence == NOT_TESTABLE
    between = infer([(compare("b", *arms, paper_gap=8.0), BETWEEN)], cal)[0]
    assert between.mapped.gap == pytest.approx(2.0) and between.mapped.detectable == pytest.approx(cal.scatter_gap)
    assert between.magnitude == CONSISTENT  # the mapped interval (slope CI × 8) meets our 95% CI
