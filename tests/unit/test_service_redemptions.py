"""Redeeming a catalogue reward over the fakes: the entry and the draws, and each rule a reward's
redemption must pass (active, tiers, stock, the per-member limit per period) with the message and
field a client sees."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import PostPurchase, RedeemReward
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.money import Money
from domain.results import RedemptionResult
from domain.rewards import LimitPeriod, Redemption, RedemptionStatus, Reward
from domain.risk import RuleKind
from domain.services.purchases import post_purchase
from domain.services.redemptions import redeem_reward, redeemable_reward
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import (
    LATER,
    SOON,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    merchant_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 13, 14, 5, tzinfo=UTC)  # a Wednesday


async def given_reward(db: FakeDatabase, **fields: object) -> Reward:
    values: dict[str, object] = {
        "name": "Mug",
        "cost_points": 40,
        "stock": 5,
        "active": True,
        "at": NOW,
    } | fields
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(**values)  # type: ignore[arg-type]
        await seed.commit()
    return reward


async def redeem(
    db: FakeDatabase, member_id: int, reward_id: int, key: str = "r-1", at: datetime = NOW
) -> RedemptionResult:
    return await redeem_reward(
        RedeemReward(reward_id, key),
        actor=member_actor(member_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


async def test_a_redemption_spends_the_cost_from_the_soonest_lots_and_is_requested() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 30, LATER)
    await given_lot(db, member.id, 30, SOON)
    reward = await given_reward(db, stock=2)

    result = await redeem(db, member.id, reward.id)

    redemption = db.tables.redemptions[result.redemption_id]
    assert redemption == Redemption(
        result.redemption_id, member.id, reward.id, 40, RedemptionStatus.REQUESTED, NOW
    )
    # The reward's voucher comes with it (its code in this first answer only).
    assert result.voucher is not None
    assert result.voucher_code is not None
    assert replace(result, voucher=None, voucher_code=None) == RedemptionResult.of(redemption, 40)
    b = balance(db, member.id)
    assert (b.available, b.lifetime_redeemed) == (20, 40)
    assert db.tables.rewards[reward.id].stock == 1
    [spent] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.REDEEM]
    assert (
        spent.entry.member_id,
        spent.entry.origin_type,
        spent.entry.origin_id,
        spent.entry.description,
        spent.at,
    ) == (
        member.id,
        OriginType.REDEMPTION,
        redemption.id,
        "Redeemed for Mug",
        NOW,
    )
    assert spent.entry.postings == (
        Posting(Account.available(member.id), -40),
        Posting(Account(AccountKind.REDEMPTION), 40),
    )
    assert sorted((lot.remaining, lot.expires_at) for lot in lots_of(db, member.id)) == [
        (0, SOON),
        (20, LATER),
    ]
    assert db.tables.lot_draws_at == {spent.id: NOW}


async def test_points_expired_by_now_are_not_spent() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, NOW)
    await given_lot(db, member.id, 39, LATER)
    reward = await given_reward(db)
    before = snapshot(db)

    error = await raised(redeem(db, member.id, reward.id))

    assert error.code is ErrorCode.INSUFFICIENT_POINTS
    assert_unchanged_but_for_idempotency(db, before)


async def test_only_a_member_named_by_its_token_redeems() -> None:
    db = FakeDatabase()
    reward = await given_reward(db)

    anonymous = await raised(
        redeem_reward(
            RedeemReward(reward.id, "r-1"),
            actor=Actor(Role.MEMBER, "m"),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (anonymous.code, anonymous.message) == (ErrorCode.FORBIDDEN, "the token names no member")


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"active": False}, ErrorCode.REWARD_INACTIVE, "this reward is no longer offered"),
        ({"stock": 0}, ErrorCode.REWARD_OUT_OF_STOCK, "this reward is out of stock"),
    ],
    ids=["inactive", "out-of-stock"],
)
async def test_an_inactive_or_sold_out_reward_is_refused_on_its_field(
    fields: dict[str, object], code: ErrorCode, message: str
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, **fields)
    uow = FakeUnitOfWork(db)

    async with uow:
        error = await raised(redeemable_reward(uow, reward.id, member, NOW, ("input", "rewardId")))
    missing = await raised(redeem(db, member.id, 404))

    assert (error.code, error.message, error.field) == (code, message, ("input", "rewardId"))
    assert (missing.code, missing.message, missing.field) == (
        ErrorCode.NOT_FOUND,
        "no such reward",
        ("rewardId",),
    )


async def test_the_last_unit_in_stock_may_be_redeemed() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, stock=1)

    await redeem(db, member.id, reward.id)

    assert db.tables.rewards[reward.id].stock == 0


async def test_a_reward_taken_meanwhile_is_out_of_stock_and_nothing_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, stock=1)
    before = snapshot(db)
    uow = FakeUnitOfWork(db)

    async def gone(*_: object) -> bool:
        return False

    monkeypatch.setattr(uow.rewards, "take_one", gone)
    error = await raised(
        redeem_reward(
            RedeemReward(reward.id, "r-1"), actor=member_actor(member.id), uow=uow, clock=FixedClock(NOW)
        )
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.REWARD_OUT_OF_STOCK,
        "this reward is out of stock",
        ("rewardId",),
    )
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_tier_only_reward_is_for_members_of_those_tiers() -> None:
    db = FakeDatabase()
    seed = FakeUnitOfWork(db)
    async with seed:
        classic = await seed.tiers.add(Tier(0, "CLASSIC", "Classic", 1), NOW)
        gold = await seed.tiers.add(Tier(0, "GOLD", "Gold", 2, min_points=1_000), NOW)
        await seed.commit()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, tier_ids=frozenset({gold.id}))
    for_everyone = await given_reward(db, tier_ids=frozenset({classic.id, gold.id}))

    refused = await raised(redeem(db, member.id, reward.id))
    allowed = await redeem(db, member.id, for_everyone.id, "r-2")  # the entry tier, by default
    db.tables.members[member.id] = replace(db.tables.members[member.id], tier_id=gold.id)
    now_allowed = await redeem(db, member.id, reward.id, "r-3")

    assert (refused.code, refused.message, refused.field) == (
        ErrorCode.FORBIDDEN,
        "this reward is reserved for members of other tiers",
        ("rewardId",),
    )
    assert (allowed.points, now_allowed.points) == (40, 40)


@pytest.mark.parametrize(
    ("period", "per", "earlier", "counts"),
    [
        (LimitPeriod.DAY, " per day", NOW.replace(hour=0, minute=0), True),
        (LimitPeriod.DAY, " per day", NOW.replace(hour=0, minute=0) - timedelta(seconds=1), False),
        (LimitPeriod.WEEK, " per week", datetime(2024, 3, 11, tzinfo=UTC), True),  # Monday
        (LimitPeriod.MONTH, " per month", datetime(2024, 3, 1, tzinfo=UTC), True),
        (LimitPeriod.MONTH, " per month", datetime(2024, 2, 29, 23, 59, tzinfo=UTC), False),
        (LimitPeriod.YEAR, " per year", datetime(2024, 1, 1, tzinfo=UTC), True),
        (None, "", datetime(2020, 1, 1, tzinfo=UTC), True),
    ],
    ids=["day", "yesterday", "week", "month", "last-month", "year", "ever"],
)
async def test_a_per_member_limit_counts_the_redemptions_of_its_period(
    period: LimitPeriod | None, per: str, earlier: datetime, counts: bool
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 200, LATER)
    reward = await given_reward(db, per_member_limit=2, limit_period=period)
    await redeem(db, member.id, reward.id, "r-1", at=earlier)
    await redeem(db, member.id, reward.id, "r-2")
    before = snapshot(db)

    if counts:
        error = await raised(redeem(db, member.id, reward.id, "r-3"))
        assert (error.code, error.message, error.field) == (
            ErrorCode.LIMIT_REACHED,
            f"this reward can be redeemed 2 times{per}",
            ("rewardId",),
        )
        assert_unchanged_but_for_idempotency(db, before)
    else:
        assert (await redeem(db, member.id, reward.id, "r-3")).points == 40


async def test_a_redemption_soon_after_a_big_earning_is_refused_by_risk_control() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    burn = next(r for r in db.tables.risk.rules.values() if r.kind is RuleKind.EARN_AND_BURN)
    db.tables.risk.rules[burn.id] = replace(burn, limit=99)
    await post_purchase(
        PostPurchase(linked(db, merchant.id, member.id), Money(10_000, "CNY"), "p-1"),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW - timedelta(minutes=5)),
    )
    reward = await given_reward(db)
    before = snapshot(db)

    error = await raised(redeem(db, member.id, reward.id))

    assert (error.code, error.message) == (
        ErrorCode.RISK_REVIEW,
        "refused by risk control: an earning of 100 points in the last 30 minutes, over 99",
    )
    assert (db.tables.redemptions, db.tables.rewards) == (before.redemptions, before.rewards)
    assert balance(db, member.id) == before.balances[member.id]
