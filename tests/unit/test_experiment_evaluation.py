"""An experiment's per-arm figures from per-member rows: exact counts and means, and each estimate the
same as the statistics module gives on the arm's own rows."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.experiments.evaluation import (
    ArmSample,
    arm_figures,
    arm_roi,
    compare_arm,
    evaluate_experiment,
)
from domain.experiments.statistics import cuped, msprt, sample_ratio, two_proportions, welch

# Ten members in the variant, eight in the holdout; spend in minor units, 0 for those who bought nothing.
VARIANT = ArmSample(
    arm="B",
    assigned=10,
    exposed=9,
    participants=4,
    spend=[0, 12_000, 0, 8_500, 0, 0, 15_250, 0, 9_999, 3_000],
    pre_spend=[0, 10_000, 500, 7_000, 0, 1_000, 14_000, 0, 8_000, 2_500],
)
HOLDOUT = ArmSample(
    arm="holdout",
    assigned=8,
    exposed=0,
    participants=2,
    spend=[0, 9_000, 0, 0, 7_500, 0, 2_000, 0],
    pre_spend=[0, 9_500, 0, 300, 6_000, 0, 2_200, 100],
)


def test_arm_figures_are_exact() -> None:
    figures = arm_figures(VARIANT)
    assert figures.spend_total == 48_749
    assert figures.conversion_rate == Fraction(2, 5)
    assert figures.spend_per_member == Fraction(48_749, 10)
    assert (figures.assigned, figures.exposed, figures.participants) == (10, 9, 4)


def test_an_arm_against_the_holdout() -> None:
    result = compare_arm(VARIANT, HOLDOUT)
    assert result.control == "holdout"
    # 4874.9 - 18500/8 = 2562.4 per member, over ten members
    assert result.incremental_spend == Fraction(48_749, 10) * 10 - Fraction(18_500, 8) * 10
    assert result.incremental_spend == 25_624
    assert result.incremental_spend_per_member == welch(VARIANT.spend, HOLDOUT.spend)
    assert result.incremental_spend_per_member.difference == pytest.approx(2562.4)
    assert result.cuped == cuped(
        list(zip(VARIANT.spend, VARIANT.pre_spend, strict=True)),
        list(zip(HOLDOUT.spend, HOLDOUT.pre_spend, strict=True)),
    )
    assert result.conversion == two_proportions(4, 10, 2, 8)
    assert result.always_valid == msprt(VARIANT.spend, HOLDOUT.spend, alpha=1 - 0.95)


def test_the_confidence_carries_to_every_interval() -> None:
    result = compare_arm(VARIANT, HOLDOUT, confidence=0.9)
    assert result.incremental_spend_per_member == welch(VARIANT.spend, HOLDOUT.spend, 0.9)
    assert result.always_valid == msprt(VARIANT.spend, HOLDOUT.spend, alpha=1 - 0.9)
    assert result.cuped == cuped(
        list(zip(VARIANT.spend, VARIANT.pre_spend, strict=True)),
        list(zip(HOLDOUT.spend, HOLDOUT.pre_spend, strict=True)),
        0.9,
    )
    assert result.cuped != compare_arm(VARIANT, HOLDOUT).cuped
    everyone = evaluate_experiment([VARIANT], HOLDOUT, {"B": 0.5, "holdout": 0.5}, confidence=0.9)
    assert everyone.arms == (result,)


def test_no_pre_period_means_no_cuped() -> None:
    bare = ArmSample("B", 2, 2, 1, [0, 100], [])
    assert compare_arm(bare, HOLDOUT).cuped is None


def test_an_experiment_with_its_sample_ratio_check() -> None:
    other = ArmSample("A", 9, 9, 3, [0, 0, 5_000, 0, 6_000, 0, 0, 0, 7_000], [0] * 9)
    result = evaluate_experiment([other, VARIANT], HOLDOUT, {"A": 0.4, "B": 0.4, "holdout": 0.2})
    assert [arm.figures.arm for arm in result.arms] == ["A", "B"]
    assert result.holdout == arm_figures(HOLDOUT)
    assert result.sample_ratio == sample_ratio([9, 10, 8], [0.4, 0.4, 0.2])
    assert result.arms[1] == compare_arm(VARIANT, HOLDOUT)


def test_a_skewed_split_is_flagged() -> None:
    big = ArmSample("A", 700, 700, 0, [0] * 700, [])
    small = ArmSample("holdout", 300, 0, 0, [0] * 300, [])
    result = evaluate_experiment([big], small, {"A": 0.5, "holdout": 0.5})
    assert result.sample_ratio.mismatch is True
    assert result.sample_ratio.statistic == pytest.approx(160.0)


def test_an_empty_experiment_does_not_crash() -> None:
    nobody = ArmSample("A", 0, 0, 0, [], [])
    holdout = ArmSample("holdout", 0, 0, 0, [], [])
    result = evaluate_experiment([nobody], holdout, {"A": 0.9, "holdout": 0.1})
    arm = result.arms[0]
    assert arm.figures.conversion_rate is None
    assert arm.figures.spend_per_member is None
    assert arm.incremental_spend is None
    assert arm.incremental_spend_per_member.difference is None
    assert arm.conversion.p_value is None
    assert arm.always_valid.low is None
    assert result.sample_ratio.mismatch is False
    assert arm_roi(arm, Fraction(3, 10), 1_000) is None


def test_roi_from_the_incremental_spend() -> None:
    result = compare_arm(VARIANT, HOLDOUT)
    # incremental spend 25,624 at a 30% margin is 7,687.2 of margin against a cost of 5,000
    assert arm_roi(result, Fraction(3, 10), 5_000) == Fraction(26_872, 50_000)
    assert arm_roi(result, Fraction(3, 10), 0) is None


def test_inconsistent_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="one spend figure per assigned member"):
        ArmSample("A", 3, 3, 1, [0, 1], [])
    with pytest.raises(ValueError, match="pre_spend"):
        ArmSample("A", 2, 2, 1, [0, 1], [5])
    with pytest.raises(ValueError, match="participants"):
        ArmSample("A", 2, 2, 3, [0, 1], [])
    with pytest.raises(ValueError, match="no expected share for arm"):
        evaluate_experiment([VARIANT], HOLDOUT, {"B": 0.5})
    with pytest.raises(ValueError, match=r"^no expected share for arm\(s\) B, holdout$"):
        evaluate_experiment([VARIANT], HOLDOUT, {})


@st.composite
def tiny_arm(draw: st.DrawFn, name: str) -> ArmSample:
    """An arm of at most four members, any spend (nothing at all, the same for everyone, or wild)."""
    spend = draw(st.lists(st.integers(0, 10**9), max_size=4))
    pre = draw(
        st.one_of(st.just([]), st.lists(st.integers(0, 10**9), min_size=len(spend), max_size=len(spend)))
    )
    buyers = sum(1 for s in spend if s > 0)
    return ArmSample(name, len(spend), draw(st.integers(0, len(spend))), buyers, spend, pre)


@settings(max_examples=300, deadline=None)
@given(
    tiny_arm("A"),
    tiny_arm("holdout"),
    st.floats(0.5, 0.999),
    st.sampled_from([{"A": 0.5, "holdout": 0.5}, {"A": 1.0, "holdout": 0.0}, {"A": 0.9, "holdout": 0.1}]),
)
def test_a_tiny_experiment_never_crashes_the_report(
    arm: ArmSample, holdout: ArmSample, confidence: float, shares: dict[str, float]
) -> None:
    result = evaluate_experiment([arm], holdout, shares, confidence)
    [evaluated] = result.arms
    welch_estimate = evaluated.incremental_spend_per_member
    if arm.assigned and holdout.assigned:
        assert welch_estimate.difference is not None
        assert evaluated.incremental_spend is not None
    else:
        assert (welch_estimate.difference, evaluated.incremental_spend) == (None, None)
    # an interval, when there is one, holds the estimate
    for low, mid, high in (
        (welch_estimate.low, welch_estimate.difference, welch_estimate.high),
        (evaluated.always_valid.low, evaluated.always_valid.difference, evaluated.always_valid.high),
    ):
        if low is not None and high is not None and mid is not None:
            assert low <= mid <= high
    p_values = (welch_estimate.p_value, evaluated.conversion.p_value, evaluated.always_valid.p_value)
    assert all(p is None or 0 <= p <= 1 for p in p_values)
    assert result.sample_ratio.mismatch in (True, False)
