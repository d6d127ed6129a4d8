"""PostgreSQL: 200 transfers at once, half each way between two members: no deadlock, nothing lost."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, Arena, outcomes

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

TRANSFER = """mutation($input: TransferPointsInput!) {
  transferPoints(input: $input) { points errors { code field } }
}"""


async def test_200_opposite_transfers_between_two_members_conserve_the_total(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    ann = await given.member("ann")
    bob = await given.member("bob")
    await given.purchase(merchant, ann, 100_000, key="a")  # 1,000 points each
    await given.purchase(merchant, bob, 100_000, key="b")
    requests = []
    for i in range(100):
        requests.append(
            (
                TRANSFER,
                {"input": {"points": 3, "toExternalRef": "bob", "idempotencyKey": f"a{i}"}},
                pg_arena.tokens.member(ann.raw),
            )
        )
        requests.append(
            (
                TRANSFER,
                {"input": {"points": 2, "toExternalRef": "ann", "idempotencyKey": f"b{i}"}},
                pg_arena.tokens.member(bob.raw),
            )
        )

    replies = await pg_arena.fire(requests)

    assert outcomes(replies, "transferPoints") == {OK: 200}
    assert (await given.balance(ann))["available"] == 1_000 - 300 + 200
    assert (await given.balance(bob))["available"] == 1_000 - 200 + 300
    assert await pg_arena.scalar("SELECT sum(available) FROM member_balances") == 2_000
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
