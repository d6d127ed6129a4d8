"""PostgreSQL: an earn's events are written by its idempotency record's statement. Concurrent
requests under one key commit one purchase and exactly its events; the others replay and leave none."""

from __future__ import annotations

import json

import pytest

from tests.concurrency.conftest import OK, Arena, outcomes

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) { purchase { id pointsEarned } errors { code } }
}"""


async def test_racing_retries_under_one_key_write_one_purchases_events(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member(f"m{i}") for i in range(4)]
    token = pg_arena.tokens.merchant(merchant.raw)
    refs = [await given.member_ref(merchant, m) for m in members]

    def earn(ref: str, key: str) -> tuple[str, dict[str, object], str]:
        body = {"memberRef": ref, "amount": {"amountMinor": 2_500, "currency": "CNY"}, "idempotencyKey": key}
        return PURCHASE, {"input": body}, token

    # Each member: ten copies of one request (a client retrying) among the others' copies.
    requests = [earn(ref, f"order-{i}") for _ in range(10) for i, ref in enumerate(refs)]
    before = await pg_arena.scalar("SELECT count(*) FROM outbox_events")

    replies = await pg_arena.fire(requests)

    assert outcomes(replies, "postPurchase") == {OK: 40}
    for i in range(4):
        answers = {json.dumps(r.payload("postPurchase")) for r in replies[i::4]}
        assert len(answers) == 1, answers  # the retries replay the first answer
    assert await pg_arena.scalar("SELECT count(*) FROM purchases") == 4
    assert await pg_arena.scalar("SELECT count(*) FROM outbox_events") - before == 4
    posted = await pg_arena.scalar(
        "SELECT count(DISTINCT p.id) FROM purchases p JOIN outbox_events e"
        " ON e.type = 'purchase.posted' AND CAST(e.payload->>'purchaseId' AS BIGINT) = p.id"
        " AND e.member_id = p.member_id"
    )
    assert posted == 4  # each purchase's own event, for its member
