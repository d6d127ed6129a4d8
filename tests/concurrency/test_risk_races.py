"""PostgreSQL: purchases racing past a risk limit together. Each claims its counters under their
row locks inside its own transaction, so exactly as many pass as the limit lets through and the
rest are held; the review balance and the ledger agree to the point."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, Arena, outcomes
from tests.integration.test_risk_control import POST, rule_id, update_rule

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

BALANCE = "query { me { balance { available underReview lifetimeEarned } } }"


def purchase(member_ref: str, key: str, amount: int = 10_000) -> dict[str, object]:
    return {
        "input": {
            "memberRef": member_ref,
            "amount": {"amountMinor": amount, "currency": "CNY"},
            "idempotencyKey": key,
        }
    }


def held(replies: list, field: str = "postPurchase") -> int:  # type: ignore[type-arg]  # Reply list
    return sum(1 for r in replies if (p := r.payload(field)) and p["notices"])


async def test_twenty_purchases_of_one_member_at_once_pass_the_velocity_limit_five_times(
    pg_arena: Arena,
) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    assert (await update_rule(given, await rule_id(given, "MEMBER_VELOCITY"), limit=5))["errors"] == []
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)

    replies = await pg_arena.fire([(POST, purchase(ref, f"p{i}"), token) for i in range(20)])

    assert outcomes(replies, "postPurchase") == {OK: 20}
    assert held(replies) == 15
    data = await given.gql.data(BALANCE, token=pg_arena.tokens.member(member.raw))
    assert data["me"]["balance"] == {"available": 500, "underReview": 1_500, "lifetimeEarned": 2_000}
    assert await pg_arena.scalar("SELECT count(*) FROM risk_reviews WHERE status = 'OPEN'") == 15
    assert await pg_arena.scalar("SELECT sum(points) FROM risk_reviews") == 1_500
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_thirty_members_at_one_merchant_at_once_issue_exactly_its_daily_points(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member() for _ in range(30)]
    assert (await update_rule(given, await rule_id(given, "MERCHANT_DAILY_POINTS"), limit=1_000))[
        "errors"
    ] == []
    token = pg_arena.tokens.merchant(merchant.raw)

    replies = await pg_arena.fire(
        [(POST, purchase(await given.member_ref(merchant, m), f"p{i}"), token) for i, m in enumerate(members)]
    )

    assert outcomes(replies, "postPurchase") == {OK: 30}
    assert held(replies) == 20  # 10 purchases of 100 points fill the 1,000; the other 20 wait
    assert await pg_arena.scalar("SELECT sum(available) FROM member_balances") == 1_000
    assert await pg_arena.scalar("SELECT sum(under_review) FROM member_balances") == 2_000
    assert await pg_arena.scalar("SELECT points FROM risk_counters WHERE scope = 'MERCHANT_DAY'") == 3_000
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_a_refused_race_claims_nothing(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    velocity = await rule_id(given, "MEMBER_VELOCITY")
    assert (await update_rule(given, velocity, limit=3, action="REFUSE"))["errors"] == []
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)

    replies = await pg_arena.fire([(POST, purchase(ref, f"p{i}"), token) for i in range(12)])

    assert outcomes(replies, "postPurchase") == {OK: 3, "RISK_REVIEW": 9}
    assert await pg_arena.scalar("SELECT count FROM risk_counters WHERE scope = 'MEMBER_WINDOW'") == 3
    data = await given.gql.data(BALANCE, token=pg_arena.tokens.member(member.raw))
    assert data["me"]["balance"] == {"available": 300, "underReview": 0, "lifetimeEarned": 300}
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
