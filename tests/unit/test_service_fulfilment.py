"""A reward's fulfilment over the fakes: fulfilled or cancelled once, by whom, with the points and
the stock given back on a cancel, the refusals' codes, messages and fields, and nothing changed by
a refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.actors import Actor
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.commands import CancelRedemption, FulfilRedemption, RedeemReward
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import MemberStatus
from domain.results import RedemptionResult
from domain.rewards import Redemption, RedemptionKind, RedemptionStatus, Reward
from domain.services.fulfilment import cancel_redemption, fulfil_redemption
from domain.services.redemptions import redeem_reward
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import (
    ADMIN,
    LATER,
    SOON,
    assert_unchanged_but_for_idempotency,
    balance,
    given_lot,
    given_member,
    lots_of,
    member_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)
THEN = datetime(2024, 3, 2, 9, 0, tzinfo=UTC)


async def given_reward(db: FakeDatabase, stock: int | None = 1) -> Reward:
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(name="Mug", cost_points=100, stock=stock, active=True, at=NOW)
        await seed.commit()
    return reward


async def redeemed(db: FakeDatabase, member_id: int, reward_id: int) -> Redemption:
    result = await redeem_reward(
        RedeemReward(reward_id, f"r-{reward_id}-{member_id}"),
        actor=member_actor(member_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    return db.tables.redemptions[result.redemption_id]


async def cancel(
    db: FakeDatabase, actor: Actor, redemption_id: int, reason: str = "changed my mind"
) -> RedemptionResult:
    return await cancel_redemption(
        CancelRedemption(redemption_id, reason, f"c-{redemption_id}-{len(reason)}"),
        actor=actor,
        uow=FakeUnitOfWork(db),
        clock=FixedClock(THEN),
    )


async def fulfil(db: FakeDatabase, actor: Actor, redemption_id: int) -> Redemption:
    return await fulfil_redemption(
        FulfilRedemption(redemption_id), actor=actor, uow=FakeUnitOfWork(db), clock=FixedClock(THEN)
    )


async def test_fulfilling_marks_the_redemption_fulfilled_moves_no_points_and_is_audited() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 150, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    uow = FakeUnitOfWork(db)
    balance_before = balance(db, member.id)

    fulfilled = await fulfil_redemption(
        FulfilRedemption(mug.id), actor=ADMIN, uow=uow, clock=FixedClock(THEN)
    )

    assert fulfilled == Redemption(
        mug.id, member.id, mug.reward_id, 100, RedemptionStatus.FULFILLED, NOW, finalized_at=THEN
    )
    assert db.tables.redemptions[mug.id] == fulfilled
    assert balance(db, member.id) == balance_before
    [event] = [e for e in db.tables.audit if e.action == "fulfilRedemption"]
    assert (event.actor, event.target_type, event.target_id, event.request_id, event.at) == (
        "admin-ada",
        "Redemption",
        mug.id,
        "req-1",
        THEN,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("REQUESTED", "FULFILLED")
    assert event.after["finalized_at"] == str(THEN)
    assert uow.commits == 1


async def test_a_member_may_not_fulfil_its_own_reward() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 150, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    before = snapshot(db)

    error = await raised(fulfil(db, member_actor(member.id), mug.id))

    assert (error.code, error.message) == (ErrorCode.FORBIDDEN, "this operation needs the role admin")
    assert db.tables == before


async def test_an_unknown_redemption_is_not_found() -> None:
    db = FakeDatabase()
    for refusal in (await raised(fulfil(db, ADMIN, 404)), await raised(cancel(db, ADMIN, 404))):
        assert (refusal.code, refusal.message, refusal.field) == (
            ErrorCode.NOT_FOUND,
            "no such redemption",
            ("redemptionId",),
        )


async def test_a_pos_redemption_is_not_fulfilled_or_cancelled_here() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    seed = FakeUnitOfWork(db)
    async with seed:
        hold = await seed.redemptions.add(
            member_id=member.id,
            reward_id=None,
            points=50,
            status=RedemptionStatus.REQUESTED,
            at=NOW,
            kind=RedemptionKind.POS,
        )
        await seed.commit()
    before = snapshot(db)

    for refusal in (await raised(fulfil(db, ADMIN, hold.id)), await raised(cancel(db, ADMIN, hold.id))):
        assert (refusal.code, refusal.message, refusal.field) == (
            ErrorCode.VALIDATION,
            "a POS redemption is captured or voided by its merchant",
            ("redemptionId",),
        )
    assert db.tables == before


async def test_a_finished_redemption_says_what_it_already_is() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 300, LATER)
    first = await redeemed(db, member.id, (await given_reward(db)).id)
    second = await redeemed(db, member.id, (await given_reward(db)).id)
    await fulfil(db, ADMIN, first.id)
    await cancel(db, ADMIN, second.id)
    before = snapshot(db)

    refusals = [
        await raised(fulfil(db, ADMIN, first.id)),
        await raised(cancel(db, ADMIN, first.id)),
        await raised(fulfil(db, ADMIN, second.id)),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.ALREADY_FINALIZED, "this redemption is already fulfilled", ("redemptionId",)),
        (ErrorCode.ALREADY_FINALIZED, "this redemption is already fulfilled", ("redemptionId",)),
        (ErrorCode.ALREADY_FINALIZED, "this redemption is already cancelled", ("redemptionId",)),
    ]
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_redemption_resolved_meanwhile_is_already_finalized_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 150, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    before = snapshot(db)

    async def lost_race(*_: object, **__: object) -> bool:
        return False  # another transaction finished it between the read and the conditional update

    fulfilling, cancelling = FakeUnitOfWork(db), FakeUnitOfWork(db)
    monkeypatch.setattr(fulfilling.redemptions, "finish", lost_race)
    monkeypatch.setattr(cancelling.redemptions, "finish", lost_race)
    refusals = [
        await raised(
            fulfil_redemption(FulfilRedemption(mug.id), actor=ADMIN, uow=fulfilling, clock=FixedClock(THEN))
        ),
        await raised(
            cancel_redemption(
                CancelRedemption(mug.id, "why", "c-9"), actor=ADMIN, uow=cancelling, clock=FixedClock(THEN)
            )
        ),
    ]

    assert [(e.code, e.message, e.field) for e in refusals] == [
        (ErrorCode.ALREADY_FINALIZED, "this redemption was resolved meanwhile", ("redemptionId",))
    ] * 2
    assert fulfilling.commits == 0
    assert_unchanged_but_for_idempotency(db, before)  # a cancel's refusal is kept for its key


async def test_a_member_cancels_its_own_reward_the_points_come_back_dated_like_the_soonest_spent() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 60, LATER)
    await given_lot(db, member.id, 60, SOON)
    reward = await given_reward(db)
    mug = await redeemed(db, member.id, reward.id)
    assert db.tables.rewards[reward.id].stock == 0

    result = await cancel(db, member_actor(member.id), mug.id, reason="  wrong colour ")

    cancelled = Redemption(
        mug.id,
        member.id,
        reward.id,
        100,
        RedemptionStatus.CANCELLED,
        NOW,
        points_returned=100,
        finalized_at=THEN,
    )
    assert db.tables.redemptions[mug.id] == cancelled
    assert result == RedemptionResult.of(cancelled, 100)
    assert db.tables.rewards[reward.id].stock == 1
    b = balance(db, member.id)
    assert (b.available, b.lifetime_earned, b.lifetime_redeemed) == (120, 120, 0)
    [returned] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.RETURN]
    assert (returned.entry.member_id, returned.entry.origin_type, returned.entry.origin_id) == (
        member.id,
        OriginType.REDEMPTION,
        mug.id,
    )
    assert returned.entry.postings == (
        Posting(Account(AccountKind.REDEMPTION), -100),
        Posting(Account.available(member.id), 100),
    )
    assert returned.entry.description == "Returned: Mug cancelled"
    assert returned.at == THEN
    assert [(lot.points, lot.remaining, lot.earned_at, lot.expires_at) for lot in lots_of(db, member.id)][
        -1
    ] == (
        100,
        100,
        THEN,
        SOON,
    )
    [event] = [e for e in db.tables.audit if e.action == "cancelRedemption"]
    assert event == AuditEvent(
        "member-1", "cancelRedemption", "Redemption", mug.id, event.before, event.after, "req-3", THEN
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.after["status"]) == ("REQUESTED", "CANCELLED")
    assert (event.after["points_returned"], event.after["reason"]) == (100, "wrong colour")


async def test_a_reward_of_unlimited_stock_stays_unlimited_when_cancelled() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, stock=None)
    mug = await redeemed(db, member.id, reward.id)

    await cancel(db, ADMIN, mug.id)

    assert db.tables.rewards[reward.id].stock is None
    assert balance(db, member.id).available == 100


async def test_a_redemption_without_a_reward_or_draws_returns_its_points_for_the_programmes_validity() -> (
    None
):
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, SOON)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    # paid before the draws were kept, for a reward since removed
    db.tables.lot_draws = []
    db.tables.redemptions[mug.id] = replace(mug, reward_id=None)

    result = await cancel(db, ADMIN, mug.id)

    assert result.points == 100
    [returned] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.RETURN]
    assert returned.entry.description == "Returned: reward cancelled"
    lot = lots_of(db, member.id)[-1]
    assert (lot.points, lot.earned_at, lot.expires_at) == (100, THEN, db.programme.expiry_for(THEN))
    assert balance(db, member.id).available == 100


async def test_another_members_redemption_is_not_found_for_a_member() -> None:
    db = FakeDatabase()
    owner = await given_member(db, "CRM-1")
    other = await given_member(db, "CRM-2")
    await given_lot(db, owner.id, 100, LATER)
    mug = await redeemed(db, owner.id, (await given_reward(db)).id)
    before = snapshot(db)

    error = await raised(cancel(db, member_actor(other.id), mug.id))

    assert (error.code, error.message, error.field) == (
        ErrorCode.NOT_FOUND,
        "no such redemption",
        ("redemptionId",),
    )
    assert_unchanged_but_for_idempotency(db, before)


async def test_a_locked_member_cannot_cancel_but_an_admin_may_cancel_for_it() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    seed = FakeUnitOfWork(db)
    async with seed:
        await seed.members.set_status(member.id, MemberStatus.LOCKED, "fraud")
        await seed.commit()
    before = snapshot(db)

    error = await raised(cancel(db, member_actor(member.id), mug.id))

    assert (error.code, error.message, error.field) == (
        ErrorCode.MEMBER_LOCKED,
        "member is locked",
        ("memberId",),
    )
    assert_unchanged_but_for_idempotency(db, before)
    assert (await cancel(db, ADMIN, mug.id)).points == 100
    assert balance(db, member.id).available == 100


@pytest.mark.parametrize(
    ("reason", "message"), [("  ", "must not be blank"), ("r" * 501, "must be at most 500 characters")]
)
async def test_a_cancel_needs_a_reason_of_at_most_500_characters(reason: str, message: str) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    before = snapshot(db)

    error = await raised(cancel(db, ADMIN, mug.id, reason=reason))

    assert (error.code, error.message, error.field) == (ErrorCode.VALIDATION, message, ("reason",))
    assert db.tables == before
    assert (await cancel(db, ADMIN, mug.id, reason="r" * 500)).points == 100


async def test_a_cancel_retried_with_its_key_answers_the_same_and_returns_the_points_once() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)

    first = await cancel(db, ADMIN, mug.id)
    again = await cancel(db, ADMIN, mug.id)

    assert again == first
    assert isinstance(again, RedemptionResult)
    assert balance(db, member.id).available == 100


async def test_a_redemption_partly_given_back_returns_only_the_rest() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    mug = await redeemed(db, member.id, (await given_reward(db)).id)
    db.tables.redemptions[mug.id] = replace(mug, points_returned=30)

    result = await cancel(db, ADMIN, mug.id)

    assert result.points == 70
    assert db.tables.redemptions[mug.id].points_returned == 100
    assert balance(db, member.id).available == 70
