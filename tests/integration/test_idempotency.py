"""Idempotency keys are scoped to the caller and bound to the request."""

from __future__ import annotations

from tests.builders import Scenario


async def test_retry_returns_first_result_and_moves_nothing(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    first = await given.purchase(merchant, member, 10_000, key="order-9")
    retry = await given.purchase(merchant, member, 10_000, key="order-9")

    assert retry == first
    assert (await given.balance(member))["available"] == 100


async def test_same_key_different_input_is_refused(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 10_000, key="order-9")

    other = await given.purchase(merchant, member, 20_000, key="order-9")

    assert other["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await given.balance(member))["available"] == 100


async def test_two_merchants_may_use_the_same_key(given: Scenario) -> None:
    first_shop = await given.merchant("First")
    second_shop = await given.merchant("Second")
    member = await given.member()

    a = await given.purchase(first_shop, member, 10_000, key="1")
    b = await given.purchase(second_shop, member, 30_000, key="1")

    assert a["purchase"]["id"] != b["purchase"]["id"]
    assert (await given.balance(member))["available"] == 400


async def test_insufficient_points_rejection_is_replayed_even_after_funding(given: Scenario) -> None:
    member = await given.funded_member(50)
    reward = await given.reward(cost_points=100)

    first = await given.redeem(member, reward, key="r")
    await given.adjust(member, 100, key="top-up")
    retry = await given.redeem(member, reward, key="r")

    assert first["errors"][0]["code"] == retry["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert (await given.balance(member))["available"] == 150
