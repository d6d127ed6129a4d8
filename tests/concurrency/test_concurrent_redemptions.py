"""PostgreSQL: many redemptions at once against one balance and one stock; the totals come out exact."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, REDEEM, Arena, redeem_race

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]


async def test_200_redemptions_of_100_against_1000_points_exactly_10_succeed(pg_arena: Arena) -> None:
    race = await redeem_race(pg_arena, funded=1_000, cost=100, stock=None, attempts=200)

    assert race.outcomes == {OK: 10, "INSUFFICIENT_POINTS": 190}
    assert race.balance == {
        "available": 0,
        "pending": 0,
        "held": 0,
        "lifetimeEarned": 1_000,
        "lifetimeRedeemed": 1_000,
    }
    redemption_ids = {
        r.payload("redeemReward")["redemption"]["id"] for r in race.replies if r.outcome("redeemReward") == OK
    }
    assert len(redemption_ids) == 10
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions") == 10
    assert await pg_arena.scalar("SELECT count(*) FROM journal_entries WHERE kind = 'REDEEM'") == 10
    assert await pg_arena.scalar("SELECT coalesce(sum(remaining), 0) FROM points_lots") == 0
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_20_redemptions_of_a_reward_with_stock_5_exactly_5_succeed(pg_arena: Arena) -> None:
    race = await redeem_race(pg_arena, funded=10_000, cost=100, stock=5, attempts=20)

    assert race.outcomes == {OK: 5, "REWARD_OUT_OF_STOCK": 15}
    assert race.stock == 0
    assert race.balance["available"] == 10_000 - 5 * 100
    assert race.balance["lifetimeRedeemed"] == 500
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions") == 5
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_racing_retries_of_racing_redemptions_each_get_one_answer(pg_arena: Arena) -> None:
    """30 keys, each sent 5 times at once, against 1,000 points: 10 keys redeem once each, and every
    retry of a key receives exactly the answer its first execution produced."""
    given = pg_arena.given
    member = await given.funded_member(1_000)
    reward = await given.reward("Coffee", cost_points=100)
    token = pg_arena.tokens.member(member.raw)
    keys = [f"key-{k}" for k in range(30)]
    requests = [
        (REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": key}}, token) for key in keys * 5
    ]

    replies = await pg_arena.fire(requests)

    by_key: dict[str, set[str]] = {}
    for (_, variables, _), reply in zip(requests, replies, strict=True):
        by_key.setdefault(variables["input"]["idempotencyKey"], set()).add(reply.text)
    assert all(len(answers) == 1 for answers in by_key.values()), by_key
    first_answers = [replies[i] for i in range(len(keys))]
    outcomes = [reply.outcome("redeemReward") for reply in first_answers]
    assert outcomes.count(OK) == 10
    assert outcomes.count("INSUFFICIENT_POINTS") == 20
    assert (await given.balance(member))["available"] == 0
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions") == 10
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
