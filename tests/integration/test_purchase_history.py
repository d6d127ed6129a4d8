"""A member's purchases (me.purchases, Member.purchases for admins): newest first by when the member
bought, keyset-paged on (occurredAt, id), each with its offers, points and refunds; on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_query_counts import selects_for
from tests.integration.test_refunds import bought, refund

MY_PURCHASES = """query($first: Int = 10, $after: String, $filter: MemberPurchaseFilter) {
  me {
    purchases(first: $first, after: $after, filter: $filter) {
      edges { cursor node {
        id occurredAt reference status pointsEarned pointsPending pointsRefunded basePoints
        amount { amountMinor currency } refundedAmount { amountMinor }
        appliedOffers { points mechanic }
        refunds { amount { amountMinor } pointsReversed }
        merchant { name }
      } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""
MEMBER_PURCHASES = """query($id: ID!) {
  member(id: $id) { purchases(first: 10) { edges { node { reference pointsEarned } } } }
}"""

PAGE_WITH_RELATIONS = """query { member(id: "%s") { purchases(first: 10) { edges { node {
  reference appliedOffers { points } refunds { id } merchant { name }
} } } } }"""

DAY = "2026-11-{:02d}T10:00:00+00:00"


async def history(given: Scenario, member: Ids, **variables: Any) -> dict[str, Any]:
    data = await given.gql.data(MY_PURCHASES, variables, given.tokens.member(member.raw))
    return data["me"]["purchases"]  # type: ignore[no-any-return]


def references(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["reference"] for edge in page["edges"]]


async def test_purchases_come_newest_first_by_when_bought_with_points_offers_and_refunds(
    given: Scenario,
) -> None:
    merchant = await given.merchant("Noodle Bar")
    member = await given.member()
    # Posted out of order: the list follows when the member bought, not when the merchant posted.
    await bought(given, merchant, member, 12_000, key="a", occurredAt=DAY.format(3), reference="A")
    second = await bought(given, merchant, member, 5_000, key="b", occurredAt=DAY.format(9), reference="B")
    await bought(given, merchant, member, 800, key="c", occurredAt=DAY.format(1), reference="C")
    taken = await refund(given, merchant, second, key="r", amount=2_000, reference="R1")
    assert taken["errors"] == [], taken

    page = await history(given, member)

    assert references(page) == ["B", "A", "C"]
    newest = page["edges"][0]["node"]
    assert newest["amount"] == {"amountMinor": 5_000, "currency": "CNY"}
    assert newest["pointsEarned"] == 50  # CNY 50 at 1 point per CNY
    assert newest["basePoints"] == 50
    assert newest["appliedOffers"] == []
    assert newest["pointsRefunded"] == 20  # 2,000 of 5,000: two fifths of 50
    assert newest["refundedAmount"] == {"amountMinor": 2_000}
    assert newest["refunds"] == [{"amount": {"amountMinor": 2_000}, "pointsReversed": 20}]
    assert newest["status"] == "PARTIALLY_REFUNDED"
    assert newest["merchant"] == {"name": "Noodle Bar"}
    assert [e["node"]["status"] for e in page["edges"][1:]] == ["SETTLED", "SETTLED"]
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": page["edges"][-1]["cursor"],
    }


async def test_pages_follow_each_other_without_gaps_or_repeats_even_at_one_instant(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    same = DAY.format(5)
    for ref, at in [("p1", same), ("p2", DAY.format(2)), ("p3", same), ("p4", same), ("p5", DAY.format(8))]:
        await bought(given, merchant, member, 1_000, key=ref, occurredAt=at, reference=ref)

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await history(given, member, first=2, after=after)
        seen += references(page)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # Newest first; purchases at one instant newest-posted (highest id) first.
    assert seen == ["p5", "p4", "p3", "p1", "p2"]
    assert pages == 3


async def test_filter_by_time_window_and_merchant(given: Scenario) -> None:
    noodles = await given.merchant("Noodle Bar")
    books = await given.merchant("Book Shop", category="RETAIL")
    member = await given.member()
    await bought(given, noodles, member, 1_000, key="n1", occurredAt=DAY.format(1), reference="n1")
    await bought(given, books, member, 1_000, key="b1", occurredAt=DAY.format(2), reference="b1")
    await bought(given, noodles, member, 1_000, key="n2", occurredAt=DAY.format(3), reference="n2")
    await bought(given, books, member, 1_000, key="b2", occurredAt=DAY.format(4), reference="b2")

    window = await history(given, member, filter={"from": DAY.format(2), "to": DAY.format(4)})
    at_books = await history(given, member, filter={"merchantId": books.gid})
    both = await history(given, member, filter={"merchantId": noodles.gid, "from": DAY.format(2)})

    assert references(window) == ["n2", "b1"]  # `from` inclusive, `to` exclusive
    assert references(at_books) == ["b2", "b1"]
    assert references(both) == ["n2"]


async def test_only_the_member_and_admins_read_a_members_purchases(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    other = await given.member()
    await bought(given, merchant, member, 1_000, key="k", reference="mine")
    await bought(given, merchant, other, 1_000, key="o", reference="theirs")
    await given.member_ref(merchant, member)  # linked: the merchant may read the member itself

    admin = await given.gql.data(MEMBER_PURCHASES, {"id": member.gid}, given.admin)
    merchant_view = await given.gql.data(
        MEMBER_PURCHASES, {"id": member.gid}, given.tokens.merchant(merchant.raw)
    )
    other_view = await given.gql.data(MEMBER_PURCHASES, {"id": member.gid}, given.tokens.member(other.raw))

    assert [e["node"]["reference"] for e in admin["member"]["purchases"]["edges"]] == ["mine"]
    assert merchant_view["member"]["purchases"]["edges"] == []  # the merchant's list is `purchases`
    assert other_view["member"] is None
    assert references(await history(given, other)) == ["theirs"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"after": "bm90LWEtY3Vyc29y"}, "malformed cursor"),
        ({"filter": {"from": DAY.format(5), "to": DAY.format(5)}}, "`from` must be before `to`"),
        ({"filter": {"merchantId": "TWVtYmVyOjE="}}, "not a merchant's id"),
        ({"first": -1}, "must not be negative"),
    ],
)
async def test_bad_arguments_are_refused_as_bad_input(
    given: Scenario, variables: dict[str, Any], message: str
) -> None:
    member = await given.member()

    body = await given.gql.post(MY_PURCHASES, variables, given.tokens.member(member.raw))

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert message in body["errors"][0]["message"]


async def test_a_page_of_purchases_costs_the_same_statements_however_many_it_holds(
    given: Scenario, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    first = await bought(given, merchant, member, 3_000, key="p0", reference="p0")
    await refund(given, merchant, first, key="r0", amount=1_000)
    query = PAGE_WITH_RELATIONS % member.gid
    small, _ = await selects_for(backend, given, query)
    for i in range(1, 6):
        purchase = await bought(given, merchant, member, 3_000, key=f"p{i}", reference=f"p{i}")
        await refund(given, merchant, purchase, key=f"r{i}", amount=1_000)

    large, data = await selects_for(backend, given, query)

    assert len(data["member"]["purchases"]["edges"]) == 6
    # member (with balance), the page, awards, refunds, merchants: one statement each
    assert small == large == 5
