"""PostgreSQL: refunds racing each other and racing purchases of the same member; totals stay exact."""

from __future__ import annotations

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.concurrency.conftest import OK, Arena, outcomes
from tests.integration.test_offers_api import create_offer

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

REFUND = """mutation($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) { refund { id pointsReversed debtCreated } errors { code field message } }
}"""
POST = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) { purchase { id pointsEarned } errors { code field } }
}"""
BALANCE = "query { me { balance { available lifetimeEarned debt } } }"


def refund(purchase: str, key: str, amount: int | None = None) -> dict[str, object]:
    money = {} if amount is None else {"amount": {"amountMinor": amount, "currency": "CNY"}}
    return {"input": {"purchaseId": purchase, "idempotencyKey": key, **money}}


async def balance(arena: Arena, member_raw: int) -> dict[str, int]:
    data = await arena.given.gql.data(BALANCE, token=arena.tokens.member(member_raw))
    return data["me"]["balance"]  # type: ignore[no-any-return]


async def test_ten_refunds_of_20_percent_at_once_exactly_five_succeed(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    posted = await given.purchase(merchant, member, 10_000, key="p1")  # 100 points
    purchase = posted["purchase"]["id"]
    reward = await given.reward("Cinema", cost_points=30)
    assert (await given.redeem(member, reward, key="spend"))["errors"] == []  # 70 left
    token = pg_arena.tokens.merchant(merchant.raw)

    replies = await pg_arena.fire([(REFUND, refund(purchase, f"r{i}", 2_000), token) for i in range(10)])

    assert outcomes(replies, "refundPurchase") == {OK: 5, "VALIDATION": 5}
    done = [r.payload("refundPurchase") for r in replies]
    reversed_ = [p["refund"]["pointsReversed"] for p in done if p and p["refund"]]
    owed = [p["refund"]["debtCreated"] for p in done if p and p["refund"]]
    assert reversed_ == [20] * 5
    assert sum(owed) == 30  # the 70 left in the purchase's lot, then 30 owed
    assert await balance(pg_arena, member.raw) == {"available": 0, "lifetimeEarned": 0, "debt": 30}
    row = "SELECT refunded_minor * 1000 + points_refunded FROM purchases"
    assert await pg_arena.scalar(row) == 10_000 * 1000 + 100
    assert await pg_arena.row_counts("refunds") == {"refunds": 5}
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_one_key_retried_ten_times_at_once_refunds_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    purchase = (await given.purchase(merchant, member, 10_000, key="p1"))["purchase"]["id"]
    token = pg_arena.tokens.merchant(merchant.raw)

    replies = await pg_arena.fire([(REFUND, refund(purchase, "same", 2_500), token) for _ in range(10)])

    assert outcomes(replies, "refundPurchase") == {OK: 10}
    ids = {r.payload("refundPurchase")["refund"]["id"] for r in replies}  # type: ignore[index]
    assert len(ids) == 1
    assert (await balance(pg_arena, member.raw))["available"] == 75
    assert await pg_arena.row_counts("refunds") == {"refunds": 1}
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_refunds_racing_purchases_of_the_same_member_and_offer_stay_exact(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    await given.risk_rule("MEMBER_VELOCITY", limit=1_000)  # more purchases of one member than the default
    created = await create_offer(
        given,
        name="10 bonus points",
        mechanic="BONUS_POINTS",
        points=10,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
        limits={"budgetPoints": 10_000},
    )
    assert created["errors"] == []
    earlier = [
        (await given.purchase(merchant, member, 1_000, key=f"e{i}"))["purchase"]["id"] for i in range(10)
    ]
    reward = await given.reward("Cinema", cost_points=150)
    assert (await given.redeem(member, reward, key="spend"))["errors"] == []  # 200 earned, 50 left
    token = pg_arena.tokens.merchant(merchant.raw)
    refunds = [(REFUND, refund(purchase, f"r{i}"), token) for i, purchase in enumerate(earlier)]
    purchases = [
        (
            POST,
            {
                "input": {
                    "memberRef": await given.member_ref(merchant, member),
                    "amount": {"amountMinor": 1_000, "currency": "CNY"},
                    "idempotencyKey": f"n{i}",
                }
            },
            token,
        )
        for i in range(10)
    ]

    replies = await pg_arena.fire(
        [request for pair in zip(refunds, purchases, strict=True) for request in pair]
    )

    assert outcomes(replies[0::2], "refundPurchase") == {OK: 10}
    assert outcomes(replies[1::2], "postPurchase") == {OK: 10}
    after = await balance(pg_arena, member.raw)
    # 50 left, 200 taken back, 200 earned: whatever the order, available less debt is 50.
    assert after["available"] - after["debt"] == 50
    assert after["lifetimeEarned"] == 200
    assert await pg_arena.scalar("SELECT sum(points_reversed) FROM refunds") == 200
    assert await pg_arena.scalar("SELECT points_used * 1000 + uses FROM offers") == 100 * 1000 + 10
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_purchases_racing_while_the_member_owes_points_all_earn_and_repay_it_once(
    pg_arena: Arena,
) -> None:
    """Each earning finds the debt under the member's lock: none is refused for a debt another
    repaid meanwhile, and together they repay exactly what was owed."""
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    await given.risk_rule("MEMBER_VELOCITY", limit=1_000)  # more purchases of one member than the default
    first = await given.purchase(merchant, member, 10_000, key="p1")  # 100 points
    reward = await given.reward("Kettle", cost_points=95)
    assert (await given.redeem(member, reward, key="r1"))["errors"] == []
    refunded = await pg_arena.fire(
        [(REFUND, refund(first["purchase"]["id"], "refund"), pg_arena.tokens.merchant(merchant.raw))]
    )
    assert refunded[0].payload("refundPurchase")["refund"]["debtCreated"] == 95  # type: ignore[index]

    replies = await pg_arena.fire(
        [
            (
                POST,
                {
                    "input": {
                        "memberRef": await given.member_ref(merchant, member),
                        "amount": {"amountMinor": 2_000, "currency": "CNY"},  # 20 points each
                        "idempotencyKey": f"race-{i}",
                    }
                },
                pg_arena.tokens.merchant(merchant.raw),
            )
            for i in range(10)
        ]
    )

    assert outcomes(replies, "postPurchase") == {OK: 10}
    assert await balance(pg_arena, member.raw) == {"available": 105, "lifetimeEarned": 200, "debt": 0}
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
