"""Points transfers between members, on both databases: both sides at once, the receiver's lots keep
their expiry, the monthly limit, and typed refusals that change nothing."""

from __future__ import annotations

from typing import Any

from persistence.queries.ledger_check import check_ledger
from tests.builders import Ids, Scenario
from tests.conftest import Backend

TRANSFER = """mutation($input: TransferPointsInput!) {
  transferPoints(input: $input) { points errors { code field } }
}"""


async def transfer(given: Scenario, sender: Ids, key: str, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(
        TRANSFER, {"input": {"idempotencyKey": key, **fields}}, given.tokens.member(sender.raw)
    )
    return data["transferPoints"]


async def test_points_move_between_members_and_keep_their_expiry(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    mum = await given.member("mum")
    kid = await given.member("kid")
    await given.purchase(merchant, mum, 50_000, key="p1")  # 500 points

    by_code = await transfer(given, mum, "t1", points=120, toReferralCode=await given.referral_code(kid))
    by_ref = await transfer(given, mum, "t2", points=30, toExternalRef="kid")
    retried = await transfer(given, mum, "t2", points=30, toExternalRef="kid")

    assert by_code == {"points": 120, "errors": []}
    assert by_ref == retried == {"points": 30, "errors": []}
    assert (await given.balance(mum))["available"] == 350
    assert (await given.balance(kid))["available"] == 150
    async with backend.database.read_engine.connect() as conn:
        expiries = (await conn.exec_driver_sql("SELECT count(DISTINCT expires_at) FROM points_lots")).scalar()
    assert expiries == 1  # the kid's lots expire when mum's did
    assert await check_ledger(backend.database.read_engine) == []


async def test_refusals_are_typed_and_change_nothing(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    mum = await given.member("mum")
    await given.member("kid")
    await given.purchase(merchant, mum, 2_000_000, key="p1")  # 20,000 points

    cases = [
        ({"points": 10, "toExternalRef": "nobody"}, ("NOT_FOUND", ["toExternalRef"])),
        ({"points": 10, "toExternalRef": "mum"}, ("VALIDATION", ["toExternalRef"])),
        ({"points": 0, "toExternalRef": "kid"}, ("VALIDATION", ["points"])),
        ({"points": 30_000, "toExternalRef": "kid"}, ("LIMIT_REACHED", ["points"])),
        ({"points": 10}, ("VALIDATION", ["toReferralCode"])),
    ]
    for n, (fields, expected) in enumerate(cases):
        result = await transfer(given, mum, f"bad-{n}", **fields)
        assert [(e["code"], e["field"]) for e in result["errors"]] == [expected], fields

    within = await transfer(given, mum, "ok", points=10_000, toExternalRef="kid")
    over = await transfer(given, mum, "over", points=1, toExternalRef="kid")

    assert within["errors"] == []
    assert [e["code"] for e in over["errors"]] == ["LIMIT_REACHED"]  # 10,000 a month
    assert (await given.balance(mum))["available"] == 10_000
    assert await check_ledger(backend.database.read_engine) == []


async def test_more_than_available_is_insufficient(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    mum = await given.member("mum")
    await given.member("kid")
    await given.purchase(merchant, mum, 1_000, key="p1")

    result = await transfer(given, mum, "t1", points=11, toExternalRef="kid")

    assert [e["code"] for e in result["errors"]] == ["INSUFFICIENT_POINTS"]
    assert (await given.balance(mum))["available"] == 10
