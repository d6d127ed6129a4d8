"""PostgreSQL: many purchases racing for the last of an offer's budget or cap, each in its own
transaction as postPurchase runs it; the database lets through exactly what fits."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.merchants import MerchantCategory, MerchantChannel
from domain.offers import CapPeriod, FunderKind, FundingShare, Limits, Mechanic, Offer, SkipReason, Window
from domain.services.offer_claims import claim_award
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.concurrency.conftest import OK, Arena, outcomes
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def bonus(limits: Limits, points: int = 30) -> Offer:
    return Offer(
        id=0,
        version=0,
        name="Double Eleven bonus",
        mechanic=Mechanic.BONUS_POINTS,
        window=Window(AT - timedelta(days=1), AT + timedelta(days=1)),
        funding=(FundingShare(FunderKind.PARTNER, 1, 60), FundingShare(FunderKind.PROGRAMME, None, 40)),
        limits=limits,
        points=points,
    )


async def add_offer(backend: Backend, offer: Offer) -> Offer:
    uow = SqlAlchemyUnitOfWork(backend.database.write_engine)
    async with uow:
        await uow.merchants.add(
            name="Tea House",
            category=MerchantCategory.DINING,
            channel=MerchantChannel.BOTH,
            partner_id=None,
            earn_rate_override=None,
            at=AT,
        )
        stored = await uow.offers.add(offer, AT)
        await uow.commit()
    return stored


async def add_members(backend: Backend, count: int) -> list[int]:
    async with backend.database.write_engine.begin() as conn:
        rows = await conn.execute(
            text(
                "INSERT INTO members (external_ref, status, referral_code, tags, enrolled_at) "
                "SELECT 'm-' || g, 'ACTIVE', 'R' || g, '[]', now() FROM generate_series(1, :n) g RETURNING id"
            ),
            {"n": count},
        )
        return sorted(rows.scalars())


async def claim_in_own_transaction(backend: Backend, offer: Offer, member_id: int) -> SkipReason | None:
    """The award's claim as the purchase and bonus paths make it, with the budget events it tells."""
    uow = SqlAlchemyUnitOfWork(backend.database.write_engine)
    async with uow:
        refused = await claim_award(uow, offer, member_id, offer.window.starts_at, offer.points, 0, AT)
        await uow.commit()
    return refused


async def counters(backend: Backend, offer_id: int) -> tuple[int, int]:
    async with backend.database.read_engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT points_used, uses FROM offers WHERE id = :id"), {"id": offer_id})
        ).one()
    return int(row.points_used), int(row.uses)


@pytest.mark.partial_ledger  # claims alone: counters move without the awards a purchase records
async def test_500_purchases_racing_for_a_10000_point_budget_of_30_point_bonuses_get_exactly_333(
    pg_backend: Backend,
) -> None:
    offer = await add_offer(pg_backend, bonus(Limits(budget_points=10_000)))
    members = await add_members(pg_backend, 500)

    outcomes = await asyncio.gather(*(claim_in_own_transaction(pg_backend, offer, m) for m in members))

    assert outcomes.count(None) == 333  # 333 x 30 = 9,990; a 334th would need 10,020
    assert outcomes.count(SkipReason.BUDGET_EXHAUSTED) == 167
    assert await counters(pg_backend, offer.id) == (9_990, 333)
    # The warning (at 8,000) is told once, by the award that crossed it; 9,990 never reaches the budget.
    assert await budget_events(pg_backend) == [("budget.warning", 8_010)]


@pytest.mark.partial_ledger  # claims alone: counters move without the awards a purchase records
async def test_racing_awards_tell_each_budget_crossing_exactly_once(pg_backend: Backend) -> None:
    offer = await add_offer(pg_backend, bonus(Limits(budget_points=3_000)))
    members = await add_members(pg_backend, 150)

    outcomes = await asyncio.gather(*(claim_in_own_transaction(pg_backend, offer, m) for m in members))

    assert outcomes.count(None) == 100
    assert await counters(pg_backend, offer.id) == (3_000, 100)
    assert await budget_events(pg_backend) == [("budget.warning", 2_400), ("budget.exhausted", 3_000)]


async def budget_events(backend: Backend) -> list[tuple[str, int]]:
    """The budget events in the outbox: type and the offer's use when told."""
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT type, payload FROM outbox_events WHERE type LIKE 'budget.%' ORDER BY id")
        )
        found = [(row.type, row.payload) for row in rows]
    return [(kind, int((p if isinstance(p, dict) else json.loads(p))["used"])) for kind, p in found]


@pytest.mark.partial_ledger  # claims alone: counters move without the awards a purchase records
async def test_a_once_per_member_offer_raced_by_one_member_20_times_is_given_once(
    pg_backend: Backend,
) -> None:
    offer = await add_offer(pg_backend, bonus(Limits(per_member=1, per_member_period=CapPeriod.OFFER)))
    [member] = await add_members(pg_backend, 1)

    outcomes = await asyncio.gather(*(claim_in_own_transaction(pg_backend, offer, member) for _ in range(20)))

    assert outcomes.count(None) == 1
    assert outcomes.count(SkipReason.MEMBER_LIMIT_REACHED) == 19
    assert await counters(pg_backend, offer.id) == (30, 1)


@pytest.mark.partial_ledger  # claims alone: counters move without the awards a purchase records
async def test_the_first_five_of_fifty_racing_purchases_get_a_five_use_offer(pg_backend: Backend) -> None:
    offer = await add_offer(pg_backend, bonus(Limits(max_uses=5, per_member=1)))
    members = await add_members(pg_backend, 50)

    outcomes = await asyncio.gather(*(claim_in_own_transaction(pg_backend, offer, m) for m in members))

    assert outcomes.count(None) == 5
    assert outcomes.count(SkipReason.GLOBAL_LIMIT_REACHED) == 45
    assert await counters(pg_backend, offer.id) == (150, 5)
    # A refused global claim gave back the member's use it had taken first.
    async with pg_backend.database.read_engine.connect() as conn:
        member_uses = (
            await conn.execute(text("SELECT coalesce(sum(uses), 0) FROM offer_member_usage"))
        ).scalar()
    assert member_uses == 5


POST_PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) { purchase { pointsEarned appliedOffers { points } } errors { code } }
}"""


async def test_500_racing_purchases_through_the_api_award_exactly_333_bonuses_and_the_ledger_verifies(
    pg_arena: Arena,
) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    members = [await given.member(f"racer-{i}") for i in range(100)]
    created = await create_offer(
        given,
        name="30 for the first 10,000",
        mechanic="BONUS_POINTS",
        points=30,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
        limits={"budgetPoints": 10_000},
    )
    assert created["errors"] == []
    token = pg_arena.tokens.merchant(merchant.raw)
    refs = [await given.member_ref(merchant, m) for m in members]
    requests = [
        (
            POST_PURCHASE,
            {
                "input": {
                    "memberRef": refs[i % 100],
                    "amount": {"amountMinor": 1_000, "currency": "CNY"},
                    "idempotencyKey": f"race-{i}",
                }
            },
            token,
        )
        for i in range(500)
    ]

    replies = await pg_arena.fire(requests)

    assert outcomes(replies, "postPurchase") == {OK: 500}
    bonuses = [len(r.payload("postPurchase")["purchase"]["appliedOffers"]) for r in replies]  # type: ignore[index]
    assert sum(bonuses) == 333
    assert await pg_arena.scalar("SELECT sum(points_earned) FROM purchases") == 500 * 10 + 333 * 30
    assert await pg_arena.scalar("SELECT points_used FROM offers") == 9_990
    assert await pg_arena.scalar("SELECT count(*) FROM purchase_awards") == 333
    assert (
        await pg_arena.scalar(
            "SELECT -sum(amount) FROM journal_lines WHERE account_kind = 'MERCHANT_FUNDING'"
        )
        == 9_990
    )
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_a_single_use_coupon_raced_by_20_purchases_is_used_once(pg_arena: Arena) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="¥10 off with a coupon",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 1_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    generated = await given.gql.data(
        "mutation($input: GenerateCouponsInput!) { generateCoupons(input: $input) { coupons { code } } }",
        {"input": {"offerId": created["offer"]["id"], "count": 1}},
        given.admin,
    )
    [coupon] = generated["generateCoupons"]["coupons"]
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)
    requests = [
        (
            POST_PURCHASE,
            {
                "input": {
                    "memberRef": ref,
                    "amount": {"amountMinor": 5_000, "currency": "CNY"},
                    "idempotencyKey": f"coupon-{i}",
                    "couponCode": coupon["code"],
                }
            },
            token,
        )
        for i in range(20)
    ]

    replies = await pg_arena.fire(requests)

    assert outcomes(replies, "postPurchase") == {OK: 1, "LIMIT_REACHED": 19}
    assert await pg_arena.scalar("SELECT uses FROM coupons") == 1
    assert await pg_arena.scalar("SELECT count(*) FROM purchases") == 1
    assert await pg_arena.scalar("SELECT sum(discount_minor) FROM purchase_awards") == 1_000
    assert await check_ledger(pg_arena.backend.database.read_engine) == []


async def test_a_once_per_member_offer_under_20_racing_purchases_by_one_member_applies_once(
    pg_arena: Arena,
) -> None:
    given = pg_arena.given
    merchant = await given.merchant()
    member = await given.member()
    await given.risk_rule("MEMBER_VELOCITY", limit=1_000)  # 20 purchases of one member, none held
    created = await create_offer(
        given,
        name="Once each: 100 points",
        mechanic="BONUS_POINTS",
        points=100,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
        limits={"perMember": 1},
    )
    assert created["errors"] == []
    token = pg_arena.tokens.merchant(merchant.raw)
    ref = await given.member_ref(merchant, member)
    requests = [
        (
            POST_PURCHASE,
            {
                "input": {
                    "memberRef": ref,
                    "amount": {"amountMinor": 1_000, "currency": "CNY"},
                    "idempotencyKey": f"once-{i}",
                }
            },
            token,
        )
        for i in range(20)
    ]

    replies = await pg_arena.fire(requests)

    assert outcomes(replies, "postPurchase") == {OK: 20}
    assert await pg_arena.scalar("SELECT count(*) FROM purchase_awards") == 1
    assert await pg_arena.scalar("SELECT available FROM member_balances") == 20 * 10 + 100
    assert await check_ledger(pg_arena.backend.database.read_engine) == []
