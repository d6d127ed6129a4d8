"""The admin's member search: `members(filter:)` by referral code, tier, display name and enrolment
date, alongside the older filters; paged, admins only, contact data masked as in every list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from persistence.tables import members
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_tiers import create_tier

SEARCH = """query($filter: MemberFilter, $first: Int, $after: String) {
  members(filter: $filter, first: $first, after: $after) {
    edges { node { externalRef contact { phone email } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def search(given: Scenario, **filter_: Any) -> list[str]:
    data = await given.gql.data(SEARCH, {"filter": filter_}, given.admin)
    return [edge["node"]["externalRef"] for edge in data["members"]["edges"]]


async def set_row(backend: Backend, member: Ids, **values: Any) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(update(members).where(members.c.id == member.raw).values(**values))


async def test_by_referral_code(given: Scenario) -> None:
    wanted = await given.member("cust-a")
    await given.member("cust-b")

    found = await search(given, referralCode=await given.referral_code(wanted))

    assert found == ["cust-a"]
    assert await search(given, referralCode="NO-SUCH-CODE") == []


async def test_by_tier(given: Scenario, backend: Backend) -> None:
    gold = await create_tier(given, code="GOLD", name="Gold", rank=2, minPoints=1_000)
    assert gold["errors"] == [], gold
    gold_member = await given.member("cust-gold")
    await given.member("cust-plain")
    await set_row(backend, gold_member, tier_id=Ids(gold["tier"]["id"]).raw)

    assert await search(given, tierId=gold["tier"]["id"]) == ["cust-gold"]


async def test_by_display_name_exact_by_keyed_hash_phone_or_email(given: Scenario) -> None:
    await given.member("cust-phone", phone="13812345678")
    await given.member("cust-email", email="Li.Wei@Example.CN")
    await given.member("cust-both", phone="13900000000", email="zhang@example.cn")

    assert await search(given, name="138-1234-5678") == ["cust-phone"]
    assert await search(given, name="li.wei@example.cn") == ["cust-email"]
    assert await search(given, name="zhang@example.cn") == ["cust-both"]
    # Exact, never a substring: the stored value is encrypted, only its keyed hash is comparable.
    assert await search(given, name="1381234") == []
    assert await search(given, name="li.wei") == []


async def test_by_enrolment_date_from_inclusive_to_exclusive(given: Scenario, backend: Backend) -> None:
    for ref, day in [("cust-1", 1), ("cust-2", 2), ("cust-3", 3)]:
        member = await given.member(ref)
        await set_row(backend, member, enrolled_at=datetime(2026, 11, day, 9, tzinfo=UTC))

    found = await search(
        given, createdFrom="2026-11-02T09:00:00+00:00", createdTo="2026-11-03T09:00:00+00:00"
    )
    since = await search(given, createdFrom="2026-11-02T00:00:00+00:00")
    until = await search(given, createdTo="2026-11-02T00:00:00+00:00")

    assert found == ["cust-2"]
    assert since == ["cust-2", "cust-3"]
    assert until == ["cust-1"]


async def test_filters_combine_page_and_mask_contact_data(given: Scenario, backend: Backend) -> None:
    for i in range(3):
        member = await given.member(f"cust-{i}", email=f"m{i}@example.cn")
        await set_row(backend, member, enrolled_at=datetime(2026, 11, 5, tzinfo=UTC))
    await given.member("cust-late", email="late@example.cn")

    first = await given.gql.data(
        SEARCH, {"filter": {"createdTo": "2026-11-06T00:00:00+00:00"}, "first": 2}, given.admin
    )
    after = first["members"]["pageInfo"]["endCursor"]
    rest = await given.gql.data(
        SEARCH,
        {"filter": {"createdTo": "2026-11-06T00:00:00+00:00"}, "first": 2, "after": after},
        given.admin,
    )
    both = await search(given, name="m1@example.cn", createdTo="2026-11-06T00:00:00+00:00")

    assert [e["node"]["externalRef"] for e in first["members"]["edges"]] == ["cust-0", "cust-1"]
    assert first["members"]["edges"][0]["node"]["contact"] == {"phone": None, "email": "m***@example.cn"}
    assert [e["node"]["externalRef"] for e in rest["members"]["edges"]] == ["cust-2"]
    assert rest["members"]["pageInfo"]["hasNextPage"] is False
    assert both == ["cust-1"]


async def test_only_admins_search(given: Scenario) -> None:
    member = await given.member()
    merchant = await given.merchant()

    for token in (given.tokens.member(member.raw), given.tokens.merchant(merchant.raw)):
        body = await given.gql.post(SEARCH, {"filter": {"name": "13812345678"}}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"tierId": "TWVtYmVyOjE="}, "not a tier's id"),
        ({"name": "a\u0000b"}, "without NUL"),
        ({"referralCode": "a\u0000b"}, "without NUL"),
        (
            {"createdFrom": "2026-11-02T00:00:00+00:00", "createdTo": "2026-11-01T00:00:00+00:00"},
            "`createdFrom` must be before `createdTo`",
        ),
    ],
)
async def test_bad_filters_are_bad_input(given: Scenario, filter_: dict[str, Any], message: str) -> None:
    body = await given.gql.post(SEARCH, {"filter": filter_}, given.admin)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert message in body["errors"][0]["message"]
