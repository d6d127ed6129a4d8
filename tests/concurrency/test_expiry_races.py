"""PostgreSQL: three expiry jobs racing over the same members expire each point exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.services.expiry import run_expiry
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.concurrency.conftest import Arena

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

LATER = FixedClock(datetime.now(UTC) + timedelta(days=2 * 366))


async def test_three_racing_expiry_jobs_expire_each_point_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member(f"m-{i}") for i in range(20)]
    for i, member in enumerate(members):
        await given.purchase(merchant, member, 1_000 * (i + 1), key=f"p-{i}")
    database = pg_arena.backend.database

    runs = await asyncio.gather(
        *(run_expiry(lambda: SqlAlchemyUnitOfWork(database.write_engine), LATER) for _ in range(3))
    )

    assert sum(run.points for run in runs) == sum(10 * (i + 1) for i in range(20))
    assert sum(run.members for run in runs) == 20
    assert await pg_arena.scalar("SELECT sum(available) FROM member_balances") == 0
    assert await pg_arena.scalar("SELECT count(*) FROM expirations") == 20
    assert await check_ledger(database.read_engine) == []
