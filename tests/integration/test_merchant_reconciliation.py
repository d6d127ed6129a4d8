"""A merchant's purchases and refunds to reconcile against (`purchases`, `refunds`): its own only
(ADMIN names the merchant), filtered by time, reference and status, with totals over the whole filter,
not the page; on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import Ids, Scenario
from tests.integration.test_refunds import bought, refund

PURCHASES = """query($merchantId: ID, $first: Int = 10, $after: String, $filter: MerchantPurchaseFilter) {
  purchases(merchantId: $merchantId, first: $first, after: $after, filter: $filter) {
    edges { node { reference status amount { amountMinor currency } pointsEarned } }
    pageInfo { hasNextPage endCursor }
    totals {
      count amount { amountMinor currency } refunded { amountMinor currency } pointsEarned pointsRefunded
    }
  }
}"""
REFUNDS = """query($merchantId: ID, $first: Int = 10, $after: String, $filter: MerchantRefundFilter) {
  refunds(merchantId: $merchantId, first: $first, after: $after, filter: $filter) {
    edges { node { reference amount { amountMinor } pointsReversed purchase { reference } } }
    pageInfo { hasNextPage endCursor }
    totals { count amount { amountMinor currency } pointsReversed pointsReturned }
  }
}"""

DAY = "2026-11-{:02d}T10:00:00+00:00"


def refs(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["reference"] for edge in page["edges"]]


async def shop(given: Scenario) -> tuple[Ids, Ids]:
    """A merchant with four purchases (one refunded in full, one in part) and a rival's purchase."""
    merchant = await given.merchant("Noodle Bar")
    rival = await given.merchant("Rival Noodles")
    alice, bob = await given.member(), await given.member()
    o1 = await bought(given, merchant, alice, 10_000, key="o1", occurredAt=DAY.format(1), reference="o1")
    await bought(given, merchant, bob, 2_550, key="o2", occurredAt=DAY.format(2), reference="o2")
    o3 = await bought(given, merchant, alice, 4_000, key="o3", occurredAt=DAY.format(3), reference="o3")
    await bought(
        given, merchant, bob, 1_000, key="o4", occurredAt=DAY.format(4), reference="o4", currency="USD"
    )
    await bought(given, rival, alice, 99_900, key="x1", occurredAt=DAY.format(2), reference="x1")
    for purchase, key, amount in [(o1, "r1", 2_500), (o3, "r3", 4_000)]:
        made = await refund(given, merchant, purchase, key=key, amount=amount, reference=key)
        assert made["errors"] == [], made
    return merchant, rival


async def test_a_merchant_lists_its_own_purchases_newest_first_with_totals_over_the_filter(
    given: Scenario,
) -> None:
    merchant, _ = await shop(given)
    token = given.tokens.merchant(merchant.raw)

    first = (await given.gql.data(PURCHASES, {"first": 2}, token))["purchases"]
    second = (await given.gql.data(PURCHASES, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token))[
        "purchases"
    ]

    assert refs(first) == ["o4", "o3"]
    assert refs(second) == ["o2", "o1"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["status"] for e in first["edges"] + second["edges"]] == [
        "SETTLED",
        "REFUNDED",
        "SETTLED",
        "PARTIALLY_REFUNDED",
    ]
    # The whole filter, not the page; the rival's purchase nowhere. Points: 100 + 25 + 40 at 1 per CNY,
    # and USD 10.00 at 7 per USD; refunds took back 25 (a quarter of 100) and all 40.
    expected = {
        "count": 4,
        "amount": [{"amountMinor": 16_550, "currency": "CNY"}, {"amountMinor": 1_000, "currency": "USD"}],
        "refunded": [{"amountMinor": 6_500, "currency": "CNY"}, {"amountMinor": 0, "currency": "USD"}],
        "pointsEarned": 235,
        "pointsRefunded": 65,
    }
    assert first["totals"] == second["totals"] == expected


async def test_filters_by_time_reference_and_status(given: Scenario) -> None:
    merchant, _ = await shop(given)
    token = given.tokens.merchant(merchant.raw)

    async def listed(**filter_: Any) -> dict[str, Any]:
        return (await given.gql.data(PURCHASES, {"filter": filter_}, token))["purchases"]  # type: ignore[no-any-return]

    window = await listed(**{"from": DAY.format(2), "to": DAY.format(4)})
    by_ref = await listed(reference="o2")
    rivals_ref = await listed(reference="x1")
    refunded = await listed(status="REFUNDED")
    partly = await listed(status="PARTIALLY_REFUNDED")
    settled_in_window = await listed(status="SETTLED", **{"from": DAY.format(2), "to": DAY.format(4)})

    assert refs(window) == ["o3", "o2"]
    assert window["totals"]["count"] == 2
    assert window["totals"]["amount"] == [{"amountMinor": 6_550, "currency": "CNY"}]
    assert window["totals"]["pointsEarned"] == 65
    assert refs(by_ref) == ["o2"]
    assert by_ref["totals"]["pointsEarned"] == 25
    assert refs(rivals_ref) == []
    assert rivals_ref["totals"] == {
        "count": 0,
        "amount": [],
        "refunded": [],
        "pointsEarned": 0,
        "pointsRefunded": 0,
    }
    assert refs(refunded) == ["o3"]
    assert refs(partly) == ["o1"]
    assert refs(settled_in_window) == ["o2"]


async def test_refunds_list_with_totals_filtered_by_time_and_reference(given: Scenario) -> None:
    merchant, rival = await shop(given)
    token = given.tokens.merchant(merchant.raw)

    every = (await given.gql.data(REFUNDS, None, token))["refunds"]
    by_ref = (await given.gql.data(REFUNDS, {"filter": {"reference": "r1"}}, token))["refunds"]
    later = (await given.gql.data(REFUNDS, {"filter": {"from": "2999-01-01T00:00:00+00:00"}}, token))[
        "refunds"
    ]
    rivals = (await given.gql.data(REFUNDS, None, given.tokens.merchant(rival.raw)))["refunds"]

    assert refs(every) == ["r3", "r1"]  # newest first: made in that order
    assert [e["node"]["purchase"]["reference"] for e in every["edges"]] == ["o3", "o1"]
    assert every["totals"] == {
        "count": 2,
        "amount": [{"amountMinor": 6_500, "currency": "CNY"}],
        "pointsReversed": 65,
        "pointsReturned": 0,
    }
    assert refs(by_ref) == ["r1"]
    assert by_ref["totals"]["pointsReversed"] == 25
    assert later["edges"] == []
    assert later["totals"]["count"] == 0
    assert rivals["edges"] == []
    assert rivals["totals"]["count"] == 0


async def test_admin_names_the_merchant_a_merchant_reads_only_its_own_others_are_refused(
    given: Scenario,
) -> None:
    merchant, rival = await shop(given)

    admin = await given.gql.data(PURCHASES, {"merchantId": rival.gid}, given.admin)
    unnamed = await given.gql.post(PURCHASES, None, given.admin)
    own_named = await given.gql.data(
        PURCHASES, {"merchantId": merchant.gid}, given.tokens.merchant(merchant.raw)
    )
    other_named = await given.gql.post(
        PURCHASES, {"merchantId": rival.gid}, given.tokens.merchant(merchant.raw)
    )
    other_refunds = await given.gql.post(
        REFUNDS, {"merchantId": rival.gid}, given.tokens.merchant(merchant.raw)
    )

    assert refs(admin["purchases"]) == ["x1"]
    assert admin["purchases"]["totals"]["amount"] == [{"amountMinor": 99_900, "currency": "CNY"}]
    assert unnamed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refs(own_named["purchases"]) == ["o4", "o3", "o2", "o1"]
    assert other_named["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert other_named["data"] is None
    assert other_refunds["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("role", ["member", "partner", "processor", "anonymous"])
@pytest.mark.parametrize("query", [PURCHASES, REFUNDS], ids=["purchases", "refunds"])
async def test_other_roles_are_refused(given: Scenario, role: str, query: str) -> None:
    merchant = await given.merchant()
    member = await given.member()
    tokens = {
        "member": given.tokens.member(member.raw),
        "partner": given.tokens.partner(1),
        "processor": given.tokens.processor(),
        "anonymous": None,
    }

    body = await given.gql.post(query, {"merchantId": merchant.gid}, tokens[role])

    expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
    assert body["errors"][0]["extensions"]["code"] == expected
    assert body["data"] is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"after": "bm90LWEtY3Vyc29y"}, "malformed cursor"),
        ({"filter": {"from": DAY.format(5), "to": DAY.format(1)}}, "`from` must be before `to`"),
        ({"filter": {"reference": "a\u0000b"}}, "without NUL"),
        ({"merchantId": "TWVtYmVyOjE="}, "not a merchant's id"),
    ],
)
async def test_bad_arguments_are_bad_input(given: Scenario, variables: dict[str, Any], message: str) -> None:
    merchant = await given.merchant()

    body = await given.gql.post(PURCHASES, variables, given.tokens.merchant(merchant.raw))

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert message in body["errors"][0]["message"]
