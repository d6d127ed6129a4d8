"""POS redemption, fulfilment and reward limits as use cases over the fakes: no database, a clock
the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock
from domain.commands import (
    AuthorizeRedemption,
    CancelRedemption,
    CaptureRedemption,
    FulfilRedemption,
    RedeemReward,
)
from domain.errors import ErrorCode
from domain.results import RedemptionResult
from domain.rewards import LimitPeriod, RedemptionStatus
from domain.services.fulfilment import cancel_redemption, fulfil_redemption
from domain.services.holds import run_hold_release
from domain.services.pos_redemptions import authorize_redemption, capture_redemption, create_redemption_code
from domain.services.redemptions import redeem_reward
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import (
    ADMIN,
    LATER,
    SOON,
    balance,
    given_lot,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    merchant_actor,
    raised,
)

NOW = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)


async def code_for(db: FakeDatabase, member_id: int, at: datetime = NOW) -> str:
    issued = await create_redemption_code(
        actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=FixedClock(at)
    )
    return issued.code


async def authorize(
    db: FakeDatabase, merchant_id: int, code: str, key: str, at: datetime = NOW, **what: int
) -> RedemptionResult:
    return await authorize_redemption(
        AuthorizeRedemption(code=code, idempotency_key=key, **what),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(at),
    )


async def test_a_partial_capture_keeps_the_soonest_points_and_gives_the_rest_back_with_their_dates() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    await given_lot(db, member.id, 100, SOON)
    hold = await authorize(db, merchant.id, await code_for(db, member.id), "a1", points=150)

    captured = await capture_redemption(
        CaptureRedemption(hold.redemption_id, "c1", points=120),
        actor=merchant_actor(merchant.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW + timedelta(minutes=1)),
    )

    assert (captured.redemption_id, captured.member_id, captured.points) == (
        hold.redemption_id,
        member.id,
        120,
    )
    answered = captured.snapshot()  # what the API answers with, without reading it back
    assert answered is not None
    assert (answered.status, answered.captured_points, answered.points) == (
        RedemptionStatus.CAPTURED,
        120,
        150,
    )
    assert answered.finalized_at == NOW + timedelta(minutes=1)
    b = balance(db, member.id)
    assert (b.available, b.held, b.lifetime_redeemed) == (80, 0, 120)
    # held: 100 SOON + 50 LATER; spent: 100 SOON + 20 LATER; back: 30 LATER
    assert sorted((lot.remaining, lot.expires_at) for lot in lots_of(db, member.id)) == [
        (0, SOON),
        (30, LATER),
        (50, LATER),
    ]
    redemption = db.tables.redemptions[hold.redemption_id]
    assert (redemption.status, redemption.captured_points, redemption.finalized_at) == (
        RedemptionStatus.CAPTURED,
        120,
        NOW + timedelta(minutes=1),
    )


async def test_a_code_expires_after_five_minutes() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    late = await code_for(db, member.id)
    in_time = await code_for(db, member.id)

    refused = await raised(authorize(db, merchant.id, late, "a1", at=NOW + timedelta(minutes=5), points=10))
    accepted = await authorize(
        db, merchant.id, in_time, "a2", at=NOW + timedelta(minutes=4, seconds=59), points=10
    )

    assert (refused.code, refused.field) == (ErrorCode.VALIDATION, ("code",))
    assert accepted.points == 10


async def test_a_refused_authorization_leaves_the_code_unused() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 50, LATER)
    code = await code_for(db, member.id)

    refused = await raised(authorize(db, merchant.id, code, "a1", points=51))
    accepted = await authorize(db, merchant.id, code, "a2", points=50)

    assert refused.code is ErrorCode.INSUFFICIENT_POINTS
    assert accepted.points == 50


async def test_the_release_job_releases_a_lapsed_hold_once_and_not_before_its_time() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    hold = await authorize(db, merchant.id, await code_for(db, member.id), "a1", points=70)
    uow = lambda: FakeUnitOfWork(db)  # noqa: E731

    early = await run_hold_release(uow, FixedClock(NOW + timedelta(minutes=29)))
    on_time = await run_hold_release(uow, FixedClock(NOW + timedelta(minutes=30)))
    again = await run_hold_release(uow, FixedClock(NOW + timedelta(minutes=31)))

    assert [(r.holds, r.points) for r in (early, on_time, again)] == [(0, 0), (1, 70), (0, 0)]
    assert db.tables.redemptions[hold.redemption_id].status is RedemptionStatus.EXPIRED
    b = balance(db, member.id)
    assert (b.available, b.held) == (100, 0)


async def test_cancel_returns_one_lot_dated_like_the_soonest_spent_and_fulfil_is_then_refused() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 60, LATER)
    await given_lot(db, member.id, 60, SOON)
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(name="Mug", cost_points=100, stock=1, active=True, at=NOW)
        await seed.commit()
    redeemed = await redeem_reward(
        RedeemReward(reward.id, "r1"),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )

    await cancel_redemption(
        CancelRedemption(redeemed.redemption_id, "no longer made", "c1"),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    refused = await raised(
        fulfil_redemption(
            FulfilRedemption(redeemed.redemption_id),
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert refused.code is ErrorCode.ALREADY_FINALIZED
    b = balance(db, member.id)
    assert (b.available, b.lifetime_redeemed) == (120, 0)
    assert db.tables.rewards[reward.id].stock == 1
    assert sorted((lot.points, lot.remaining, lot.expires_at) for lot in lots_of(db, member.id)) == [
        (60, 0, SOON),
        (60, 20, LATER),
        (100, 100, SOON),
    ]
    assert [e.action for e in db.tables.audit] == ["cancelRedemption"]
    assert db.tables.audit[0].after["reason"] == "no longer made"  # type: ignore[index]


async def test_a_daily_limit_counts_today_only() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 1_000, LATER)
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(
            name="Coffee",
            cost_points=10,
            stock=None,
            active=True,
            at=NOW,
            per_member_limit=1,
            limit_period=LimitPeriod.DAY,
        )
        await seed.commit()

    async def redeem(key: str, at: datetime) -> RedemptionResult:
        return await redeem_reward(
            RedeemReward(reward.id, key),
            actor=member_actor(member.id),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(at),
        )

    await redeem("r1", NOW)
    refused = await raised(redeem("r2", NOW.replace(hour=23, minute=59)))
    tomorrow = await redeem("r3", NOW.replace(hour=0, minute=0) + timedelta(days=1))

    assert refused.code is ErrorCode.LIMIT_REACHED
    assert tomorrow.points == 10
