"""Paired comparisons over seeds (pokernet.report.stats) against hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from pokernet.report.stats import (
    CONSISTENT,
    EQUIVALENT,
    EXCLUDED,
    NOT_EQUIVALENT,
    NOT_RESOLVED,
    RESOLVED_AGAINST,
    RESOLVED_AS_CLAIMED,
    Arm,
    claim_verdict,
    compare,
    comparison_text,
    equivalence_text,
    magnitude_text,
    paired_t_power,
    seeds_for_power,
    seeds_needed_text,
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
    assert comparison.verdict == NOT_RESOLVED


def test_pairing_removes_the_noise_the_arms_share():
    # Both arms swing by ±3 pp with the seed; the gap is 0.5 ± 0.1 every time: resolved.
    ahead, behind = _arms([80.5, 77.6, 83.4, 79.5], [80.0, 77.0, 83.0, 79.0])
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
    assert comparison.seeds_needed == seeds_for_power(2.0, 1.0) == 5


def test_one_seed_is_not_resolved_and_says_why():
    comparison = compare("A beats B", *_arms([81.0], [80.0]))
    assert comparison.verdict == f"{NOT_RESOLVED} (n < 2)" and comparison.ci is None and comparison.p is None
    assert seeds_needed_text(comparison).startswith("unknown")
    assert comparison_text(comparison) == (
        "A beats B: n=1, Δ +1.00 pp → order not resolved (n < 2); seeds/arm to "
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
    resolved = compare("a", *_arms([2.0, 2.1, 1.9], [1.0, 1.0, 1.0]))
    unresolved = compare("b", *_arms([1.0, 3.0], [2.0, 2.1]))
    against = compare("c", *_arms([1.0, 1.1, 0.9], [2.0, 2.0, 2.0]))
    assert claim_verdict([resolved]) == RESOLVED_AS_CLAIMED
    assert claim_verdict([resolved], untestable=1) == f"{NOT_RESOLVED} (1 of 2 parts ✓; 1 untestable)"
    assert claim_verdict([resolved, unresolved]) == f"{NOT_RESOLVED} (1 of 2 parts ✓)"
    assert claim_verdict([resolved, unresolved, against]).startswith(RESOLVED_AGAINST)
    assert claim_verdict([]) == "— not testable here"


def _upper_tail_df2(t: float) -> float:
    """P(T > t) for Student's t with 2 degrees of freedom (closed form)."""
    return (1 - t / math.sqrt(2 + t * t)) / 2


def test_magnitude_against_the_paper_gap_by_hand():
    # differences 1, 2, 3 (mean 2, sd 1, se 1/√3); 95% CI [-0.48, +4.48]
    ahead, behind = _arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])
    excluded = compare("A beats B", ahead, behind, paper_gap=6.0)
    t = (2 - 6) / (1 / math.sqrt(3))
    assert excluded.magnitude == EXCLUDED
    assert excluded.p_vs_paper == pytest.approx(2 * _upper_tail_df2(abs(t)), rel=1e-9)  # 0.0202
    assert "magnitude: paper +6.0: excluded (p 0.020)" in comparison_text(excluded)
    consistent = compare("A beats B", ahead, behind, paper_gap=1.0)
    assert consistent.magnitude == CONSISTENT and "paper +1.0: consistent" in comparison_text(consistent)
    assert compare("A beats B", ahead, behind).magnitude is None
    one = compare("A beats B", *_arms([3.0], [2.0]), paper_gap=6.0)
    assert one.magnitude is None and magnitude_text(one) == "paper +6.0: n < 2"


def test_tost_equivalence_by_hand():
    ahead, behind = _arms([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])
    se = 1 / math.sqrt(3)
    wide = compare("A comparable to B", ahead, behind, margin=5.0)
    # the two one-sided p: P(T > (2 + 5)/se) and P(T < (2 - 5)/se); TOST p is the larger
    assert wide.tost_p == pytest.approx(max(_upper_tail_df2(7 / se), _upper_tail_df2(3 / se)), rel=1e-9)  # 0.0175
    assert wide.equivalence == EQUIVALENT
    critical90 = math.sqrt(2 * 0.9**2 / (1 - 0.9**2))  # t_0.95 with df 2: 2.9200
    assert wide.ci90 == pytest.approx((2 - critical90 * se, 2 + critical90 * se), rel=1e-9)
    assert wide.smallest_margin == pytest.approx(2 + critical90 * se, rel=1e-9)  # 3.686
    narrow = compare("A comparable to B", ahead, behind, margin=3.0)
    assert narrow.tost_p == pytest.approx(_upper_tail_df2(1 / se), rel=1e-9)  # 0.1127
    assert narrow.equivalence == NOT_EQUIVALENT
    assert equivalence_text(narrow) == "not shown equiv. ±3 (TOST p 0.113; min δ 3.69)"
    assert compare("A beats B", ahead, behind).equivalence is None and "equivalence" not in comparison_text(
        compare("A beats B", ahead, behind)
    )
