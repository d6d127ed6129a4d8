"""PostgreSQL: one voucher presented by 20 merchants' requests at once is redeemed exactly once."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, Arena
from tests.voucher_steps import REDEEM_VOUCHER, voucher_for

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]


async def test_20_concurrent_redemptions_of_one_voucher_one_succeeds(pg_arena: Arena) -> None:
    given = pg_arena.given
    member = await given.funded_member(1_000)
    reward = await given.reward("Mug", cost_points=300, stock=2)
    shops = [await given.merchant(f"Shop {i}") for i in range(4)]
    _, code = await voucher_for(given, member, reward, "r1")

    replies = await pg_arena.fire(
        [
            (
                REDEEM_VOUCHER,
                {"input": {"code": code, "idempotencyKey": f"v-{i}"}},
                pg_arena.tokens.merchant(shops[i % 4].raw),
            )
            for i in range(20)
        ]
    )

    results = [reply.outcome("redeemVoucher") for reply in replies]
    assert sorted(results) == ["ALREADY_FINALIZED"] * 19 + [OK], results
    assert await pg_arena.scalar("SELECT count(*) FROM vouchers WHERE status = 'USED'") == 1
    assert await pg_arena.scalar("SELECT count(*) FROM redemptions WHERE status = 'FULFILLED'") == 1
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"]) == (700, 300)
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
