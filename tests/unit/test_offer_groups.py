"""Exclusive groups (domain/offers/evaluation.py): the offer worth most to the member wins, money
counted as points at the base rate, whatever the order the offers come in; equal worth goes to the
higher priority, then the older offer."""

from __future__ import annotations

from decimal import Decimal

from domain.offers import Mechanic, SkipReason, evaluate
from tests.unit.test_offers import cny, facts, offer


def test_the_best_offer_wins_its_group_even_when_it_comes_first() -> None:
    result = evaluate(
        facts(), [offer(1, points=80, exclusive_group="g"), offer(2, points=50, exclusive_group="g")], {}
    )

    assert [(a.offer_id, a.points) for a in result.awards] == [(1, 80)]
    assert [(s.offer_id, s.reason) for s in result.skipped] == [(2, SkipReason.EXCLUSIVE_WITH_BETTER)]


def test_money_cashback_is_worth_its_points_at_the_base_rate() -> None:
    # 3% of 100.00 CNY = 3.00 CNY, worth 3 points: more than a 2-point bonus, less than a 4-point one.
    cashback = offer(1, Mechanic.CASHBACK_MONEY, percent=Decimal(3), exclusive_group="g")

    beats = evaluate(facts(10_000), [cashback, offer(2, points=2, exclusive_group="g")], {})
    loses = evaluate(facts(10_000), [cashback, offer(3, points=4, exclusive_group="g")], {})

    assert [a.offer_id for a in beats.awards] == [1]
    assert [a.offer_id for a in loses.awards] == [3]


def test_a_discount_is_worth_its_points_at_the_base_rate() -> None:
    # 50.00 CNY off is worth 50 points.
    discount = offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(5_000), exclusive_group="g")

    beats = evaluate(facts(10_000), [discount, offer(2, points=49, exclusive_group="g")], {})
    loses = evaluate(facts(10_000), [discount, offer(3, points=51, exclusive_group="g")], {})

    assert [a.offer_id for a in beats.awards] == [1]
    assert [a.offer_id for a in loses.awards] == [3]


def test_equal_worth_and_priority_goes_to_the_older_offer_in_either_order() -> None:
    older_first = evaluate(facts(), [offer(1, exclusive_group="g"), offer(2, exclusive_group="g")], {})
    older_last = evaluate(facts(), [offer(2, exclusive_group="g"), offer(1, exclusive_group="g")], {})

    assert [a.offer_id for a in older_first.awards] == [1]
    assert [a.offer_id for a in older_last.awards] == [1]


def test_an_evaluation_keeps_the_amount_before_and_after_discounts() -> None:
    result = evaluate(facts(10_000), [offer(1, Mechanic.INSTANT_DISCOUNT, amount=cny(1_500))], {})

    assert (result.amount, result.paid, result.base_points) == (cny(10_000), cny(8_500), 85)
