"""PostgreSQL: a member's one-time code raced at the till. Of twenty purchases presenting the same
code at once, exactly one earns with it; of twenty payments, exactly one holds points; the others
get the refusal every unknown code gets."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.builders import POST_PURCHASE
from tests.concurrency.conftest import OK, Arena, outcomes
from tests.pos_steps import AUTHORIZE, Pos

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]


async def test_one_code_earns_once_and_pays_once_however_many_use_it_at_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.funded_member(1_000)
    code = await Pos(given).code(member)
    token = pg_arena.tokens.merchant(merchant.raw)
    amount = {"amountMinor": 10_000, "currency": "CNY"}  # 100 points

    earnings = await pg_arena.fire(
        [
            (
                POST_PURCHASE,
                {"input": {"memberCode": code, "amount": amount, "idempotencyKey": f"e{i}"}},
                token,
            )
            for i in range(20)
        ]
    )
    payments = await pg_arena.fire(
        [
            (AUTHORIZE, {"input": {"code": code, "points": 50, "idempotencyKey": f"p{i}"}}, token)
            for i in range(20)
        ]
    )

    assert outcomes(earnings, "postPurchase") == {OK: 1, "NOT_FOUND": 19}
    assert outcomes(payments, "authorizeRedemption") == {OK: 1, "VALIDATION": 19}
    assert await pg_arena.scalar("SELECT count(*) FROM purchases") == 1
    balance = await given.balance(member)
    assert (balance["available"], balance["held"], balance["lifetimeEarned"]) == (1_050, 50, 1_100)
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
