"""Racing inserts of one business key: one wins, every other answers ALREADY_EXISTS (never the
database's unique violation as an unexpected error), on PostgreSQL and on SQLite."""

from __future__ import annotations

import pytest

from tests.builders import ENROLL
from tests.concurrency.conftest import OK, Arena, outcomes

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
