"""postPurchase over HTTP: base earn, rounding, validation that changes nothing."""

from __future__ import annotations

import pytest

from tests.builders import Scenario


async def test_purchase_earns_base_points_rounded_down(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    result = await given.purchase(merchant, member, amount_minor=12_399, key="order-1")

    assert result["errors"] == []
    assert result["purchase"]["pointsEarned"] == 123  # CNY 123.99 at 1 point per CNY, rounded down
    balance = await given.balance(member)
    assert balance == {
        "available": 123,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 123,
        "lifetimeRedeemed": 0,
    }


async def test_usd_and_merchant_override_rates(given: Scenario) -> None:
    plain = await given.merchant("Airport Shop", "TRAVEL")
    boosted = await given.merchant("Boosted Cafe", "DINING", earnRateOverride="2.5")
    member = await given.member()

    usd = await given.purchase(plain, member, amount_minor=1_050, key="usd", currency="USD")
    override = await given.purchase(boosted, member, amount_minor=1_001, key="boost")

    assert usd["purchase"]["pointsEarned"] == 73  # USD 10.50 x 7 = 73.5 -> 73
    assert override["purchase"]["pointsEarned"] == 25  # CNY 10.01 x 2.5 = 25.025 -> 25
    assert (await given.balance(member))["available"] == 98


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (0, "CNY", ["amount", "amountMinor"]),
        (-500, "CNY", ["amount", "amountMinor"]),
        (1_000, "XYZ", ["amount", "currency"]),
        (1_000, "EUR", ["amount", "currency"]),  # a real currency this programme does not accept
    ],
)
async def test_bad_amounts_are_refused_and_change_nothing(
    given: Scenario, amount: int, currency: str, field: list[str]
) -> None:
    merchant = await given.merchant()
    member = await given.member()

    result = await given.purchase(merchant, member, amount_minor=amount, key="bad", currency=currency)

    assert result["purchase"] is None
    assert result["errors"][0]["code"] == "VALIDATION"
    assert result["errors"][0]["field"] == field
    assert (await given.balance(member))["available"] == 0
    # Validation failures are not stored: the same key works once the input is corrected.
    retry = await given.purchase(merchant, member, amount_minor=1_000, key="bad")
    assert retry["errors"] == []
    assert retry["purchase"]["pointsEarned"] == 10


async def test_amount_above_int32_is_refused_by_graphql_and_changes_nothing(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    body = await given.gql.post(
        """mutation($input: PostPurchaseInput!) { postPurchase(input: $input) { errors { code } } }""",
        {
            "input": {
                "memberRef": await given.member_ref(merchant, member),
                "amount": {"amountMinor": 2**31, "currency": "CNY"},
                "idempotencyKey": "x",
            }
        },
        given.tokens.merchant(merchant.raw),
    )
    assert body["data"] is None
    assert "Int cannot represent" in body["errors"][0]["message"]
    assert (await given.balance(member))["available"] == 0


async def test_locked_member_cannot_earn_and_the_rejection_is_replayed(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.member_ref(merchant, member)  # linked before it was locked
    lock = await given.gql.data(
        "mutation($input: LockMemberInput!) { lockMember(input: $input) { member { status } } }",
        {"input": {"memberId": member.gid, "reason": "suspected fraud"}},
        given.admin,
    )
    assert lock["lockMember"]["member"]["status"] == "LOCKED"

    refused = await given.purchase(merchant, member, amount_minor=5_000, key="while-locked")
    assert refused["errors"][0]["code"] == "MEMBER_LOCKED"

    await given.gql.data(
        """mutation($input: UnlockMemberInput!) { unlockMember(input: $input) { errors { code } } }""",
        {"input": {"memberId": member.gid, "reason": "cleared"}},
        given.admin,
    )
    replay = await given.purchase(merchant, member, amount_minor=5_000, key="while-locked")
    assert replay["errors"][0]["code"] == "MEMBER_LOCKED"  # business rejections replay unchanged
    assert (await given.balance(member))["available"] == 0
    fresh = await given.purchase(merchant, member, amount_minor=5_000, key="after-unlock")
    assert fresh["purchase"]["pointsEarned"] == 50


async def test_unknown_member_and_malformed_ids_from_the_card_processor(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    from tests.builders import global_id

    missing = await given.card_purchase(merchant, global_id("Member", 999_999), amount_minor=100, key="k1")
    wrong_type = await given.card_purchase(
        merchant, global_id("Reward", member.raw), amount_minor=100, key="k2"
    )

    assert missing["errors"][0]["code"] == "NOT_FOUND"
    assert wrong_type["errors"][0] == {
        "code": "VALIDATION",
        "field": ["memberId"],
        "message": "expected a Member id",
    }


async def test_text_with_nul_byte_is_refused_on_both_databases(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    result = await given.purchase(merchant, member, amount_minor=100, key="nul", reference="order\x00-1")

    assert result["errors"][0]["code"] == "VALIDATION"
    assert result["errors"][0]["field"] == ["reference"]
    assert (await given.balance(member))["available"] == 0


async def test_purchase_in_the_future_or_without_zone_is_refused(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    future = await given.purchase(merchant, member, 100, key="f", occurredAt="2999-01-01T00:00:00+00:00")
    naive = await given.purchase(merchant, member, 100, key="n", occurredAt="2024-01-01T00:00:00")

    assert future["errors"][0]["field"] == ["occurredAt"]
    assert naive["errors"][0]["field"] == ["occurredAt"]


async def test_an_unknown_coupon_code_is_refused_and_nothing_is_posted(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    result = await given.purchase(merchant, member, 1_000, key="c", couponCode="SPRING10")

    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", ["couponCode"])]
    assert (await given.balance(member))["available"] == 0
