"""Audited mutations racing on PostgreSQL end with one unbroken audit chain: appends queue on the
chain's head row, so no two rows ever follow the same row (the chain never forks)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from persistence.queries.audit_check import check_audit_chain
from persistence.tables import audit_chain, audit_log
from tests.builders import ADJUST, ENROLL
from tests.concurrency.conftest import OK, Arena, outcomes

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency]

ENROLMENTS = 30
ADJUSTMENTS = 30


async def test_60_concurrent_audited_mutations_on_postgres_make_one_chain(pg_arena: Arena) -> None:
    given, admin = pg_arena.given, pg_arena.tokens.admin()
    targets = [await given.member(f"target-{i}") for i in range(3)]
    requests = [(ENROLL, {"input": {"externalRef": f"racer-{i}"}}, admin) for i in range(ENROLMENTS)]
    requests += [
        (
            ADJUST,
            {
                "input": {
                    "memberId": targets[i % 3].gid,
                    "points": 10,
                    "reasonCode": "GOODWILL",
                    "idempotencyKey": f"adj-{i}",
                }
            },
            admin,
        )
        for i in range(ADJUSTMENTS)
    ]

    replies = await pg_arena.fire(requests)

    assert outcomes(replies[:ENROLMENTS], "enrollMember") == {OK: ENROLMENTS}
    assert outcomes(replies[ENROLMENTS:], "adjustPoints") == {OK: ADJUSTMENTS}
    for target in targets:
        assert (await given.balance(target))["available"] == 100
    async with pg_arena.backend.database.read_engine.connect() as conn:
        rows = (
            await conn.execute(select(audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.id))
        ).all()
        head = (await conn.execute(select(audit_chain.c.last_hash, audit_chain.c.length))).one()
        length, chain_break = await check_audit_chain(conn)
    expected = 3 + ENROLMENTS + ADJUSTMENTS
    assert (length, chain_break) == (expected, None)
    assert len(rows) == head.length == expected
    assert len({row.prev_hash for row in rows}) == expected  # no row is followed twice: no fork
    assert head.last_hash == rows[-1].hash
