"""PostgreSQL: the server drops every connection of the app again and again while clients post
purchases and adjustments. Every answer is a success, OUTCOME_UNKNOWN or UNAVAILABLE, never the
masked "Unexpected error."; clients retry the last two with the same idempotency key until they
succeed, and each member's balance is then exactly the sum of its operations, each counted once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.builders import ADJUST, Ids
from tests.concurrency.conftest import OK, Arena, Reply
from tests.conftest import terminate_connections

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) { purchase { pointsEarned } errors { code } }
}"""
CLIENTS = 6
OPERATIONS = 12  # per client: purchases and adjustments in turn
KILLS = 6
RETRYABLE = {"OUTCOME_UNKNOWN", "UNAVAILABLE"}


async def test_clients_retrying_through_terminated_connections_count_every_operation_once(
    pg_arena: Arena,
) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member(f"client-{i}") for i in range(CLIENTS)]
    refs = [await given.member_ref(merchant, m) for m in members]
    merchant_token = pg_arena.tokens.merchant(merchant.raw)
    admin_token = pg_arena.tokens.admin()
    answers: Counter[str] = Counter()
    unexpected: list[str] = []
    done = asyncio.Event()

    async def until_done(request: tuple[str, dict[str, object], str], field: str) -> Reply:
        """Send, and again with the same key while the answer says the outcome is unknown or the
        database unavailable."""
        while True:
            reply = (await pg_arena.fire([request]))[0]
            outcome = reply.outcome(field)
            answers[outcome] += 1
            if outcome in RETRYABLE:
                continue
            if outcome != OK:
                unexpected.append(outcome)
            return reply

    async def client(i: int, member: Ids) -> int:
        """Returns the points its successful operations gave the member."""
        points = 0
        for n in range(OPERATIONS):
            key = f"c{i}-op{n}"
            if n % 2 == 0:
                amount = {"amountMinor": 1_000 + 100 * i + n, "currency": "CNY"}  # 10 + i points
                variables = {"input": {"memberRef": refs[i], "amount": amount, "idempotencyKey": key}}
                reply = await until_done((PURCHASE, variables, merchant_token), "postPurchase")
                if reply.outcome("postPurchase") == OK:
                    points += reply.body["data"]["postPurchase"]["purchase"]["pointsEarned"]
            else:
                variables = {
                    "input": {
                        "memberId": member.gid,
                        "points": 7,
                        "reasonCode": "GOODWILL",
                        "idempotencyKey": key,
                    }
                }
                reply = await until_done((ADJUST, variables, admin_token), "adjustPoints")
                if reply.outcome("adjustPoints") == OK:
                    points += reply.body["data"]["adjustPoints"]["adjustment"]["points"]
        return points

    async def killer() -> list[int]:
        killed = []
        while len(killed) < KILLS and not done.is_set():
            await asyncio.sleep(0.05)
            killed.append(await terminate_connections(pg_arena.backend.url))
        return killed

    async def clients() -> list[int]:
        try:
            return list(await asyncio.gather(*(client(i, m) for i, m in enumerate(members))))
        finally:
            done.set()

    try:
        earned, killed = await asyncio.gather(clients(), killer())
    finally:
        await pg_arena.backend.database.dispose()  # no dead connection left in the pools for later tests

    assert unexpected == []
    assert sum(killed) > 0, "the server never dropped a connection of the app"
    for member, points in zip(members, earned, strict=True):
        # Six purchases of 10 + i points and six adjustments of 7, once each.
        assert points == 6 * (10 + members.index(member)) + 6 * 7
        assert (await given.balance(member))["available"] == points
    purchases = await pg_arena.scalar("SELECT count(*) FROM purchases")
    adjustments = await pg_arena.scalar("SELECT count(*) FROM adjustments")
    assert (purchases, adjustments) == (CLIENTS * OPERATIONS // 2, CLIENTS * OPERATIONS // 2)
    assert set(answers) <= {OK} | RETRYABLE, answers
