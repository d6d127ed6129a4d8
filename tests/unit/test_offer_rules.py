"""Offer rules the engine tests in test_offers.py leave open: weekday windows and their boundaries,
referral, coupon-only and first-purchase offers, the wallet's view (`open_to`, `uses_left`),
sign-up bonuses, and rounding down where banker's rounding would differ.

Purchases are Wednesday 25 November 2026, 12:00 UTC (20:00 in Shanghai) unless a test says otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.merchants import Channel, MerchantCategory
from domain.offers import (
    Coupon,
    Eligibility,
    FirstPurchase,
    FundedCost,
    FunderKind,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    SkipReason,
    Trigger,
    Usage,
    Window,
    evaluate,
    open_to,
    referrer_points,
    sign_up_bonuses,
    uses_left,
)
from domain.offers.evaluation import MECHANICS
from tests.unit.test_offers import MEMBER, NOW, cny, facts, offer

SHANGHAI = "Asia/Shanghai"
SECOND = timedelta(seconds=1)
# Saturday 28 November 2026, 00:00:00 in Shanghai (UTC+8) is Friday 27 November, 16:00:00 UTC.
SATURDAY_STARTS = NOW + timedelta(days=2, hours=4)
# Monday 30 November 2026, 00:00:00 in Shanghai is Sunday 29 November, 16:00:00 UTC.
MONDAY_STARTS = SATURDAY_STARTS + timedelta(days=2)


def reasons(offer_: Offer, **changes: object) -> list[SkipReason]:
    return [s.reason for s in evaluate(facts(**changes), [offer_], {}).skipped]


# --- every mechanic has its rule --------------------------------------------------------------------


def test_every_mechanic_has_an_entry_in_the_mechanics_table() -> None:
    assert set(MECHANICS) == set(Mechanic)


# --- windows: weekdays and boundaries -------------------------------------------------------------


def test_a_weekend_window_is_read_on_the_local_calendar_to_the_second() -> None:
    weekends = Window(
        NOW - timedelta(days=30), NOW + timedelta(days=30), days_of_week=frozenset({6, 7}), time_zone=SHANGHAI
    )

    assert not weekends.contains(NOW)  # Wednesday 20:00 local
    assert not weekends.contains(SATURDAY_STARTS - SECOND)  # Friday 23:59:59 local (Friday in UTC too)
    assert weekends.contains(SATURDAY_STARTS)  # Saturday 00:00:00 local, still Friday 16:00 in UTC
    assert weekends.contains(MONDAY_STARTS - SECOND)  # Sunday 23:59:59 local
    assert not weekends.contains(MONDAY_STARTS)  # Monday 00:00:00 local, still Sunday 16:00 in UTC


def test_a_weekend_offer_is_skipped_on_a_weekday_and_given_on_the_weekend() -> None:
    weekends = Window(
        NOW - timedelta(days=30), NOW + timedelta(days=30), days_of_week=frozenset({6, 7}), time_zone=SHANGHAI
    )
    bonus = offer(1, points=50, window=weekends)

    assert reasons(bonus) == [SkipReason.OUTSIDE_WINDOW]
    assert evaluate(facts(at=SATURDAY_STARTS), [bonus], {}).bonus_points == 50


def test_hours_are_local_and_half_open() -> None:
    evenings = Window(
        NOW - timedelta(days=30), NOW + timedelta(days=30), from_hour=18, to_hour=22, time_zone=SHANGHAI
    )
    six_pm = NOW - timedelta(hours=2)  # 10:00 UTC = 18:00 local
    ten_pm = NOW + timedelta(hours=2)  # 14:00 UTC = 22:00 local

    assert not evenings.contains(six_pm - SECOND)  # 17:59:59
    assert evenings.contains(six_pm)  # 18:00:00, the first second
    assert evenings.contains(ten_pm - SECOND)  # 21:59:59, the last second
    assert not evenings.contains(ten_pm)  # 22:00:00


def test_an_offer_applies_from_its_first_second_to_the_last_before_its_end() -> None:
    bonus = offer(1, points=50, window=Window(NOW, NOW + timedelta(days=1)))

    assert reasons(bonus, at=NOW - SECOND) == [SkipReason.OUTSIDE_WINDOW]
    assert reasons(bonus, at=NOW) == []
    assert reasons(bonus, at=NOW + timedelta(days=1) - SECOND) == []
    assert reasons(bonus, at=NOW + timedelta(days=1)) == [SkipReason.OUTSIDE_WINDOW]


def test_a_new_members_offer_applies_up_to_exactly_its_last_day() -> None:
    # MEMBER enrolled 100 days before NOW: day 100 ends at NOW itself.
    newcomers = offer(1, eligibility=Eligibility(new_members_within_days=100))

    assert reasons(newcomers, at=NOW) == []
    assert reasons(newcomers, at=NOW + SECOND) == [SkipReason.NEW_MEMBERS_ONLY]


@pytest.mark.parametrize(("amount", "skipped"), [(9_999, [SkipReason.MINIMUM_SPEND]), (10_000, [])])
def test_minimum_spend_and_spend_x_thresholds_are_inclusive(amount: int, skipped: list[SkipReason]) -> None:
    at_least = offer(1, eligibility=Eligibility(minimum_spend=cny(10_000)))
    spend_and_save = offer(2, Mechanic.SPEND_AND_SAVE, threshold=cny(10_000), amount=cny(1_000))

    assert reasons(at_least, amount=amount) == skipped
    assert reasons(spend_and_save, amount=amount) == skipped


# --- referral -------------------------------------------------------------------------------------


def test_a_referred_only_offer_skips_a_member_who_came_without_a_referral() -> None:
    referred_only = offer(1, points=50, eligibility=Eligibility(referred_only=True))
    referred = replace(MEMBER, referred_by=42)

    assert reasons(referred_only) == [SkipReason.NOT_REFERRED]
    assert evaluate(facts(member=referred), [referred_only], {}).bonus_points == 50


def test_a_segment_offer_applies_to_members_of_any_of_its_segments_only() -> None:
    aimed = offer(1, points=50, eligibility=Eligibility(segment_ids=frozenset({7, 9})))

    assert reasons(aimed) == [SkipReason.SEGMENT]  # in no segment
    assert reasons(aimed, segment_ids=frozenset({8})) == [SkipReason.SEGMENT]
    assert evaluate(facts(segment_ids=frozenset({9, 11})), [aimed], {}).bonus_points == 50
    anyone = offer(2, points=5, eligibility=Eligibility(segment_ids=None))
    assert evaluate(facts(), [anyone], {}).bonus_points == 5


def test_referrer_points_go_only_to_an_active_referrer_of_this_buyer() -> None:
    bonus = offer(1, points=50, referrer_points=20)
    referred = replace(MEMBER, referred_by=42)

    assert referrer_points(bonus, facts(member=referred, referrer_active=True)) == 20
    assert referrer_points(bonus, facts(member=referred, referrer_active=False)) == 0
    assert referrer_points(bonus, facts(referrer_active=True)) == 0  # not referred


def test_referrer_points_count_against_the_budget_but_not_in_the_buyers_award() -> None:
    referred = facts(member=replace(MEMBER, referred_by=42), referrer_active=True)
    # The award costs the buyer's 50 points plus the referrer's 20 = 70.
    fits = offer(1, points=50, referrer_points=20, limits=Limits(budget_points=70))
    short = offer(1, points=50, referrer_points=20, limits=Limits(budget_points=69))

    [award] = evaluate(referred, [fits], {}).awards
    assert award.points == 50
    assert award.funding == (FundedCost(FunderKind.PROGRAMME, None, 50, 0),)
    refused = evaluate(referred, [short], {})
    assert (refused.awards, [s.reason for s in refused.skipped]) == ((), [SkipReason.BUDGET_EXHAUSTED])
    # With the referrer unable to earn, only the buyer's 50 count, and 50 <= 69.
    assert evaluate(replace(referred, referrer_active=False), [short], {}).bonus_points == 50


# --- coupon-only offers ---------------------------------------------------------------------------


def test_a_coupon_only_offer_applies_only_with_one_of_its_own_coupons() -> None:
    coupon_only = offer(1, points=50, requires_coupon=True)

    assert reasons(coupon_only) == [SkipReason.COUPON_REQUIRED]
    assert reasons(coupon_only, coupon_offer_id=2) == [SkipReason.COUPON_REQUIRED]  # another offer's
    assert evaluate(facts(coupon_offer_id=1), [coupon_only], {}).bonus_points == 50


@pytest.mark.parametrize(
    ("max_uses", "uses", "used_up"),
    [(1, 0, False), (1, 1, True), (5, 4, False), (5, 5, True)],
)
def test_a_coupon_is_used_up_at_its_limit(max_uses: int, uses: int, used_up: bool) -> None:
    assert Coupon(1, 1, "CODE", max_uses, uses, None).used_up is used_up


# --- first purchase -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "firsts", "skipped"),
    [
        (FirstPurchase.EVER, frozenset(), [SkipReason.NOT_FIRST_PURCHASE]),
        (FirstPurchase.AT_MERCHANT, frozenset({FirstPurchase.AT_PARTNER}), [SkipReason.NOT_FIRST_PURCHASE]),
        (FirstPurchase.AT_PARTNER, frozenset({FirstPurchase.AT_MERCHANT}), [SkipReason.NOT_FIRST_PURCHASE]),
        (FirstPurchase.AT_MERCHANT, frozenset({FirstPurchase.AT_MERCHANT}), []),
        (FirstPurchase.EVER, frozenset(FirstPurchase), []),
    ],
)
def test_a_first_purchase_offer_needs_that_kind_of_first(
    kind: FirstPurchase, firsts: frozenset[FirstPurchase], skipped: list[SkipReason]
) -> None:
    assert reasons(offer(1, eligibility=Eligibility(first_purchase=kind)), firsts=firsts) == skipped


# --- the wallet: open_to and uses_left ------------------------------------------------------------


def test_open_to_ignores_where_and_how_much_but_not_who_when_and_how_often() -> None:
    anywhere = offer(1)

    assert open_to(anywhere, MEMBER, NOW, Usage())
    # Merchant and minimum spend are for the purchase to meet, not the member.
    assert open_to(offer(2, eligibility=Eligibility(merchant_ids=frozenset({99}))), MEMBER, NOW, Usage())
    assert open_to(offer(3, eligibility=Eligibility(minimum_spend=cny(1_000_000))), MEMBER, NOW, Usage())
    assert not open_to(replace(anywhere, status=OfferStatus.PAUSED), MEMBER, NOW, Usage())
    assert not open_to(replace(anywhere, requires_coupon=True), MEMBER, NOW, Usage())  # left to coupons
    assert not open_to(anywhere, MEMBER, NOW + timedelta(days=10), Usage())  # the window's end
    assert not open_to(offer(4, eligibility=Eligibility(referred_only=True)), MEMBER, NOW, Usage())
    once = offer(5, limits=Limits(per_member=1))
    assert open_to(once, MEMBER, NOW, Usage(member_uses=0))
    assert not open_to(once, MEMBER, NOW, Usage(member_uses=1))


@pytest.mark.parametrize(
    ("channel", "category", "open_"),
    [
        (None, None, True),  # the wallet asks for no channel or category: the offer applies somewhere
        (Channel.ONLINE, None, True),
        (Channel.OFFLINE, None, False),
        (None, MerchantCategory.DINING, True),
        (None, MerchantCategory.TRAVEL, False),
        (Channel.ONLINE, MerchantCategory.DINING, True),
    ],
)
def test_open_to_narrows_by_the_channel_and_category_asked_for(
    channel: Channel | None, category: MerchantCategory | None, open_: bool
) -> None:
    online_dining = offer(
        1,
        eligibility=Eligibility(
            channels=frozenset({Channel.ONLINE}), categories=frozenset({MerchantCategory.DINING})
        ),
    )

    assert open_to(online_dining, MEMBER, NOW, Usage(), channel, category) is open_


@pytest.mark.parametrize(
    ("per_member", "member_uses", "left"),
    [
        (None, 7, None),  # no per-member limit
        (3, 0, 3),
        (3, 1, 2),  # 3 - 1
        (3, 3, 0),
        (3, 5, 0),  # over the limit (lowered after use): never negative
    ],
)
def test_uses_left_in_the_cap_period(per_member: int | None, member_uses: int, left: int | None) -> None:
    capped = offer(1, limits=Limits(per_member=per_member))

    assert uses_left(capped, Usage(member_uses=member_uses)) == left


# --- sign-up bonuses ------------------------------------------------------------------------------


def test_sign_up_bonuses_are_the_live_sign_up_offers_this_member_can_get_within_budget() -> None:
    newcomer = replace(MEMBER, enrolled_at=NOW)
    later = Window(NOW + SECOND, NOW + timedelta(days=1))
    offers = [
        offer(1, points=100, trigger=Trigger.SIGN_UP),
        offer(2, points=100),  # a purchase offer
        offer(3, points=100, trigger=Trigger.RED_PACKET),
        offer(4, points=100, trigger=Trigger.SIGN_UP, status=OfferStatus.PAUSED),
        offer(5, points=100, trigger=Trigger.SIGN_UP, window=later),
        offer(6, points=100, trigger=Trigger.SIGN_UP, eligibility=Eligibility(referred_only=True)),
        offer(7, points=100, trigger=Trigger.SIGN_UP, limits=Limits(budget_points=300)),
        offer(8, points=100, trigger=Trigger.SIGN_UP, limits=Limits(budget_points=299)),
        offer(9, points=100, trigger=Trigger.SIGN_UP, limits=Limits(max_uses=10)),
        offer(10, points=100, trigger=Trigger.SIGN_UP, eligibility=Eligibility(new_members_within_days=0)),
    ]
    # 7: 200 given + 100 = 300 fits 300; 8: 300 does not fit 299; 9: 10 uses of 10 are gone;
    # 10: enrolling now is 0 days after enrolment, within 0 days.
    usage = {7: Usage(points=200), 8: Usage(points=200), 9: Usage(uses=10)}

    assert [o.id for o in sign_up_bonuses(offers, newcomer, NOW, usage)] == [1, 7, 10]


# --- rounding down --------------------------------------------------------------------------------
# Banker's rounding (ROUND_HALF_EVEN) takes x.5 to the even neighbour, so it agrees with rounding
# down when x is even and differs when x is odd; 184.7 rounds to 185 every way but down.


@pytest.mark.parametrize(
    ("amount", "multiplier", "bonus"),
    [
        (12_300, "1.5", 61),  # base 123 points; 123 x 0.5 = 61.5 -> 61 (half-even: 62)
        (12_500, "1.5", 62),  # base 125 points; 125 x 0.5 = 62.5 -> 62 (half-even: 62 too)
        (184_700, "1.1", 184),  # base 1,847 points; 1,847 x 0.1 = 184.7 -> 184
    ],
)
def test_a_multiplier_rounds_down(amount: int, multiplier: str, bonus: int) -> None:
    result = evaluate(
        facts(amount), [offer(1, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(multiplier))], {}
    )

    assert result.bonus_points == bonus
    assert result.total_points == amount // 100 + bonus


@pytest.mark.parametrize(
    ("amount", "cashback"),
    [
        (1_030, 51),  # 5% of 1,030 = 51.5 -> 51 (half-even: 52)
        (1_050, 52),  # 5% of 1,050 = 52.5 -> 52 (half-even: 52 too)
        (3_694, 184),  # 5% of 3,694 = 184.7 -> 184
    ],
)
def test_money_cashback_rounds_down_to_the_minor_unit(amount: int, cashback: int) -> None:
    [award] = evaluate(facts(amount), [offer(1, Mechanic.CASHBACK_MONEY, percent=Decimal(5))], {}).awards

    assert award.cashback_minor == cashback
    assert award.funding == (FundedCost(FunderKind.PROGRAMME, None, 0, cashback),)


def test_a_percentage_discount_rounds_down_so_the_member_pays_the_odd_half() -> None:
    result = evaluate(facts(1_010), [offer(1, Mechanic.PERCENT_DISCOUNT, percent=Decimal(15))], {})

    # 15% of 1,010 = 151.5 -> 151 off (half-even: 152); 1,010 - 151 = 859 paid = 8.59 CNY -> 8 points.
    assert [a.discount_minor for a in result.awards] == [151]
    assert (result.paid, result.base_points) == (cny(859), 8)


def test_points_cashback_rounds_the_money_down_before_converting_it() -> None:
    result = evaluate(
        facts(1_235, base_rate=Decimal(100)),
        [offer(1, Mechanic.CASHBACK_POINTS, percent=Decimal(10))],
        {},
    )

    # Base: 12.35 CNY x 100 = 1,235 points. Cashback: 10% of 1,235 = 123.5 -> 123 minor = 1.23 CNY,
    # x 100 = 123 points (rounding the half to even first would give 124).
    assert (result.base_points, result.bonus_points, result.total_points) == (1_235, 123, 1_358)
