"""Racing inserts of one business key: one wins, every other answers ALREADY_EXISTS (never the
database's unique violation as an unexpected error), on PostgreSQL and on SQLite."""

from __future__ import annotations

import pytest

from tests.builders import ENROLL
from tests.concurrency.conftest import OK, Arena, outcomes
from tests.integration.test_offers_api import GENERATE, create_offer

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency]

ATTEMPTS = 8


async def enrolment_race(arena: Arena) -> None:
    admin = arena.tokens.admin()
    replies = await arena.fire([(ENROLL, {"input": {"externalRef": "cust-race"}}, admin)] * ATTEMPTS)

    assert outcomes(replies, "enrollMember") == {OK: 1, "ALREADY_EXISTS": ATTEMPTS - 1}
    refused = [r.payload("enrollMember") for r in replies if r.outcome("enrollMember") != OK]
    assert {tuple(p["errors"][0]["field"]) for p in refused if p} == {("externalRef",)}
    assert await arena.row_counts("members", "member_balances") == {"members": 1, "member_balances": 1}


async def test_8_enrolments_of_one_external_ref_on_postgres_make_one_member(pg_arena: Arena) -> None:
    await enrolment_race(pg_arena)


async def test_8_enrolments_of_one_external_ref_on_sqlite_make_one_member(sqlite_arena: Arena) -> None:
    await enrolment_race(sqlite_arena)


async def test_8_shared_coupon_codes_of_one_text_on_postgres_make_one_coupon(pg_arena: Arena) -> None:
    merchant = await pg_arena.given.merchant()
    created = await create_offer(
        pg_arena.given,
        name="¥20 off with a code",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 2_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
    )
    shared = {"input": {"offerId": created["offer"]["id"], "sharedCode": "SPRING", "maxUses": 100}}

    replies = await pg_arena.fire([(GENERATE, shared, pg_arena.tokens.admin())] * ATTEMPTS)

    assert outcomes(replies, "generateCoupons") == {OK: 1, "ALREADY_EXISTS": ATTEMPTS - 1}
    assert await pg_arena.row_counts("coupons") == {"coupons": 1}
