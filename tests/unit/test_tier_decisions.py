"""Tier decisions at their edges (domain/tiers.py): every field of a decision (from, to, grace), a
one-day grace period, a tier the ladder no longer holds, progress past a threshold, and where a new
tier may join the ladder."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.money import Money
from domain.tiers import (
    Qualification,
    Tier,
    TierChangeReason,
    TierDecision,
    decide,
    decide_on_purchase,
    effective_tier,
    effective_tier_id,
    ladder_refusal,
    progress,
)
from tests.unit.test_offers import NOW
from tests.unit.test_tiers import CLASSIC, GOLD, LADDER, PLATINUM, member

BELOW_GOLD = Qualification(999, 0)
GOLD_AGAIN = Qualification(1_000, 0)


def test_a_one_day_grace_period_is_a_grace_period() -> None:
    assert decide(LADDER, member(GOLD), BELOW_GOLD, NOW, grace_days=1) == TierDecision(
        TierChangeReason.GRACE, GOLD, GOLD, NOW + timedelta(days=1)
    )
    # Without any grace, the member moves down at once.
    assert decide(LADDER, member(GOLD), BELOW_GOLD, NOW, grace_days=0) == TierDecision(
        TierChangeReason.DOWNGRADE, GOLD, CLASSIC, None
    )


def test_qualifying_again_in_grace_keeps_the_tier_it_was_in() -> None:
    in_grace = member(GOLD, grace_until=NOW + timedelta(days=3))
    requalified = TierDecision(TierChangeReason.REQUALIFIED, GOLD, GOLD, None)

    assert decide(LADDER, in_grace, GOLD_AGAIN, NOW, grace_days=30) == requalified
    assert decide_on_purchase(LADDER, in_grace, GOLD_AGAIN) == requalified


def test_an_upgrade_names_the_tier_it_leaves_and_the_one_it_reaches() -> None:
    assert decide_on_purchase(LADDER, member(CLASSIC), Qualification(5_000, 0)) == TierDecision(
        TierChangeReason.UPGRADE, CLASSIC, PLATINUM, None
    )


def test_a_member_holding_a_tier_the_ladder_no_longer_has_is_in_the_entry_tier() -> None:
    gone = member(replace(GOLD, id=99))
    assert effective_tier(gone, LADDER) is CLASSIC
    assert effective_tier_id(gone, LADDER) == CLASSIC.id
    assert effective_tier(gone, [GOLD, PLATINUM]) is None


def test_progress_past_the_next_threshold_needs_nothing_more_and_shows_the_member_s_figures() -> None:
    since = NOW - timedelta(days=40)
    grace = NOW + timedelta(days=5)
    q = Qualification(6_000, 6_000_000)
    shown = progress(LADDER, member(GOLD, grace_until=grace, tier_since=since), q, NOW - timedelta(days=365))

    assert shown is not None
    assert (shown.tier, shown.next_tier) == (GOLD, PLATINUM)
    assert (shown.points_needed, shown.spend_needed) == (0, Money(0, "CNY"))
    assert shown.qualification == q
    assert (shown.tier_since, shown.grace_until) == (since, grace)
    assert shown.window_start == NOW - timedelta(days=365)


def test_a_progress_one_point_short_needs_that_point() -> None:
    shown = progress(LADDER, member(GOLD), Qualification(4_999, 4_999_999), NOW)

    assert shown is not None
    assert (shown.points_needed, shown.spend_needed) == (1, Money(1, "CNY"))


def test_a_rank_shared_with_the_entry_tier_is_left_to_the_uniqueness_check() -> None:
    # The ladder's rule is only "below every other": an equal rank is the caller's duplicate to refuse.
    entry_at_two = Tier(9, "BASIC", "Basic", rank=2)
    assert ladder_refusal([GOLD, PLATINUM], entry_at_two) is None
    tier_at_one = Tier(9, "SILVER", "Silver", rank=1, min_points=500)
    assert ladder_refusal(LADDER, tier_at_one) is None


def test_a_second_entry_tier_is_refused_on_its_thresholds() -> None:
    assert ladder_refusal(LADDER, Tier(9, "BASIC", "Basic", rank=0)) == (
        "the ladder already has an entry tier (one without thresholds)",
        ("minPoints",),
    )


def test_the_first_spend_threshold_of_a_ladder_may_be_in_any_currency() -> None:
    points_only = [CLASSIC, GOLD]
    in_hkd = Tier(9, "HK", "HK", rank=5, min_spend=Money(100_000, "HKD"))
    assert ladder_refusal(points_only, in_hkd) is None
