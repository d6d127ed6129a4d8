"""The same races on the embedded SQLite database: exact totals, and never "database is locked"."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, Arena, assert_no_lock_errors, redeem_race

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency]


async def test_200_redemptions_of_100_against_1000_points_exactly_10_succeed(sqlite_arena: Arena) -> None:
    race = await redeem_race(sqlite_arena, funded=1_000, cost=100, stock=None, attempts=200)

    assert_no_lock_errors(race.replies)
    assert race.outcomes == {OK: 10, "INSUFFICIENT_POINTS": 190}  # nothing unexpected
    assert race.balance == {
        "available": 0,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 1_000,
        "lifetimeRedeemed": 1_000,
    }
    assert await sqlite_arena.scalar("SELECT count(*) FROM redemptions") == 10
    assert await sqlite_arena.scalar("SELECT count(*) FROM journal_entries WHERE kind = 'REDEEM'") == 10
    assert await check_ledger(sqlite_arena.backend.database.read_engine) == []


async def test_20_redemptions_of_a_reward_with_stock_5_exactly_5_succeed(sqlite_arena: Arena) -> None:
    race = await redeem_race(sqlite_arena, funded=10_000, cost=100, stock=5, attempts=20)

    assert_no_lock_errors(race.replies)
    assert race.outcomes == {OK: 5, "REWARD_OUT_OF_STOCK": 15}
    assert race.stock == 0
    assert race.balance["available"] == 9_500
    assert race.balance["lifetimeRedeemed"] == 500
    assert await sqlite_arena.scalar("SELECT count(*) FROM redemptions") == 5
    assert await check_ledger(sqlite_arena.backend.database.read_engine) == []
