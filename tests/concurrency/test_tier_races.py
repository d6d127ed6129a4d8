"""PostgreSQL: tier evaluation and dormancy jobs racing each other, and purchases, change each member once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock, SystemClock
from domain.money import Money
from domain.programme import add_months
from domain.services.dormancy import run_dormancy
from domain.services.settlement import import_settlement_batch
from domain.services.tiers import run_tier_evaluation
from domain.settlement import SettlementLine
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.concurrency.conftest import Arena
from tests.integration.test_tiers import given_ladder

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]


async def test_two_racing_tier_evaluations_write_one_history_line_per_change(pg_arena: Arena) -> None:
    given = pg_arena.given
    await given_ladder(given)
    merchant = await given.merchant()
    database = pg_arena.backend.database
    for i in range(15):  # gold at once, by postPurchase
        await given.purchase(merchant, await given.member(f"api-{i}"), 100_000, key=f"p-{i}")
    refs = [await given.member_ref(merchant, await given.member(f"file-{i}")) for i in range(15)]
    lines = [  # platinum by spend, through a file: the job upgrades them
        SettlementLine(i + 2, f"S-{i}", refs[i], Money(5_000_000, "CNY"), datetime.now(UTC), None)
        for i in range(15)
    ]
    outcome = await import_settlement_batch(
        lines,
        actor=Actor(Role.MERCHANT, "import", merchant_id=merchant.raw),
        uow=SqlAlchemyUnitOfWork(database.write_engine),
        clock=SystemClock(),
    )
    assert outcome.posted == 15

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database.write_engine)

    async def race(clock: FixedClock) -> tuple[int, int, int]:
        runs = await asyncio.gather(run_tier_evaluation(uow, clock), run_tier_evaluation(uow, clock))
        return (
            sum(r.upgraded for r in runs),
            sum(r.grace_started for r in runs),
            sum(r.downgraded for r in runs),
        )

    now = datetime.now(UTC)
    lapsed = add_months(now, 13)
    upgrades = await race(FixedClock(now))
    graces = await race(FixedClock(lapsed))
    downgrades = await race(FixedClock(add_months(lapsed, 2)))

    assert upgrades == (15, 0, 0)
    assert graces == (0, 30, 0)
    assert downgrades == (0, 0, 30)
    by_reason = {
        reason: await pg_arena.scalar("SELECT count(*) FROM tier_changes WHERE reason = :r", r=reason)
        for reason in ("UPGRADE", "GRACE", "DOWNGRADE", "REQUALIFIED")
    }
    assert by_reason == {"UPGRADE": 30, "GRACE": 30, "DOWNGRADE": 30, "REQUALIFIED": 0}
    assert (
        await pg_arena.scalar(
            "SELECT count(*) FROM members WHERE tier_id = (SELECT id FROM tiers WHERE code = 'CLASSIC')"
        )
        == 30
    )


async def test_two_racing_dormancy_jobs_mark_each_member_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    for i in range(40):
        await given.member(f"m-{i}")
    database = pg_arena.backend.database
    later = FixedClock(add_months(datetime.now(UTC), 13))

    runs = await asyncio.gather(
        *(run_dormancy(lambda: SqlAlchemyUnitOfWork(database.write_engine), later) for _ in range(2))
    )

    assert sum(run.members for run in runs) == 40
    assert await pg_arena.scalar("SELECT count(*) FROM member_balances WHERE dormant_since IS NOT NULL") == 40
