"""POS holds: points held for a merchant go back to the member's available balance, in new lots
that keep the expiry dates of the lots the hold drew; and the job that releases lapsed holds.

A hold resolves exactly once (captured, voided or expired): every resolution locks the member's
balance row, then moves the redemption on from AUTHORIZED with a conditional UPDATE, and books
points only when that UPDATE matched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain import events
from domain.clock import Clock
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import NewLot, given_back
from domain.ports import UnitOfWork
from domain.rewards import Redemption, RedemptionStatus
from domain.services.posting import lock_members, post_entry

BATCH = 500


@dataclass(frozen=True, slots=True)
class HoldReleaseRun:
    holds: int
    points: int


async def merchant_name(uow: UnitOfWork, merchant_id: int | None) -> str:
    merchant = await uow.merchants.get(merchant_id) if merchant_id is not None else None
    return merchant.name if merchant is not None else "a merchant"


async def release_held(uow: UnitOfWork, hold: Redemption, kept: int, description: str, now: datetime) -> int:
    """Inside an open unit of work, after the hold was moved on: book the RELEASE of all the held
    points but `kept` back to available. The points kept are the soonest-expiring of those the hold
    drew; the rest come back in new lots with their own lots' expiry dates. The points released."""
    released = hold.points - kept
    if released <= 0:
        return 0
    drawn = await uow.lots.drawn_by(OriginType.REDEMPTION, hold.id, EntryKind.HOLD)
    lots = [NewLot(hold.member_id, back.points, now, back.expires_at) for back in given_back(drawn, kept)]
    await post_entry(
        uow,
        transfer(
            kind=EntryKind.RELEASE,
            member_id=hold.member_id,
            origin_type=OriginType.REDEMPTION,
            origin_id=hold.id,
            source=Account(AccountKind.MEMBER_HELD, hold.member_id),
            destination=Account.available(hold.member_id),
            points=released,
            description=description,
        ),
        now,
        lots,
    )
    return released


async def _release_lapsed(
    uow_factory: Callable[[], UnitOfWork], redemption_id: int, member_id: int, now: datetime, *, wait: bool
) -> int | None:
    """One lapsed hold in its own transaction: the points released (0 when someone else resolved it
    first), or None when the member's row was busy and `wait` was not asked for."""
    async with (uow := uow_factory()):
        locked = await lock_members(uow, [member_id], skip_locked=not wait)
        if member_id not in locked:
            return None
        hold = await uow.redemptions.get(redemption_id)
        if hold is None or hold.status is not RedemptionStatus.AUTHORIZED or not hold.hold_lapsed(now):
            return 0
        if not await uow.redemptions.finish(
            hold.id, from_status=RedemptionStatus.AUTHORIZED, to_status=RedemptionStatus.EXPIRED, at=now
        ):
            return 0
        name = await merchant_name(uow, hold.merchant_id)
        released = await release_held(uow, hold, 0, f"Released: the hold at {name} expired", now)
        if hold.reward_id is not None:
            await uow.rewards.give_back_one(hold.reward_id)
        await uow.outbox.add(
            events.redemption_voided(
                member_id=hold.member_id,
                redemption_id=hold.id,
                merchant_id=hold.merchant_id,
                points_returned=released,
                at=now,
            )
        )
        await uow.commit()
        return released


async def run_hold_release(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> HoldReleaseRun:
    """Release every AUTHORIZED hold past its time, one hold per transaction, by redemption id.

    Idempotent, and safe to run in two processes at once: a hold whose member's row another
    transaction holds is skipped at first, then tried again once the batch is done, this time
    waiting for the row; whichever process comes second finds the hold resolved and books nothing.
    """
    now = clock.now()
    holds = points = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            due = await uow.redemptions.holds_due(now, after, BATCH)
        if not due:
            return HoldReleaseRun(holds, points)
        busy = []
        for redemption_id, member_id in due:
            released = await _release_lapsed(uow_factory, redemption_id, member_id, now, wait=False)
            if released is None:
                busy.append((redemption_id, member_id))
            elif released:
                holds += 1
                points += released
        for redemption_id, member_id in busy:
            released = await _release_lapsed(uow_factory, redemption_id, member_id, now, wait=True)
            if released:
                holds += 1
                points += released
        after = due[-1][0]
        if progress is not None:
            progress(holds)
