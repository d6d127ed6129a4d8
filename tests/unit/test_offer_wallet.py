"""The wallet's offer rules, pure (`domain/offers/wallet.py`, `reasons.py`): each reason an offer is
not usable now, the typical basket, the estimate as the engine's own answer, the words and the order.

Now is Wednesday 25 November 2026, 12:00 UTC (20:00 in Shanghai)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from domain.members import Profile
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.offers import (
    Bought,
    CapPeriod,
    Eligibility,
    Estimate,
    FirstPurchase,
    Limits,
    Mechanic,
    Names,
    OfferStatus,
    Segment,
    Spend,
    Trigger,
    Unusable,
    Usage,
    Wallet,
    Window,
    estimate,
    evaluate,
    ranking,
    reasons,
    refusal,
    stand_in_merchant,
    typical_amount,
)
from domain.offers.wallet import basket_facts
from tests.unit.test_offers import MEMBER, NOW, OPEN, cny, facts, offer

GOLD, CLASSIC = 2, 1
WALLET = Wallet(MEMBER, NOW, CLASSIC, {})
DINING = MerchantCategory.DINING
GROCERY = MerchantCategory.GROCERY


def wallet(**changes: object) -> Wallet:
    return replace(WALLET, **changes)  # type: ignore[arg-type]


# --- what is not usable now, each for its own reason ---------------------------------------------------


def test_an_open_purchase_offer_is_usable() -> None:
    assert refusal(offer(1), WALLET) is None


def test_a_sign_up_bonus_is_never_usable_after_enrolment() -> None:
    assert refusal(offer(1, trigger=Trigger.SIGN_UP), WALLET) is Unusable.SIGN_UP_DONE


def test_a_red_packet_needs_its_code_in_the_wallet() -> None:
    packet = offer(1, trigger=Trigger.RED_PACKET)
    assert refusal(packet, WALLET) is Unusable.NO_CODE
    assert refusal(packet, wallet(coupon_offer_ids=frozenset({1}))) is None


def test_a_coupon_only_offer_needs_an_unused_coupon_in_the_wallet() -> None:
    coupon_only = offer(1, requires_coupon=True)
    assert refusal(coupon_only, WALLET) is Unusable.NO_COUPON
    assert refusal(coupon_only, wallet(coupon_offer_ids=frozenset({2}))) is Unusable.NO_COUPON
    assert refusal(coupon_only, wallet(coupon_offer_ids=frozenset({1}))) is None


def test_a_first_purchase_offer_is_not_usable_once_the_member_bought_where_it_asks() -> None:
    ever = offer(1, eligibility=Eligibility(first_purchase=FirstPurchase.EVER))
    at_tea = offer(
        2, eligibility=Eligibility(first_purchase=FirstPurchase.AT_MERCHANT, merchant_ids=frozenset({3}))
    )
    at_brand = offer(
        3, eligibility=Eligibility(first_purchase=FirstPurchase.AT_PARTNER, partner_ids=frozenset({11}))
    )
    anywhere_new = offer(4, eligibility=Eligibility(first_purchase=FirstPurchase.AT_MERCHANT))
    elsewhere = wallet(bought=Bought(True, frozenset({9}), frozenset()))
    at_both = wallet(bought=Bought(True, frozenset({3}), frozenset({11})))

    assert [refusal(o, WALLET) for o in (ever, at_tea, at_brand, anywhere_new)] == [None] * 4
    assert [refusal(o, elsewhere) for o in (ever, at_tea, at_brand, anywhere_new)] == [
        Unusable.FIRST_PURCHASE_MADE,
        None,
        None,
        None,  # a first purchase at some other merchant stays possible
    ]
    assert [refusal(o, at_both) for o in (at_tea, at_brand)] == [Unusable.FIRST_PURCHASE_MADE] * 2


def test_an_offer_is_not_usable_once_the_members_cap_is_reached() -> None:
    twice = offer(1, limits=Limits(per_member=2, per_member_period=CapPeriod.DAY))
    assert refusal(twice, wallet(usage={1: Usage(member_uses=1)})) is None
    assert refusal(twice, wallet(usage={1: Usage(member_uses=2)})) is Unusable.NOT_OPEN


def test_an_offer_is_not_usable_once_its_budget_is_spent() -> None:
    budgeted = offer(1, limits=Limits(budget_points=100))
    assert refusal(budgeted, wallet(usage={1: Usage(points=99)})) is None
    assert refusal(budgeted, wallet(usage={1: Usage(points=100)})) is Unusable.NOT_OPEN


def test_an_offer_is_not_usable_outside_its_dates_days_or_hours_in_its_time_zone() -> None:
    later = offer(1, window=Window(NOW + timedelta(hours=1), NOW + timedelta(days=1)))
    ended = offer(2, window=Window(NOW - timedelta(days=1), NOW))
    # Wednesday 20:00 in Shanghai, still Wednesday 12:00 in UTC.
    weekends = offer(3, window=replace(OPEN, days_of_week=frozenset({6, 7}), time_zone="Asia/Shanghai"))
    mornings = offer(4, window=replace(OPEN, from_hour=8, to_hour=12, time_zone="Asia/Shanghai"))
    evenings = offer(5, window=replace(OPEN, from_hour=18, to_hour=22, time_zone="Asia/Shanghai"))

    assert [refusal(o, WALLET) for o in (later, ended, weekends, mornings)] == [Unusable.NOT_OPEN] * 4
    assert refusal(evenings, WALLET) is None


def test_an_offer_for_other_tiers_is_not_usable() -> None:
    gold_only = offer(1, eligibility=Eligibility(tier_ids=frozenset({GOLD})))
    assert refusal(gold_only, WALLET) is Unusable.NOT_OPEN
    assert refusal(gold_only, wallet(tier_id=GOLD)) is None


def test_an_offer_for_another_segment_is_not_usable() -> None:
    north = offer(1, eligibility=Eligibility(segment=Segment(regions=frozenset({"Beijing"}))))
    eighties = offer(2, eligibility=Eligibility(segment=Segment(born_from=1980, born_to=1989)))
    students = offer(3, eligibility=Eligibility(segment=Segment(any_tags=frozenset({"student"}))))
    assert [refusal(o, WALLET) for o in (north, eighties, students)] == [Unusable.NOT_OPEN] * 2 + [None]


def test_a_referred_only_offer_is_not_usable_by_a_member_nobody_referred() -> None:
    friends = offer(1, eligibility=Eligibility(referred_only=True))
    assert refusal(friends, WALLET) is Unusable.NOT_OPEN
    assert refusal(friends, wallet(member=replace(MEMBER, referred_by=8))) is None


def test_a_paused_offer_or_one_for_another_channel_or_category_is_not_usable() -> None:
    online = offer(1, eligibility=Eligibility(channels=frozenset({Channel.ONLINE})))
    grocery = offer(2, eligibility=Eligibility(categories=frozenset({GROCERY})))
    assert refusal(replace(offer(3), status=OfferStatus.PAUSED), WALLET) is Unusable.NOT_OPEN
    assert refusal(online, WALLET, channel=Channel.OFFLINE) is Unusable.NOT_OPEN
    assert refusal(grocery, WALLET, category=DINING) is Unusable.NOT_OPEN
    assert refusal(grocery, WALLET, category=GROCERY) is None


# --- the typical basket ----------------------------------------------------------------------------


MINE = [Spend(DINING, "CNY", 8_001, 2), Spend(GROCERY, "CNY", 90_000, 1), Spend(DINING, "HKD", 500, 1)]
PROGRAMME_SPEND = [Spend(GROCERY, "CNY", 30_000, 10), Spend(MerchantCategory.TRAVEL, "CNY", 500_000, 1)]


def test_the_typical_basket_is_the_members_mean_in_the_offers_categories_rounded_down() -> None:
    dining = offer(1, eligibility=Eligibility(categories=frozenset({DINING})))
    assert typical_amount(dining, frozenset({DINING}), "CNY", MINE, PROGRAMME_SPEND) == 4_000
    # No category: all of the member's purchases in the currency.
    assert typical_amount(offer(2), frozenset(), "CNY", MINE, PROGRAMME_SPEND) == 32_667


def test_without_purchases_of_its_own_there_the_programmes_mean_is_taken_then_the_minimum_spend() -> None:
    travel = frozenset({MerchantCategory.TRAVEL})
    spend_100 = offer(1, eligibility=Eligibility(minimum_spend=cny(10_000)))
    assert typical_amount(offer(2), frozenset({GROCERY}), "CNY", [], PROGRAMME_SPEND) == 3_000
    assert typical_amount(offer(2), travel, "CNY", MINE, PROGRAMME_SPEND) == 500_000
    assert typical_amount(spend_100, frozenset({MerchantCategory.HEALTHCARE}), "CNY", MINE, []) == 10_000
    assert typical_amount(offer(2), frozenset({MerchantCategory.HEALTHCARE}), "CNY", MINE, []) is None


def test_a_basket_below_the_offers_minimum_spend_or_threshold_is_raised_to_it() -> None:
    save = offer(1, Mechanic.SPEND_AND_SAVE, threshold=cny(10_000), amount=cny(1_000))
    assert typical_amount(save, frozenset({DINING}), "CNY", MINE, []) == 10_000
    assert typical_amount(save, frozenset({GROCERY}), "CNY", MINE, []) == 90_000


# --- the estimate: the engine's answer on the typical purchase --------------------------------------


def test_the_estimate_is_what_evaluate_awards_the_offer_on_the_typical_purchase() -> None:
    double = offer(1, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2))
    tenth_off = offer(2, Mechanic.PERCENT_DISCOUNT, percent=Decimal(10), cap=cny(300))
    cashback = offer(3, Mechanic.CASHBACK_MONEY, percent=Decimal(5))
    typical = facts(4_321)

    for each in (double, tenth_off, cashback):
        [award] = evaluate(basket_facts(each, WALLET, typical), [each], {}).awards
        given = estimate(each, WALLET, typical)
        assert isinstance(given, Estimate)
        assert (given.points, given.discount_minor, given.cashback_minor) == (
            award.points,
            award.discount_minor,
            award.cashback_minor,
        )
    assert estimate(double, WALLET, typical) == Estimate(Money(4_321, "CNY"), 43, 0, 0, 43)
    # 432 fen off is capped at 3.00; worth counted at the base rate of 1 point per yuan.
    assert estimate(tenth_off, WALLET, typical) == Estimate(Money(4_321, "CNY"), 0, 300, 0, 3)
    assert estimate(cashback, WALLET, typical) == Estimate(Money(4_321, "CNY"), 0, 0, 216, 2)


def test_a_coupon_or_first_purchase_offer_is_estimated_as_its_own_purchase_would_present_it() -> None:
    coupon_only = offer(1, requires_coupon=True)
    first = offer(2, eligibility=Eligibility(first_purchase=FirstPurchase.EVER))
    assert estimate(coupon_only, WALLET, facts()) == Estimate(Money(10_000, "CNY"), 50, 0, 0, 50)
    assert estimate(first, WALLET, facts()) == Estimate(Money(10_000, "CNY"), 50, 0, 0, 50)


def test_an_award_that_no_longer_fits_its_budget_makes_the_offer_spent() -> None:
    budgeted = offer(1, points=88, limits=Limits(budget_points=100))
    assert estimate(budgeted, wallet(usage={1: Usage(points=12)}), facts()) == Estimate(
        Money(10_000, "CNY"), 88, 0, 0, 88
    )
    assert estimate(budgeted, wallet(usage={1: Usage(points=13)}), facts()) is Unusable.SPENT
    assert estimate(budgeted, wallet(usage={1: Usage(points=13)}), None) is Unusable.SPENT


def test_without_a_basket_a_fixed_bonus_gives_its_points_and_other_mechanics_say_nothing() -> None:
    packet = offer(1, points=88, trigger=Trigger.RED_PACKET)
    assert estimate(packet, WALLET, None) == Estimate(None, 88, 0, 0, 88)
    assert estimate(offer(2, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(2)), WALLET, None) is None


def test_an_offer_naming_no_merchant_is_estimated_at_a_stand_in_of_its_category() -> None:
    brand_dining = offer(
        1,
        Mechanic.POINTS_MULTIPLIER,
        multiplier=Decimal(3),
        eligibility=Eligibility(categories=frozenset({DINING}), partner_ids=frozenset({11})),
    )
    stand_in = stand_in_merchant(brand_dining, DINING, NOW)
    typical = facts(5_000, merchant=stand_in)
    assert (stand_in.category, stand_in.partner_id, stand_in.earn_rate_override) == (DINING, 11, None)
    assert estimate(brand_dining, WALLET, typical) == Estimate(Money(5_000, "CNY"), 100, 0, 0, 100)


# --- the words and the order ---------------------------------------------------------------------------


def test_the_reasons_say_who_where_and_when_in_words() -> None:
    names = Names(merchants={3: "Tea House"}, partners={11: "Bank of Tea"}, tiers={GOLD: "Gold"})
    gold_dining = offer(
        1,
        eligibility=Eligibility(
            categories=frozenset({DINING}),
            merchant_ids=frozenset({3}),
            tier_ids=frozenset({GOLD}),
            channels=frozenset({Channel.OFFLINE}),
            minimum_spend=cny(5_000),
        ),
        window=replace(
            OPEN, days_of_week=frozenset({6, 7}), from_hour=18, to_hour=22, time_zone="Asia/Shanghai"
        ),
    )
    newcomers = offer(
        2,
        eligibility=Eligibility(
            new_members_within_days=30,
            referred_only=True,
            partner_ids=frozenset({11}),
            first_purchase=FirstPurchase.AT_PARTNER,
            segment=Segment(regions=frozenset({"Shanghai", "Beijing"}), born_from=1990, born_to=1999),
        ),
    )

    assert reasons(gold_dining, names) == [
        "Gold members",
        "dining at Tea House",
        "in store",
        "spend at least 50.00 CNY",
        "weekends 18:00-22:00 (Asia/Shanghai time)",
        "until 2026-12-05 20:00",
    ]
    assert reasons(newcomers, names) == [
        "members in Beijing or Shanghai",
        "members born 1990-1999",
        "members in their first 30 days",
        "referred members",
        "your first purchase at Bank of Tea",
        "at Bank of Tea merchants",
        "until 2026-12-05 12:00",
    ]
    assert reasons(offer(3, requires_coupon=True), names)[0] == "a coupon in your wallet"


def test_offers_rank_by_worth_then_end_then_id() -> None:
    soon = offer(1, window=replace(OPEN, ends_at=NOW + timedelta(days=1)))
    late = offer(2)
    also_late = offer(3)
    ranked = sorted([(late, 10), (also_late, 10), (soon, 10), (late, 50)], key=lambda p: ranking(*p))
    assert [(o.id, worth) for o, worth in ranked] == [(2, 50), (1, 10), (2, 10), (3, 10)]


def test_a_profile_without_the_asked_attributes_is_refused() -> None:
    bare = wallet(member=replace(MEMBER, profile=Profile()))
    eighties = offer(1, eligibility=Eligibility(segment=Segment(born_from=1980)))
    assert refusal(eighties, bare) is Unusable.NOT_OPEN
    assert refusal(eighties, WALLET) is None
