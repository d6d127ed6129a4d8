"""Offer budgets and what an award costs them, at their exact edges (domain/offers/): an award that
uses the last point or cent of a budget is made, a budget spent to the point refuses, and an offer
whose award is worth nothing is skipped, never awarded empty.

Purchases are 100.00 CNY at 1 point a yuan unless a test says otherwise."""

from __future__ import annotations

from decimal import Decimal

from domain.offers import Limits, Mechanic, SkipReason, Trigger, Usage, evaluate, open_to, sign_up_bonuses
from tests.unit.test_offers import MEMBER, NOW, cny, facts, offer


def test_a_money_cashback_that_uses_the_last_cent_of_its_budget_is_made() -> None:
    cashback = offer(1, Mechanic.CASHBACK_MONEY, percent=Decimal(3), limits=Limits(budget_money=cny(1_000)))

    last = evaluate(facts(10_000), [cashback], {1: Usage(money_minor=700)})  # 300 more fits 1,000
    over = evaluate(facts(10_000), [cashback], {1: Usage(money_minor=701)})

    assert [(a.offer_id, a.cashback_minor) for a in last.awards] == [(1, 300)]
    assert last.skipped == ()
    assert over.awards == ()
    assert [(s.offer_id, s.reason) for s in over.skipped] == [(1, SkipReason.BUDGET_EXHAUSTED)]


def test_a_refused_award_does_not_stop_the_awards_after_it() -> None:
    result = evaluate(
        facts(),
        [offer(1, points=30, limits=Limits(budget_points=100)), offer(2, points=20)],
        {1: Usage(points=80)},
    )

    assert [(a.offer_id, a.points) for a in result.awards] == [(2, 20)]
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(1, SkipReason.BUDGET_EXHAUSTED)]


def test_a_budget_spent_to_the_last_point_or_cent_closes_the_offer_to_the_wallet() -> None:
    by_points = offer(1, limits=Limits(budget_points=1_000))
    by_money = offer(2, Mechanic.INSTANT_DISCOUNT, amount=cny(500), limits=Limits(budget_money=cny(10_000)))

    assert open_to(by_points, MEMBER, NOW, Usage(points=999))
    assert not open_to(by_points, MEMBER, NOW, Usage(points=1_000))
    assert open_to(by_money, MEMBER, NOW, Usage(money_minor=9_999))
    assert not open_to(by_money, MEMBER, NOW, Usage(money_minor=10_000))


def test_a_discount_under_budgets_with_no_usage_yet_applies() -> None:
    capped = offer(
        1,
        Mechanic.INSTANT_DISCOUNT,
        amount=cny(500),
        limits=Limits(budget_points=100, budget_money=cny(500)),
    )

    result = evaluate(facts(10_000), [capped], {})

    assert [(a.offer_id, a.discount_minor) for a in result.awards] == [(1, 500)]
    assert result.paid == cny(9_500)


def test_an_offer_that_gives_nothing_on_this_purchase_is_skipped_and_the_next_still_awards() -> None:
    # A multiplier of 1 adds base x 0; the bonus after it is still given.
    result = evaluate(
        facts(),
        [offer(1, Mechanic.POINTS_MULTIPLIER, multiplier=Decimal(1)), offer(2, points=20)],
        {},
    )

    assert [(a.offer_id, a.points) for a in result.awards] == [(2, 20)]
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(1, SkipReason.NOTHING_TO_GIVE)]


def test_a_gift_of_only_money_or_only_one_point_is_something_to_give() -> None:
    result = evaluate(
        facts(10_000),
        [
            offer(1, Mechanic.CASHBACK_MONEY, percent=Decimal(1)),  # 100 minor, no points
            offer(2, points=1),
        ],
        {},
    )

    assert [(a.offer_id, a.points, a.cashback_minor) for a in result.awards] == [(1, 0, 100), (2, 1, 0)]
    assert result.skipped == ()


def test_a_sign_up_bonus_costs_only_points_and_is_given_before_any_usage_is_recorded() -> None:
    # Its points fit the points budget exactly; a money budget, even of one cent, is not touched.
    bonus = offer(
        1, points=100, trigger=Trigger.SIGN_UP, limits=Limits(budget_points=100, budget_money=cny(1))
    )

    assert [o.id for o in sign_up_bonuses([bonus], MEMBER, NOW, {})] == [1]
