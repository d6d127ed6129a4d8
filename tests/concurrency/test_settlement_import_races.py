"""PostgreSQL: workers racing over the queue of uploaded settlement files take each file once
(SKIP LOCKED), and every line is posted once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.clock import SystemClock
from domain.services.settlement_imports import run_settlement_imports
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.concurrency.conftest import Arena

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

WHEN = (datetime.now(UTC) - timedelta(days=1)).isoformat()


async def test_a_claimed_import_is_passed_over_not_waited_for(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    alice = await given.member("alice")
    ref = await given.member_ref(merchant, alice)
    token = given.tokens.merchant(merchant.raw)
    for n in range(2):
        content = f"reference,member,amount,currency,time,channel\nS-{n},{ref},1.00,CNY,{WHEN},\n"
        response = await pg_arena.http.post(
            "/settlements",
            content=content.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )
        assert response.status_code == 202, response.text
    engine = pg_arena.backend.database.write_engine
    now = datetime.now(UTC)

    # The first worker's claim is not committed yet: the second takes the other file at once.
    async with SqlAlchemyUnitOfWork(engine) as first, SqlAlchemyUnitOfWork(engine) as second:
        one = await first.settlement_imports.claim("w1", now, now + timedelta(minutes=1))
        other = await asyncio.wait_for(
            second.settlement_imports.claim("w2", now, now + timedelta(minutes=1)), 5
        )
        assert one is not None
        assert other is not None
        assert one.id != other.id


async def test_racing_workers_post_every_line_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member(f"m-{i}") for i in range(5)]
    refs = [await given.member_ref(merchant, m) for m in members]
    token = given.tokens.merchant(merchant.raw)
    for f in range(6):
        rows = [f"F{f}-{n},{refs[n % 5]},{n + 1}.00,CNY,{WHEN}," for n in range(20)]
        content = "\n".join(["reference,member,amount,currency,time,channel", *rows]) + "\n"
        response = await pg_arena.http.post(
            "/settlements",
            content=content.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )
        assert response.status_code == 202, response.text
    engine = pg_arena.backend.database.write_engine

    runs = await asyncio.gather(
        *(
            run_settlement_imports(
                lambda: SqlAlchemyUnitOfWork(engine),
                SystemClock(),
                lambda _: None,
                worker=f"w{i}",
                batch_size=7,
            )
            for i in range(3)
        )
    )

    assert sum(run.imports for run in runs) == 6  # each file taken by one worker
    assert sum(run.lines for run in runs) == 6 * 20
    async with engine.connect() as conn:
        purchases, points = (
            await conn.execute(text("SELECT count(*), sum(points_earned) FROM purchases"))
        ).one()
        statuses = (
            await conn.execute(
                text("SELECT status, sum(posted), sum(duplicates) FROM settlement_imports GROUP BY status")
            )
        ).all()
    assert purchases == 120
    assert points == 6 * sum(range(1, 21))
    assert [tuple(s) for s in statuses] == [("DONE", 120, 0)]
