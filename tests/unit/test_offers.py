"""The offer engine (domain/offers/): every mechanic, eligibility rule, window and combination rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.members import IncomeBand, Member, MemberStatus, Profile
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import Money
from domain.offers import (
    CapPeriod,
    Eligibility,
    FundedCost,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferIndex,
    OfferStatus,
    PurchaseFacts,
    Segment,
    SkipReason,
    Usage,
    Window,
    evaluate,
    period_start,
    split_cost,
)

# Wednesday 25 November 2026, 12:00 UTC = 20:00 in Shanghai.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OPEN = Window(NOW - timedelta(days=10), NOW + timedelta(days=10))
PROGRAMME = (FundingShare(FunderKind.PROGRAMME, None, 100),)
MEMBER = Member(
    id=7,
    external_ref="alice",
    status=MemberStatus.ACTIVE,
    referral_code="ALICE123",
    enrolled_at=NOW - timedelta(days=100),
    profile=Profile(birth_year=1990, region="Shanghai", income_band=IncomeBand.HIGH, tags=("student",)),
)
TEA = Merchant(
    id=3,
    name="Tea House",
    category=MerchantCategory.DINING,
    channel=MerchantChannel.BOTH,
    partner_id=11,
    earn_rate_override=None,
    created_at=NOW - timedelta(days=400),
)


def facts(amount: int = 10_000, **changes: object) -> PurchaseFacts:
    base = PurchaseFacts(MEMBER, TEA, Money(amount, "CNY"), Channel.OFFLINE, NOW, Decimal(1))
    return replace(base, **changes)  # type: ignore[arg-type]


def offer(offer_id: int, mechanic: Mechanic = Mechanic.BONUS_POINTS, **fields: object) -> Offer:
    values: dict[str, object] = {"window": OPEN, "funding": PROGRAMME}
    if mechanic is Mechanic.BONUS_POINTS:
        values["points"] = 50
    values |= fields
    return Offer(id=offer_id, version=1, name=f"offer {offer_id}", mechanic=mechanic, **values)  # type: ignore[arg-type]


def cny(minor: int) -> Money:
    return Money(minor, "CNY")


# --- mechanics ------------------------------------------------------------------------------------


def test_a_bonus_adds_its_points_to_the_base_earn() -> None:
    result = evaluate(facts(12_345), [offer(1, points=50)], {})

    assert (result.base_points, result.bonus_points, result.total_points) == (123, 50, 173)
    [award] = result.awards
    assert (award.offer_id, award.version, award.points) == (1, 1, 50)
    assert result.skipped == ()


def test_a_multiplier_adds_base_times_factor_minus_one_rounded_down() -> None:
    result = evaluate(facts(12_345), [offer(1, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal("2.5"))], {})

    assert result.base_points == 123
    assert result.bonus_points == 184  # 123 x 1.5 = 184.5


def test_cashback_as_points_and_as_money_is_a_percentage_of_the_amount_paid() -> None:
    result = evaluate(
        facts(20_000),
        [
            offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(5_000)),
            offer(2, Mechanic.CASHBACK_POINTS, percent=Decimal(10)),
            offer(3, Mechanic.CASHBACK_MONEY, percent=Decimal(3)),
        ],
        {},
    )

    awards = {a.offer_id: a for a in result.awards}
    assert result.paid == cny(15_000)
    assert awards[2].points == 15  # 10% of 150.00 CNY = 15.00 CNY, at 1 point a yuan
    assert awards[3].cashback_minor == 450  # 3% of 150.00


def test_a_percentage_discount_computes_on_the_amount_after_fixed_discounts_and_respects_its_cap() -> None:
    result = evaluate(
        facts(30_000),
        [
            offer(1, Mechanic.PERCENT_DISCOUNT, percent=Decimal(20), cap=cny(10_000)),
            offer(2, Mechanic.SPEND_AND_SAVE, threshold=cny(20_000), amount=cny(5_000)),
            offer(3, Mechanic.PERCENT_DISCOUNT, percent=Decimal(50), cap=cny(1_000), priority=-1),
        ],
        {},
    )

    awards = {a.offer_id: a.discount_minor for a in result.awards}
    # 300.00 - 50.00 (spend 200 save 50) = 250.00; 20% of that = 50.00; then 50% capped at 10.00.
    assert awards == {2: 5_000, 1: 5_000, 3: 1_000}
    assert result.paid == cny(19_000)
    assert result.base_points == 190  # points are earned on what was paid


def test_thresholds_look_at_the_amount_before_discounts() -> None:
    result = evaluate(
        facts(20_000),
        [
            offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(3_000), priority=5),
            offer(2, Mechanic.SPEND_AND_SAVE, threshold=cny(20_000), amount=cny(2_000)),
        ],
        {},
    )

    assert [a.discount_minor for a in result.awards] == [3_000, 2_000]
    assert result.paid == cny(15_000)


def test_discounts_never_take_the_amount_below_zero() -> None:
    result = evaluate(
        facts(1_000),
        [
            offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(800)),
            offer(2, Mechanic.INSTANT_DISCOUNT, amount=cny(800)),
        ],
        {},
    )

    assert [a.discount_minor for a in result.awards] == [800, 200]
    assert (result.paid, result.base_points) == (cny(0), 0)


# --- eligibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eligibility", "reason"),
    [
        (Eligibility(merchant_ids=frozenset({99})), SkipReason.MERCHANT),
        (Eligibility(categories=frozenset({MerchantCategory.TRAVEL})), SkipReason.CATEGORY),
        (Eligibility(partner_ids=frozenset({12})), SkipReason.PARTNER),
        (Eligibility(channels=frozenset({Channel.ONLINE})), SkipReason.CHANNEL),
        (Eligibility(minimum_spend=cny(10_001)), SkipReason.MINIMUM_SPEND),
        (Eligibility(minimum_spend=Money(100, "USD")), SkipReason.CURRENCY),
        (Eligibility(segment=Segment(regions=frozenset({"Beijing"}))), SkipReason.SEGMENT),
        (Eligibility(segment=Segment(income_bands=frozenset({IncomeBand.LOW}))), SkipReason.SEGMENT),
        (Eligibility(segment=Segment(any_tags=frozenset({"senior"}))), SkipReason.SEGMENT),
        (Eligibility(segment=Segment(born_from=1995)), SkipReason.SEGMENT),
        (Eligibility(new_members_within_days=30), SkipReason.NEW_MEMBERS_ONLY),
    ],
)
def test_an_ineligible_purchase_is_skipped_with_the_reason(
    eligibility: Eligibility, reason: SkipReason
) -> None:
    result = evaluate(facts(), [offer(1, eligibility=eligibility)], {})

    assert result.awards == ()
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(1, reason)]


def test_a_purchase_meeting_every_condition_qualifies() -> None:
    rules = Eligibility(
        merchant_ids=frozenset({3}),
        categories=frozenset({MerchantCategory.DINING}),
        partner_ids=frozenset({11}),
        channels=frozenset({Channel.OFFLINE}),
        minimum_spend=cny(10_000),
        new_members_within_days=365,
        segment=Segment(
            regions=frozenset({"Shanghai"}),
            income_bands=frozenset({IncomeBand.HIGH}),
            any_tags=frozenset({"student", "senior"}),
            born_from=1985,
            born_to=1995,
        ),
    )

    assert evaluate(facts(), [offer(1, eligibility=rules)], {}).bonus_points == 50


def test_paused_and_archived_offers_do_not_apply() -> None:
    result = evaluate(
        facts(), [offer(1, status=OfferStatus.PAUSED), offer(2, status=OfferStatus.ARCHIVED)], {}
    )

    assert [s.reason for s in result.skipped] == [SkipReason.NOT_ACTIVE, SkipReason.NOT_ACTIVE]


# --- windows --------------------------------------------------------------------------------------


def test_a_window_is_half_open_and_read_in_its_own_time_zone() -> None:
    ended = Window(NOW - timedelta(days=1), NOW)
    wednesday_evenings = Window(
        NOW - timedelta(days=30),
        NOW + timedelta(days=30),
        days_of_week=frozenset({3}),
        from_hour=18,
        to_hour=22,
        time_zone="Asia/Shanghai",
    )

    assert not ended.contains(NOW)
    assert ended.contains(NOW - timedelta(seconds=1))
    assert wednesday_evenings.contains(NOW)  # 20:00 on a Wednesday in Shanghai
    assert not wednesday_evenings.contains(NOW + timedelta(hours=3))  # 23:00
    assert not wednesday_evenings.contains(NOW + timedelta(days=1))  # Thursday


def test_an_offer_outside_its_window_is_skipped() -> None:
    later = Window(NOW + timedelta(days=1), NOW + timedelta(days=2))

    result = evaluate(facts(), [offer(1, window=later)], {})

    assert [s.reason for s in result.skipped] == [SkipReason.OUTSIDE_WINDOW]


# --- combination ----------------------------------------------------------------------------------


def test_in_an_exclusive_group_the_offer_worth_most_wins_and_stackables_add() -> None:
    result = evaluate(
        facts(10_000),
        [
            offer(1, points=80, exclusive_group="festival"),
            offer(2, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2), exclusive_group="festival"),  # +100
            offer(3, points=20),
            offer(4, points=5),
        ],
        {},
    )

    assert sorted(a.offer_id for a in result.awards) == [2, 3, 4]
    assert result.total_points == 100 + 100 + 20 + 5
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(1, SkipReason.EXCLUSIVE_WITH_BETTER)]


def test_equal_worth_in_a_group_goes_to_the_higher_priority_then_the_older_offer() -> None:
    by_priority = evaluate(
        facts(), [offer(1, exclusive_group="g"), offer(2, exclusive_group="g", priority=1)], {}
    )
    by_age = evaluate(facts(), [offer(2, exclusive_group="g"), offer(1, exclusive_group="g")], {})

    assert [a.offer_id for a in by_priority.awards] == [2]
    assert [a.offer_id for a in by_age.awards] == [1]


def test_an_ineligible_offer_does_not_block_its_group() -> None:
    result = evaluate(
        facts(),
        [
            offer(1, points=500, exclusive_group="g", eligibility=Eligibility(merchant_ids=frozenset({99}))),
            offer(2, exclusive_group="g"),
        ],
        {},
    )

    assert [a.offer_id for a in result.awards] == [2]


# --- limits ---------------------------------------------------------------------------------------


def test_an_award_that_does_not_fit_the_budget_is_not_made() -> None:
    bonus = offer(1, points=30, limits=Limits(budget_points=10_000))

    fits = evaluate(facts(), [bonus], {1: Usage(points=9_960, uses=332)})
    last = evaluate(facts(), [bonus], {1: Usage(points=9_990, uses=333)})  # 10,020 would not fit

    assert fits.bonus_points == 30
    assert last.bonus_points == 0
    assert [s.reason for s in last.skipped] == [SkipReason.BUDGET_EXHAUSTED]


def test_a_discount_over_its_money_budget_is_refused_and_the_next_computes_without_it() -> None:
    result = evaluate(
        facts(10_000),
        [
            offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(2_000), limits=Limits(budget_money=cny(100_000))),
            offer(2, Mechanic.PERCENT_DISCOUNT, percent=Decimal(10)),
        ],
        {1: Usage(money_minor=99_000)},
    )

    assert [(a.offer_id, a.discount_minor) for a in result.awards] == [(2, 1_000)]
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(1, SkipReason.BUDGET_EXHAUSTED)]
    assert result.paid == cny(9_000)


def test_member_and_global_limits() -> None:
    once_each = offer(1, limits=Limits(per_member=1, per_member_period=CapPeriod.DAY))
    first_hundred = offer(2, limits=Limits(max_uses=100))

    result = evaluate(facts(), [once_each, first_hundred], {1: Usage(member_uses=1), 2: Usage(uses=100)})

    assert [s.reason for s in result.skipped] == [
        SkipReason.MEMBER_LIMIT_REACHED,
        SkipReason.GLOBAL_LIMIT_REACHED,
    ]


def test_cap_periods_start_at_local_midnight_monday_and_the_first() -> None:
    start = NOW - timedelta(days=10)
    shanghai = "Asia/Shanghai"

    day = period_start(CapPeriod.DAY, NOW, shanghai, start)
    week = period_start(CapPeriod.WEEK, NOW, shanghai, start)
    month = period_start(CapPeriod.MONTH, NOW, shanghai, start)

    assert day == datetime(2026, 11, 25, 0, 0, tzinfo=UTC).replace(tzinfo=day.tzinfo)
    assert (day.isoformat(), week.isoformat(), month.isoformat()) == (
        "2026-11-25T00:00:00+08:00",
        "2026-11-23T00:00:00+08:00",
        "2026-11-01T00:00:00+08:00",
    )
    assert period_start(CapPeriod.OFFER, NOW, shanghai, start) == start


# --- funding --------------------------------------------------------------------------------------


def test_a_split_cost_adds_up_to_the_whole_with_the_remainder_on_the_first_share() -> None:
    shares = (
        FundingShare(FunderKind.PARTNER, 11, 60),
        FundingShare(FunderKind.MERCHANT, 3, 30),
        FundingShare(FunderKind.PROGRAMME, None, 10),
    )

    parts = split_cost(shares, points=33, money_minor=1_001)

    assert parts == (
        FundedCost(FunderKind.PARTNER, 11, 21, 601),
        FundedCost(FunderKind.MERCHANT, 3, 9, 300),
        FundedCost(FunderKind.PROGRAMME, None, 3, 100),
    )
    assert sum(p.points for p in parts) == 33
    assert sum(p.money_minor for p in parts) == 1_001


def test_each_award_carries_its_funding() -> None:
    co_branded = offer(
        1,
        points=45,
        funding=(FundingShare(FunderKind.PARTNER, 11, 50), FundingShare(FunderKind.MERCHANT, 3, 50)),
    )

    [award] = evaluate(facts(), [co_branded], {}).awards

    assert award.funding == (
        FundedCost(FunderKind.PARTNER, 11, 23, 0),
        FundedCost(FunderKind.MERCHANT, 3, 22, 0),
    )


# --- index ----------------------------------------------------------------------------------------


def test_the_index_gives_a_merchant_the_offers_that_could_apply_there_and_no_others() -> None:
    offers = [
        offer(1),  # everywhere
        offer(2, eligibility=Eligibility(merchant_ids=frozenset({3}))),
        offer(3, eligibility=Eligibility(merchant_ids=frozenset({4}))),
        offer(4, eligibility=Eligibility(categories=frozenset({MerchantCategory.DINING}))),
        offer(5, eligibility=Eligibility(categories=frozenset({MerchantCategory.TRAVEL}))),
        offer(6, eligibility=Eligibility(partner_ids=frozenset({11}))),
        offer(7, eligibility=Eligibility(partner_ids=frozenset({12}))),
    ]
    index = OfferIndex(offers)

    at_tea = index.for_merchant(TEA)  # merchant 3, DINING, partner 11

    assert [o.id for o in at_tea] == [1, 2, 4, 6]
    assert evaluate(facts(), at_tea, {}).awards == evaluate(facts(), offers, {}).awards


def test_the_readme_example() -> None:
    result = evaluate(
        facts(25_000),
        [
            offer(1, Mechanic.SPEND_AND_SAVE, threshold=cny(20_000), amount=cny(3_000)),
            offer(2, Mechanic.PERCENT_DISCOUNT, percent=Decimal(10)),
            offer(3, points=88, exclusive_group="g"),
            offer(4, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2), exclusive_group="g"),
        ],
        {},
    )

    assert [(a.offer_id, a.discount_minor, a.points) for a in result.awards] == [
        (1, 3_000, 0),
        (2, 2_200, 0),
        (4, 0, 198),
    ]
    assert (result.paid, result.base_points, result.total_points) == (cny(19_800), 198, 396)
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(3, SkipReason.EXCLUSIVE_WITH_BETTER)]


def test_tiered_spend_brackets_are_offers_in_one_exclusive_group() -> None:
    brackets = [
        offer(1, points=20, exclusive_group="brackets", eligibility=Eligibility(minimum_spend=cny(10_000))),
        offer(2, points=60, exclusive_group="brackets", eligibility=Eligibility(minimum_spend=cny(30_000))),
        offer(3, points=150, exclusive_group="brackets", eligibility=Eligibility(minimum_spend=cny(60_000))),
    ]

    given = {
        amount: evaluate(facts(amount), brackets, {}).bonus_points
        for amount in (5_000, 10_000, 45_000, 90_000)
    }

    assert given == {5_000: 0, 10_000: 20, 45_000: 60, 90_000: 150}
