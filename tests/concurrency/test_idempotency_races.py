"""PostgreSQL: concurrent retries with one idempotency key execute the work exactly once."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.builders import ADJUST, POST_PURCHASE
from tests.concurrency.conftest import OK, Arena

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

WRITTEN = ("purchases", "adjustments", "journal_entries", "journal_lines", "points_lots", "idempotency_keys")


def purchase_input(member_ref: str, amount_minor: int, key: str) -> dict[str, object]:
    return {
        "input": {
            "memberRef": member_ref,
            "amount": {"amountMinor": amount_minor, "currency": "CNY"},
            "idempotencyKey": key,
        }
    }


async def test_50_identical_purchases_with_one_key_post_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)

    replies = await pg_arena.fire([(POST_PURCHASE, purchase_input(ref, 12_345, "order-1"), token)] * 50)

    assert {reply.outcome("postPurchase") for reply in replies} == {OK}
    assert len({reply.text for reply in replies}) == 1, "every retry gets the first answer, byte for byte"
    purchase = replies[0].payload("postPurchase")["purchase"]
    assert purchase["pointsEarned"] == 123
    assert await pg_arena.row_counts(*WRITTEN) == {
        "purchases": 1,
        "adjustments": 0,
        "journal_entries": 1,
        "journal_lines": 2,
        "points_lots": 1,
        "idempotency_keys": 1,
    }
    assert (await given.balance(member))["available"] == 123
    assert await check_ledger(pg_arena.backend.database.read_engine) == []

    before = await pg_arena.row_counts(*WRITTEN)
    reused = await pg_arena.fire([(POST_PURCHASE, purchase_input(ref, 99_999, "order-1"), token)])
    assert reused[0].outcome("postPurchase") == "IDEMPOTENCY_KEY_REUSED"
    assert reused[0].payload("postPurchase")["purchase"] is None
    assert await pg_arena.row_counts(*WRITTEN) == before
    assert (await given.balance(member))["available"] == 123


async def test_one_key_sent_with_two_different_inputs_at_once_executes_one_of_them(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)
    amounts = [10_000 if i % 2 else 20_000 for i in range(50)]

    replies = await pg_arena.fire(
        [(POST_PURCHASE, purchase_input(ref, a, "contested"), token) for a in amounts]
    )

    winners = [(a, r) for a, r in zip(amounts, replies, strict=True) if r.outcome("postPurchase") == OK]
    losers = [(a, r) for a, r in zip(amounts, replies, strict=True) if r.outcome("postPurchase") != OK]
    winning_amount = winners[0][0]
    assert {a for a, _ in winners} == {winning_amount}
    assert len(winners) == 25
    assert {a for a, _ in losers} == {30_000 - winning_amount}
    assert {r.outcome("postPurchase") for _, r in losers} == {"IDEMPOTENCY_KEY_REUSED"}
    assert len({r.text for _, r in winners}) == 1
    assert await pg_arena.scalar("SELECT count(*) FROM purchases") == 1
    assert (await given.balance(member))["available"] == winning_amount // 100


async def test_50_concurrent_adjustment_retries_with_one_key_adjust_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    member = await given.member()
    variables = {
        "input": {"memberId": member.gid, "points": 250, "reasonCode": "GOODWILL", "idempotencyKey": "adj-1"}
    }

    replies = await pg_arena.fire([(ADJUST, variables, given.admin)] * 50)

    assert {reply.outcome("adjustPoints") for reply in replies} == {OK}
    adjustment_ids = {reply.payload("adjustPoints")["adjustment"]["id"] for reply in replies}
    assert len(adjustment_ids) == 1
    assert {reply.payload("adjustPoints")["adjustment"]["points"] for reply in replies} == {250}
    counts = await pg_arena.row_counts(*WRITTEN)
    assert counts["adjustments"] == 1
    assert counts["journal_entries"] == 1
    assert counts["points_lots"] == 1
    assert await pg_arena.scalar("SELECT count(*) FROM audit_log WHERE action = 'adjustPoints'") == 1
    balance = await given.balance(member)
    assert balance["available"] == 250
    assert balance["lifetimeEarned"] == 250
    assert await check_ledger(pg_arena.backend.database.read_engine) == []

    reused = await given.adjust(member, 300, key="adj-1")
    assert reused["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await pg_arena.row_counts(*WRITTEN) == counts
