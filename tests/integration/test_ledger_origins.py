"""Every ledger entry's originId resolves, for the member, to the fact behind it: purchases,
transfers (both sides may read them, no one else), expirations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock
from domain.services.expiry import run_expiry
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_transfers import transfer

LEDGER = "{ me { ledger(first: 20) { edges { node { kind points description originId } } } } }"
NODE = """query($id: ID!) { node(id: $id) { __typename
  ... on Transfer { points sender { externalRef } receiver { externalRef } }
  ... on Expiration { points }
  ... on Purchase { pointsEarned } } }"""


async def ledger(given: Scenario, member: Ids) -> list[dict[str, object]]:
    data = await given.gql.data(LEDGER, token=given.tokens.member(member.raw))
    return [edge["node"] for edge in data["me"]["ledger"]["edges"]]


async def origin(given: Scenario, member: Ids, origin_id: object) -> dict[str, object] | None:
    data = await given.gql.data(NODE, {"id": origin_id}, given.tokens.member(member.raw))
    return data["node"]


async def test_every_entry_resolves_to_its_origin(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    mum = await given.member("mum")
    kid = await given.member("kid")
    stranger = await given.member("stranger")
    await given.purchase(merchant, mum, 50_000, key="p1")
    assert (await transfer(given, mum, "t1", points=100, toExternalRef="kid"))["errors"] == []
    later = FixedClock(datetime.now(UTC) + timedelta(days=3 * 366))
    await run_expiry(lambda: SqlAlchemyUnitOfWork(backend.database.write_engine), later)

    entries = await ledger(given, mum)
    resolved = [await origin(given, mum, e["originId"]) for e in entries]
    [kid_entry] = [e for e in await ledger(given, kid) if e["kind"] == "TRANSFER"]

    assert [e["kind"] for e in entries] == ["EXPIRE", "TRANSFER", "EARN"]
    assert resolved == [
        {"__typename": "Expiration", "points": 400},
        {
            "__typename": "Transfer",
            "points": 100,
            "sender": {"externalRef": "mum"},
            "receiver": None,  # a member reads no other member, even one it gave points to
        },
        {"__typename": "Purchase", "pointsEarned": 500},
    ]
    assert str(entries[1]["description"]).startswith("Transfer from member ")
    assert (await origin(given, kid, kid_entry["originId"]) or {}).get("points") == 100
    assert await origin(given, stranger, kid_entry["originId"]) is None
