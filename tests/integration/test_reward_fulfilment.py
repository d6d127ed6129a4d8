"""A redeemed reward is REQUESTED until an admin fulfils or cancels it; a cancellation returns the
points in one lot and the unit to stock. Rewards may limit redemptions per member and period, and
be reserved for tiers. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from persistence.queries.ledger_check import check_ledger
from persistence.tables import audit_log, members, redemptions, tiers
from tests.builders import Ids, Scenario, global_id, raw_id
from tests.conftest import Backend
from tests.pos_steps import Pos, lots, scalar, set_column, set_lot_expiries

SOONER = datetime(2027, 1, 31, tzinfo=UTC)
LATER = datetime(2028, 6, 30, tzinfo=UTC)


@pytest.fixture
def pos(given: Scenario) -> Pos:
    return Pos(given)


async def redeemed(given: Scenario, member: Ids, reward: Ids, key: str) -> str:
    result = await given.redeem(member, reward, key=key)
    assert result["errors"] == [], result
    return str(result["redemption"]["id"])


async def test_fulfilling_a_requested_reward_happens_once_and_is_audited(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    member = await given.funded_member(500)
    reward = await given.reward("Mug", cost_points=100, stock=5)
    redemption = await redeemed(given, member, reward, "r1")

    fulfilled = await pos.fulfil(redemption)
    again = await pos.fulfil(redemption)
    cancel_after = await pos.cancel(redemption, "c1")

    assert fulfilled["errors"] == []
    assert (fulfilled["redemption"]["status"], fulfilled["redemption"]["kind"]) == ("FULFILLED", "REWARD")
    assert fulfilled["redemption"]["finalizedAt"] is not None
    for refused in (again, cancel_after):
        assert refused["errors"] == [
            {
                "code": "ALREADY_FINALIZED",
                "field": ["redemptionId"],
                "message": "this redemption is already fulfilled",
            }
        ]
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"]) == (400, 100)
    assert await pos.stock(reward) == 4
    async with backend.database.read_engine.connect() as conn:
        audited = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "fulfilRedemption"))
        ).all()
    assert [(row.actor, row.before["status"], row.after["status"]) for row in audited] == [
        ("admin@test", "REQUESTED", "FULFILLED")
    ]


async def test_cancelling_returns_the_points_in_one_lot_dated_like_the_soonest_spent_and_the_stock(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    member = await given.member()
    assert (await given.adjust(member, 100, key="fund-1"))["errors"] == []
    assert (await given.adjust(member, 200, key="fund-2"))["errors"] == []
    await set_lot_expiries(backend, member, LATER, SOONER)
    reward = await given.reward("Mug", cost_points=250, stock=1)
    redemption = await redeemed(given, member, reward, "r1")  # 200 SOONER, then 50 of the LATER lot
    spent = await given.balance(member)

    cancelled = await pos.cancel(redemption, "c1", reason="the store closed")
    retried = await pos.cancel(redemption, "c1", reason="the store closed")
    again = await pos.cancel(redemption, "c2", reason="twice")

    assert (spent["available"], spent["lifetimeRedeemed"]) == (50, 250)
    assert cancelled["errors"] == []
    assert (cancelled["redemption"]["status"], cancelled["redemption"]["pointsReturned"]) == (
        "CANCELLED",
        250,
    )
    assert retried["errors"] == []
    assert again["errors"][0]["code"] == "ALREADY_FINALIZED"
    balance = await given.balance(member)
    assert (balance["available"], balance["lifetimeRedeemed"], balance["lifetimeEarned"]) == (300, 0, 300)
    assert await pos.stock(reward) == 1
    assert await lots(backend, member) == [
        (100, 50, "2028-06-30"),
        (200, 0, "2027-01-31"),
        (250, 250, "2027-01-31"),
    ]
    ledger = await given.gql.data(
        "query { me { ledger(first: 1) { edges { node { kind points description } } } } }",
        token=given.tokens.member(member.raw),
    )
    assert ledger["me"]["ledger"]["edges"][0]["node"] == {
        "kind": "RETURN",
        "points": 250,
        "description": "Returned: Mug cancelled",
    }
    async with backend.database.read_engine.connect() as conn:
        audited = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "cancelRedemption"))
        ).all()
    assert [(row.after["status"], row.after["reason"]) for row in audited] == [
        ("CANCELLED", "the store closed")
    ]
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_member_may_cancel_its_own_requested_reward_only(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    alice = await given.funded_member(500)
    bob = await given.funded_member(500)
    reward = await given.reward("Mug", cost_points=100)
    mine = await redeemed(given, alice, reward, "r1")

    by_bob = await pos.cancel(mine, "c1", token=given.tokens.member(bob.raw))
    by_alice = await pos.cancel(mine, "c1", reason="changed my mind", token=given.tokens.member(alice.raw))
    merchant_try = await given.gql.post(
        "mutation($i: CancelRedemptionInput!) { cancelRedemption(input: $i) { errors { code } } }",
        {"i": {"redemptionId": mine, "reason": "x", "idempotencyKey": "k"}},
        given.tokens.merchant((await given.merchant()).raw),
    )

    assert by_bob["errors"][0]["code"] == "NOT_FOUND"
    assert by_alice["redemption"]["status"] == "CANCELLED"
    assert merchant_try["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await given.balance(alice))["available"] == 500
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_pos_hold_is_not_fulfilled_or_cancelled_as_a_reward(given: Scenario, pos: Pos) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(500)
    hold = await pos.hold(merchant, member, 100, key="a1")

    assert (await pos.fulfil(hold))["errors"][0]["code"] == "VALIDATION"
    assert (await pos.cancel(hold, "c1"))["errors"][0]["code"] == "VALIDATION"


async def test_a_per_member_limit_counts_the_current_period_and_not_cancelled_ones(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(1_000)
    other = await given.funded_member(1_000)
    reward = await pos.reward(name="Lunch", costPoints=100, perMemberLimit=2, limitPeriod="MONTH")

    first = await redeemed(given, member, reward, "r1")
    await pos.authorize(merchant, await pos.code(member), "a1", reward=reward)  # a POS hold counts too
    third = await given.redeem(member, reward, key="r3")
    at_pos = await pos.authorize(merchant, await pos.code(member), "a2", reward=reward)
    others = await given.redeem(other, reward, key="o1")
    await pos.cancel(first, "c1")
    after_cancel = await given.redeem(member, reward, key="r4")

    assert third["errors"] == [
        {
            "code": "LIMIT_REACHED",
            "field": ["rewardId"],
            "message": "this reward can be redeemed 2 times per month",
        }
    ]
    assert at_pos["errors"][0]["code"] == "LIMIT_REACHED"
    assert others["errors"] == []
    assert after_cancel["errors"] == []
    balance = await given.balance(member)
    assert (balance["available"], balance["held"]) == (800, 100)
    assert await check_ledger(backend.database.read_engine) == []


async def test_last_months_redemptions_do_not_count_this_month(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    member = await given.funded_member(1_000)
    reward = await pos.reward(name="Lunch", costPoints=100, perMemberLimit=1, limitPeriod="MONTH")
    earlier = await redeemed(given, member, reward, "r1")
    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    refused = await given.redeem(member, reward, key="r2")
    await set_column(backend, redemptions, raw_id(earlier), created_at=this_month - timedelta(seconds=1))
    accepted = await given.redeem(member, reward, key="r3")

    assert refused["errors"][0]["code"] == "LIMIT_REACHED"
    assert accepted["errors"] == []


async def test_create_reward_with_limits_and_tiers(given: Scenario, pos: Pos, backend: Backend) -> None:
    gold = await add_tier(backend, "GOLD", rank=2)

    created = await pos.create_reward(perMemberLimit=3, tierIds=[gold.gid])
    period_alone = await pos.create_reward(limitPeriod="WEEK")
    no_tiers = await pos.create_reward(tierIds=[])
    unknown_tier = await pos.create_reward(tierIds=[global_id("Tier", 999)])
    zero = await pos.create_reward(perMemberLimit=0)

    assert created["errors"] == []
    assert {k: v for k, v in created["reward"].items() if k != "id"} == {
        "perMemberLimit": 3,
        "limitPeriod": "EVER",
        "tierIds": [gold.gid],
    }
    assert period_alone["errors"][0]["field"] == ["limitPeriod"]
    assert no_tiers["errors"][0]["field"] == ["tierIds"]
    assert unknown_tier["errors"][0] == {"code": "NOT_FOUND", "field": ["tierIds"], "message": "no such tier"}
    assert zero["errors"][0]["field"] == ["perMemberLimit"]


async def test_a_tier_reward_is_redeemed_by_members_of_those_tiers_only(
    given: Scenario, pos: Pos, backend: Backend
) -> None:
    silver = await add_tier(backend, "SILVER", rank=1)
    gold = await add_tier(backend, "GOLD", rank=2)
    merchant = await given.merchant()
    entry = await given.funded_member(500)  # no tier: the entry tier
    silver_member = await given.funded_member(500)
    gold_member = await given.funded_member(500)
    await set_tier(backend, silver_member, silver)
    await set_tier(backend, gold_member, gold)
    lounge = await pos.reward(name="Lounge", costPoints=100, tierIds=[gold.gid])

    by_entry = await given.redeem(entry, lounge, key="r1")
    by_silver = await given.redeem(silver_member, lounge, key="r2")
    by_silver_at_pos = await pos.authorize(merchant, await pos.code(silver_member), "a1", reward=lounge)
    by_gold = await given.redeem(gold_member, lounge, key="r3")

    for refused in (by_entry, by_silver, by_silver_at_pos):
        assert refused["errors"] == [
            {
                "code": "FORBIDDEN",
                "field": ["rewardId"],
                "message": "this reward is reserved for members of other tiers",
            }
        ]
    assert by_gold["errors"] == []
    assert [(await given.balance(m))["available"] for m in (entry, silver_member, gold_member)] == [
        500,
        500,
        400,
    ]
    assert await check_ledger(backend.database.read_engine) == []


async def add_tier(backend: Backend, code: str, rank: int) -> Ids:
    """Tiers are managed elsewhere; a row is all a reward's restriction needs."""
    now = datetime.now(UTC)
    async with backend.database.write_engine.begin() as conn:
        tier_id = (
            await conn.execute(
                tiers.insert()
                .values(code=code, name=code.title(), rank=rank, created_at=now, updated_at=now)
                .returning(tiers.c.id)
            )
        ).scalar_one()
    return Ids(global_id("Tier", tier_id))


async def set_tier(backend: Backend, member: Ids, tier: Ids) -> None:
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(members.update().where(members.c.id == member.raw).values(tier_id=tier.raw))
    assert await scalar(backend, "SELECT tier_id FROM members WHERE id = :id", id=member.raw) == tier.raw
