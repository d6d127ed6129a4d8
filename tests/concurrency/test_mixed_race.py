"""PostgreSQL: one member under every kind of traffic at once: 100 purchases, 100 reward
redemptions and three expiry jobs. The final balance is the equation of what succeeded, each
expired point went to the expiry account exactly once, and every lot reconciles."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from domain.clock import SystemClock
from domain.services.expiry import run_expiry
from persistence.queries.ledger_check import check_ledger
from persistence.tables import points_lots
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.concurrency.conftest import OK, REDEEM, Arena, outcomes

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) { purchase { pointsEarned } errors { code } }
}"""


async def test_purchases_redemptions_and_expiry_runs_on_one_member(pg_arena: Arena) -> None:
    given = pg_arena.given
    database = pg_arena.backend.database
    merchant = await given.merchant()
    member = await given.member("busy")
    await given.risk_rule("MEMBER_VELOCITY", limit=1_000)  # a busy member: more purchases than the default
    for i in range(10):
        await given.purchase(merchant, member, 100_000, key=f"seed-{i}")  # 10 lots of 1,000 points
    # Four of those lots reach their date now: 4,000 points the race must expire exactly once.
    async with database.write_engine.begin() as conn:
        lot_ids = (
            await conn.exec_driver_sql(
                f"SELECT id FROM points_lots WHERE member_id = {member.raw} ORDER BY id LIMIT 4"
            )
        ).scalars()
        await conn.execute(
            update(points_lots)
            .where(points_lots.c.id.in_(list(lot_ids)))
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
    reward = await given.reward("Race prize", cost_points=80)
    merchant_token = pg_arena.tokens.merchant(merchant.raw)
    member_token = pg_arena.tokens.member(member.raw)
    ref = await given.member_ref(merchant, member)
    purchases = [
        (
            PURCHASE,
            {
                "input": {
                    "memberRef": ref,
                    "amount": {"amountMinor": 1_000 + i, "currency": "CNY"},  # 10 points each
                    "idempotencyKey": f"race-p-{i}",
                }
            },
            merchant_token,
        )
        for i in range(100)
    ]
    redemptions = [
        (REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": f"race-r-{i}"}}, member_token)
        for i in range(100)
    ]

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database.write_engine)

    replies, *runs = await asyncio.gather(
        pg_arena.fire([request for pair in zip(purchases, redemptions, strict=True) for request in pair]),
        *(run_expiry(uow, SystemClock()) for _ in range(3)),
    )

    purchased = outcomes(replies[0::2], "postPurchase")
    redeemed = outcomes(replies[1::2], "redeemReward")
    expired = await pg_arena.scalar("SELECT sum(points) FROM expirations WHERE member_id = :m", m=member.raw)
    balance = await given.balance(member)

    assert purchased == {OK: 100}
    assert set(redeemed) <= {OK, "INSUFFICIENT_POINTS"}, redeemed
    assert redeemed[OK] >= 1
    assert expired == 4_000  # by the jobs or by a redemption's own expiry, but once
    assert sum(run.points for run in runs) <= 4_000
    assert balance["available"] == 10_000 + 100 * 10 - 80 * redeemed[OK] - expired
    assert balance["lifetimeEarned"] == 11_000
    assert balance["lifetimeRedeemed"] == 80 * redeemed[OK]
    assert await check_ledger(database.read_engine) == []
