"""The recommendation score (domain/recommendations.py): each factor on its own, the order, and the
reasons with their figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.profiles import DayActivity
from domain.recommendations import (
    FLOOR,
    GENERAL_SHARE,
    PPM,
    Candidate,
    Habit,
    Reason,
    ReasonCode,
    Recommendation,
    Taste,
    affinity_ppm,
    budget_left_ppm,
    point_value_micro,
    reasons,
    recommend,
    taste,
    urgency_ppm,
    value_micro,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
DINING, GROCERY, TRAVEL = MerchantCategory.DINING, MerchantCategory.GROCERY, MerchantCategory.TRAVEL
NOBODY = Taste(TODAY, 0, {}, {})


def offer(offer_id: int = 1, **given: object) -> Candidate:
    fields: dict[str, object] = {
        "offer_id": offer_id,
        "ends_at": NOW + timedelta(days=365),
        "categories": frozenset(),
        "merchant_ids": frozenset(),
        "currency": "CNY",
        "basket_minor": 10_000,
        "money_minor": 500,
        "points": 0,
        "budget_left_ppm": None,
    }
    fields.update(given)
    return Candidate(**fields)  # type: ignore[arg-type]


def member(spend: int, categories: dict[MerchantCategory, Habit], merchants: dict[int, Habit]) -> Taste:
    return Taste(TODAY, spend, categories, merchants)


def day(days_ago: int, merchant: int, category: MerchantCategory, spend: int, n: int = 1) -> DayActivity:
    return DayActivity(TODAY - timedelta(days=days_ago), merchant, category, Channel.OFFLINE, "CNY", n, spend)


# Value


def test_value_is_money_plus_points_at_the_programmes_point_value() -> None:
    point = point_value_micro({"CNY": Decimal("0.01")}, "CNY")
    assert point == PPM  # CNY 0.01 = one fen
    assert value_micro(offer(money_minor=300, points=250), point) == 300 * PPM + 250 * PPM
    half_fen = point_value_micro({"CNY": Decimal("0.005")}, "CNY")
    assert value_micro(offer(money_minor=0, points=250), half_fen) == 125 * PPM


def test_points_are_worth_one_minor_unit_without_a_point_value_and_nothing_is_worth_one() -> None:
    assert point_value_micro({}, "JPY") == PPM
    assert point_value_micro({"JPY": Decimal("0.5")}, "JPY") == PPM // 2
    assert value_micro(offer(money_minor=0, points=0, basket_minor=None), PPM) == PPM


# Affinity


def test_a_member_without_purchases_gets_the_floor_and_an_open_offer_a_quarter_more() -> None:
    assert affinity_ppm(offer(categories=frozenset({DINING})), NOBODY) == FLOOR
    assert affinity_ppm(offer(), NOBODY) == FLOOR + GENERAL_SHARE


def test_category_share_weighted_by_recency() -> None:
    # Half its spend on dining, last bought there today: share 1/2 × (1 + 1) / 2.
    fresh = member(10_000, {DINING: Habit(5, 5_000, TODAY)}, {})
    assert affinity_ppm(offer(categories=frozenset({DINING})), fresh) == FLOOR + PPM // 2
    # The same share, last bought 30 days ago: recency 1/2, so 1/2 × 1.5 / 2.
    older = member(10_000, {DINING: Habit(5, 5_000, TODAY - timedelta(days=30))}, {})
    assert affinity_ppm(offer(categories=frozenset({DINING})), older) == FLOOR + 375_000
    # Two categories of the offer add their spend; the latest purchase counts.
    both = member(
        10_000, {DINING: Habit(1, 2_000, TODAY - timedelta(days=60)), GROCERY: Habit(1, 3_000, TODAY)}, {}
    )
    assert affinity_ppm(offer(categories=frozenset({DINING, GROCERY})), both) == FLOOR + PPM // 2


def test_an_offer_at_named_merchants_counts_the_spend_there_and_a_quarter_of_the_category() -> None:
    taste_ = member(10_000, {DINING: Habit(4, 4_000, TODAY)}, {7: Habit(3, 2_000, TODAY)})
    at_seven = offer(categories=frozenset({DINING}), merchant_ids=frozenset({7}))
    at_eight = offer(categories=frozenset({DINING}), merchant_ids=frozenset({8}))
    anywhere_dining = offer(categories=frozenset({DINING}))
    assert affinity_ppm(at_seven, taste_) == FLOOR + 400_000 // 4 + 200_000
    assert affinity_ppm(at_eight, taste_) == FLOOR + 400_000 // 4
    assert affinity_ppm(anywhere_dining, taste_) == FLOOR + 400_000


# Urgency


def test_urgency_grows_as_the_end_nears() -> None:
    assert urgency_ppm(offer(ends_at=NOW), NOW) == PPM + PPM // 2
    assert urgency_ppm(offer(ends_at=NOW + timedelta(days=7)), NOW) == PPM + PPM // 4
    assert urgency_ppm(offer(ends_at=NOW + timedelta(days=21)), NOW) == PPM + PPM // 8
    assert urgency_ppm(offer(ends_at=NOW - timedelta(days=1)), NOW) == PPM + PPM // 2


def test_urgency_grows_as_the_budget_runs_out() -> None:
    far = NOW + timedelta(days=693)  # 7 / (7 + 693): the end adds 1/200 of a half
    base = urgency_ppm(offer(ends_at=far), NOW)
    assert base == PPM + 5_000
    assert urgency_ppm(offer(ends_at=far, budget_left_ppm=PPM), NOW) == base
    assert urgency_ppm(offer(ends_at=far, budget_left_ppm=PPM // 2), NOW) == base + PPM // 4
    assert urgency_ppm(offer(ends_at=far, budget_left_ppm=0), NOW) == base + PPM // 2


def test_budget_left_is_the_smaller_share_of_the_budgets_set() -> None:
    assert budget_left_ppm([(None, 50), (None, 0)]) is None
    assert budget_left_ppm([(1_000, 250), (None, 7)]) == 750_000
    assert budget_left_ppm([(1_000, 250), (400, 300)]) == 250_000
    assert budget_left_ppm([(100, 130)]) == 0


# Order


def test_score_is_value_times_affinity_times_urgency_best_first_ties_by_id() -> None:
    diner = member(10_000, {DINING: Habit(8, 8_000, TODAY)}, {})
    candidates = [
        offer(3, categories=frozenset({TRAVEL}), money_minor=1_000),  # worth most, not its taste
        offer(2, categories=frozenset({DINING}), money_minor=500),
        offer(1, categories=frozenset({DINING}), money_minor=500),  # tie with 2: lower id first
        offer(4, categories=frozenset({DINING}), money_minor=500, ends_at=NOW + timedelta(days=1)),
    ]
    ranked = recommend(candidates, diner, now=NOW, point_values={}, merchant_names={})

    assert [r.offer_id for r in ranked] == [4, 1, 2, 3]
    first = ranked[0]
    assert first.score == first.value_micro * first.affinity_ppm * first.urgency_ppm
    assert (first.value_micro, first.affinity_ppm, first.urgency_ppm) == (500 * PPM, 820_000, 1_437_500)
    # Travel: 1,000 at the floor against 500 at 0.82 affinity.
    assert ranked[3].affinity_ppm == FLOOR


def test_a_new_member_sees_offers_by_value_then_urgency() -> None:
    candidates = [
        offer(1, categories=frozenset({DINING}), money_minor=200),
        offer(2, categories=frozenset({TRAVEL}), money_minor=900),
        offer(3, categories=frozenset({GROCERY}), money_minor=200, ends_at=NOW + timedelta(days=2)),
    ]
    ranked = recommend(candidates, NOBODY, now=NOW, point_values={}, merchant_names={})
    assert [r.offer_id for r in ranked] == [2, 3, 1]


def test_the_score_is_shown_in_minor_units_rounded_down() -> None:
    shown = Recommendation(1, 1234_567 * PPM * PPM * PPM // 1000, 0, 0, 0, ())
    assert shown.score_text == "1234.56"
    assert Recommendation(1, 5 * PPM**3 // 100, 0, 0, 0, ()).score_text == "0.05"


# Reasons


def test_reasons_name_the_merchant_the_category_the_value_the_end_and_the_budget() -> None:
    taste_ = member(10_000, {DINING: Habit(6, 4_200, TODAY)}, {7: Habit(5, 3_000, TODAY)})
    candidate = offer(
        categories=frozenset({DINING}),
        merchant_ids=frozenset({7}),
        basket_minor=8_000,
        money_minor=800,
        points=200,
        ends_at=NOW + timedelta(days=2, hours=3),
        budget_left_ppm=120_000,
    )
    value = value_micro(candidate, PPM)

    got = reasons(candidate, taste_, value, NOW, {7: "Noodle Bar"})

    assert got == [
        Reason(
            ReasonCode.OFTEN_AT_MERCHANT,
            "You often shop at Noodle Bar (5 purchases this year)",
            merchant_id=7,
            merchant_name="Noodle Bar",
            purchases=5,
        ),
        Reason(
            ReasonCode.CATEGORY_SHARE,
            "42% of your spending this year is on dining",
            category=DINING,
            share_basis_points=4_200,
        ),
        Reason(
            ReasonCode.HIGH_VALUE,
            "Worth about 10.00 CNY on your usual 80.00 CNY purchase",
            amount=Money(1_000, "CNY"),
        ),
        Reason(ReasonCode.ENDS_SOON, "Ends in 3 days", days=3),
        Reason(ReasonCode.BUDGET_LOW, "Only 12% of its budget is left", share_basis_points=1_200),
    ]


def test_no_reason_below_the_thresholds() -> None:
    taste_ = member(10_000, {DINING: Habit(1, 1_400, TODAY)}, {7: Habit(1, 1_400, TODAY)})
    candidate = offer(
        categories=frozenset({DINING}),
        merchant_ids=frozenset({7}),
        basket_minor=10_000,
        money_minor=999,
        ends_at=NOW + timedelta(days=7, seconds=1),
        budget_left_ppm=250_001,
    )
    assert reasons(candidate, taste_, value_micro(candidate, PPM), NOW, {}) == []


def test_an_offer_ending_within_a_day_ends_today() -> None:
    candidate = offer(ends_at=NOW + timedelta(hours=5))
    assert reasons(candidate, NOBODY, PPM, NOW, {}) == [Reason(ReasonCode.ENDS_SOON, "Ends today", days=1)]


# The profile


def test_taste_sums_the_years_rows_and_keeps_the_last_purchase_day() -> None:
    rows = [
        day(3, 7, DINING, 2_000),
        day(40, 7, DINING, 1_000, n=2),
        day(10, 8, GROCERY, 500),
        day(1, 8, GROCERY, -500, n=0),  # a refund's row: spend off, no purchase
        day(400, 9, TRAVEL, 90_000),  # older than a year: left out
        DayActivity(TODAY, 9, TRAVEL, Channel.ONLINE, "HKD", 1, 7_000),  # another currency: counted, no spend
    ]
    got = taste(rows, currency="CNY", today=TODAY)

    assert got.spend_minor == 3_000
    assert got.categories[DINING] == Habit(3, 3_000, TODAY - timedelta(days=3))
    assert got.categories[GROCERY] == Habit(1, 0, TODAY - timedelta(days=10))
    assert got.merchants[9] == Habit(1, 0, TODAY)
    assert date(2026, 1, 1) <= got.today


def test_the_ranking_scores_each_factor_as_the_factor_functions_do_and_explains_only_the_first() -> None:
    diner = member(10_000, {DINING: Habit(8, 6_000, TODAY - timedelta(days=9))}, {3: Habit(2, 900, TODAY)})
    candidates = [
        offer(
            i,
            categories=frozenset({DINING}) if i % 2 else frozenset(),
            merchant_ids=frozenset({3}) if i % 3 == 0 else frozenset(),
            money_minor=100 * i,
            points=7 * i,
            ends_at=NOW + timedelta(hours=13 * i),
            budget_left_ppm=None if i % 4 == 0 else 60_000 * i - 200_000,
        )
        for i in range(1, 13)
    ]
    values = {"CNY": Decimal("0.02")}
    ranked = recommend(candidates, diner, now=NOW, point_values=values, merchant_names={}, first=3)

    expected = sorted(
        (
            -(value_micro(c, 2 * PPM) * affinity_ppm(c, diner) * urgency_ppm(c, NOW)),
            c.offer_id,
            value_micro(c, 2 * PPM),
            affinity_ppm(c, diner),
            urgency_ppm(c, NOW),
        )
        for c in candidates
    )[:3]
    got = [(-r.score, r.offer_id, r.value_micro, r.affinity_ppm, r.urgency_ppm) for r in ranked]
    assert got == expected
    assert len(recommend(candidates, diner, now=NOW, point_values=values, merchant_names={})) == 12


# Edges, each at its boundary


def test_taste_keeps_the_first_day_of_the_year_and_adds_up_each_merchants_rows() -> None:
    rows = [
        day(364, 5, DINING, 700),  # the window's first day: 365 days counting today
        day(365, 5, DINING, 900),  # the day before it: left out
        day(1, 8, GROCERY, -500, n=0),  # a refund's row read first: no purchase day of its own
        day(10, 8, GROCERY, 800),
        day(3, 7, DINING, 2_000),
        day(40, 7, DINING, 1_000, n=2),
    ]
    got = taste(rows, currency="CNY", today=TODAY)

    assert got.merchants == {
        5: Habit(1, 700, TODAY - timedelta(days=364)),
        8: Habit(1, 300, TODAY - timedelta(days=10)),
        7: Habit(3, 3_000, TODAY - timedelta(days=3)),
    }
    assert got.spend_minor == 4_000


def test_a_year_of_refunds_only_is_no_spend_not_a_negative_one() -> None:
    got = taste([day(2, 8, GROCERY, -500, n=0)], currency="CNY", today=TODAY)
    assert (got.spend_minor, got.categories[GROCERY]) == (0, Habit(0, -500, None))


def test_a_point_in_a_currency_without_known_minor_units_is_valued_as_with_two() -> None:
    assert point_value_micro({"XTS": Decimal("0.01")}, "XTS") == PPM
    assert point_value_micro({"XTS": Decimal("0.03")}, "XTS") == 3 * PPM


def test_budget_left_ignores_an_empty_budget_and_rounds_down() -> None:
    assert budget_left_ppm([(0, 0)]) is None
    assert budget_left_ppm([(1, 0)]) == PPM
    assert budget_left_ppm([(3, 1)]) == 666_666


def test_shares_and_recency_round_down_at_each_step() -> None:
    # A third of the spend (333,333 ppm), last bought 30 days ago (recency 500,000): 249,999.75.
    third_a_month_ago = member(9_000, {DINING: Habit(1, 3_000, TODAY - timedelta(days=30))}, {})
    assert affinity_ppm(offer(categories=frozenset({DINING})), third_a_month_ago) == FLOOR + 249_999
    # 60 days ago: recency 333,333, the term 222,221.8.
    two_months_ago = member(9_000, {DINING: Habit(1, 3_000, TODAY - timedelta(days=60))}, {})
    assert affinity_ppm(offer(categories=frozenset({DINING})), two_months_ago) == FLOOR + 222_221
    # Only at a merchant the member never bought at: a quarter of 249,999, rounded down.
    at_seven = offer(categories=frozenset({DINING}), merchant_ids=frozenset({7}))
    assert affinity_ppm(at_seven, third_a_month_ago) == FLOOR + 62_499


def test_affinity_without_spend_to_share_or_a_day_to_date_it() -> None:
    dining = offer(categories=frozenset({DINING}))
    # Bought there only in another currency: no share of the spend.
    assert affinity_ppm(dining, member(10_000, {DINING: Habit(1, 0, TODAY)}, {})) == FLOOR
    # No spend at all in the year, yet a category on record.
    assert affinity_ppm(dining, member(0, {DINING: Habit(1, 0, TODAY)}, {})) == FLOOR
    # Spend without a purchase day (refund rows only): the share at half weight.
    assert affinity_ppm(dining, member(10_000, {DINING: Habit(0, 5_000, None)}, {})) == FLOOR + 250_000
    # The smallest spend there is: all of it, today.
    assert affinity_ppm(dining, member(1, {DINING: Habit(1, 1, TODAY)}, {})) == FLOOR + PPM


def test_the_ranking_computes_urgency_as_urgency_ppm_at_the_edges() -> None:
    far = NOW + timedelta(days=693)  # the end adds 5,000
    cases = [
        (offer(1, ends_at=NOW - timedelta(hours=1)), PPM + PPM // 2),  # ended: as ending now
        (offer(2, ends_at=NOW + timedelta(seconds=1)), PPM + 500_000 * 604_800 // 604_801),
        (offer(3, ends_at=far, budget_left_ppm=-PPM // 2), PPM + 5_000 + PPM // 2),  # overspent: all spent
        (offer(4, ends_at=far, budget_left_ppm=PPM + 1), PPM + 5_000),  # more than all left: none spent
    ]
    for candidate, urgency in cases:
        [ranked] = recommend([candidate], NOBODY, now=NOW, point_values={}, merchant_names={})
        assert (ranked.urgency_ppm, urgency_ppm(candidate, NOW)) == (urgency, urgency)


def test_the_ranking_gives_each_offer_its_reasons() -> None:
    candidate = offer(ends_at=NOW + timedelta(days=2), budget_left_ppm=0)
    [ranked] = recommend([candidate], NOBODY, now=NOW, point_values={}, merchant_names={})
    assert ranked.reasons == tuple(reasons(candidate, NOBODY, ranked.value_micro, NOW, {}))
    assert [r.code for r in ranked.reasons] == [ReasonCode.ENDS_SOON, ReasonCode.BUDGET_LOW]


def often_reason(merchants: dict[int, Habit], names: dict[int, str]) -> Reason | None:
    candidate = offer(merchant_ids=frozenset(merchants), basket_minor=None)
    found = reasons(candidate, member(10_000, {}, merchants), PPM, NOW, names)
    return found[0] if found else None


def test_the_merchant_named_is_the_one_bought_at_most_then_the_lowest_id_from_two_purchases() -> None:
    most = often_reason({5: Habit(3, 100, TODAY), 9: Habit(4, 100, TODAY)}, {5: "Five", 9: "Nine"})
    tied = often_reason({9: Habit(4, 100, TODAY), 5: Habit(4, 100, TODAY)}, {5: "Five", 9: "Nine"})
    two = often_reason({5: Habit(2, 100, TODAY)}, {})
    once = often_reason({5: Habit(1, 100, TODAY)}, {5: "Five"})

    assert most is not None
    assert (most.merchant_id, most.purchases) == (9, 4)
    assert tied is not None
    assert tied.merchant_id == 5
    assert two == Reason(
        ReasonCode.OFTEN_AT_MERCHANT,
        "You often shop at this merchant (2 purchases this year)",
        merchant_id=5,
        merchant_name="this merchant",
        purchases=2,
    )
    assert once is None


def category_reason(spend: int, categories: dict[MerchantCategory, Habit]) -> Reason | None:
    candidate = offer(categories=frozenset(categories), basket_minor=None)
    found = reasons(candidate, member(spend, categories, {}), PPM, NOW, {})
    return found[0] if found else None


def test_the_category_named_is_the_largest_share_then_the_first_by_name_from_15_percent() -> None:
    largest = category_reason(10_000, {DINING: Habit(1, 2_000, TODAY), TRAVEL: Habit(1, 5_000, TODAY)})
    tied = category_reason(10_000, {TRAVEL: Habit(1, 3_000, TODAY), GROCERY: Habit(1, 3_000, TODAY)})
    at_threshold = category_reason(10_000, {DINING: Habit(1, 1_500, TODAY)})
    below = category_reason(10_000, {DINING: Habit(1, 1_499, TODAY)})

    assert largest is not None
    assert (largest.category, largest.share_basis_points) == (TRAVEL, 5_000)
    assert tied is not None
    assert tied.category == GROCERY
    assert at_threshold is not None
    assert at_threshold.message == "15% of your spending this year is on dining"
    assert below is None


def test_the_category_share_of_little_or_no_spend() -> None:
    online = MerchantCategory.ONLINE_SHOPPING
    assert category_reason(1, {online: Habit(1, 1, TODAY)}) == Reason(
        ReasonCode.CATEGORY_SHARE,
        "100% of your spending this year is on online shopping",
        category=online,
        share_basis_points=10_000,
    )
    assert category_reason(0, {DINING: Habit(1, 0, TODAY)}) is None
    # Refunded there: no share, even of a tiny year's spend.
    assert category_reason(5, {DINING: Habit(1, -300, TODAY)}) is None


def test_value_reason_from_a_tenth_of_the_basket_in_whole_minor_units() -> None:
    candidate = offer(basket_minor=10_000, money_minor=1_000, points=0)
    worth = 1_000 * PPM + PPM // 2  # half a fen more, from points
    [high] = reasons(candidate, NOBODY, worth, NOW, {})
    assert high == Reason(
        ReasonCode.HIGH_VALUE,
        "Worth about 10.00 CNY on your usual 100.00 CNY purchase",
        amount=Money(1_000, "CNY"),
    )
    [exactly_a_tenth] = reasons(candidate, NOBODY, 1_000 * PPM, NOW, {})
    assert exactly_a_tenth == high
    assert reasons(candidate, NOBODY, 1_000 * PPM - 1, NOW, {}) == []


def test_ends_soon_from_seven_days_left_and_today_for_at_most_one() -> None:
    def ends(left: timedelta) -> list[Reason]:
        return reasons(offer(ends_at=NOW + left, basket_minor=None), NOBODY, PPM, NOW, {})

    assert ends(timedelta(days=7)) == [Reason(ReasonCode.ENDS_SOON, "Ends in 7 days", days=7)]
    assert ends(timedelta(days=2)) == [Reason(ReasonCode.ENDS_SOON, "Ends in 2 days", days=2)]
    assert ends(timedelta(days=1)) == [Reason(ReasonCode.ENDS_SOON, "Ends today", days=1)]
    assert ends(timedelta(0)) == [Reason(ReasonCode.ENDS_SOON, "Ends today", days=0)]
    assert ends(-timedelta(hours=3)) == [Reason(ReasonCode.ENDS_SOON, "Ends today", days=0)]


def test_budget_low_from_a_quarter_left_and_none_below_nothing() -> None:
    def low(left: int) -> list[Reason]:
        return reasons(offer(budget_left_ppm=left, basket_minor=None), NOBODY, PPM, NOW, {})

    assert low(250_000) == [
        Reason(ReasonCode.BUDGET_LOW, "Only 25% of its budget is left", share_basis_points=2_500)
    ]
    assert low(-5) == [Reason(ReasonCode.BUDGET_LOW, "Only 0% of its budget is left", share_basis_points=0)]
