"""Expiry: what is left of a lot on its expiry date leaves the member's available balance for the
expiry account, as one EXPIRE entry per member and run that draws the lots to zero.

It happens in two places: the expiry job goes through every member holding expired lots, and every
debit first expires the member's own (so an expired point is never spent, whenever the job ran).
Both lock the member's balance row before reading its lots, so two jobs, or a job and a purchase,
never expire the same points twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain import events
from domain.clock import Clock
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import LotDraw
from domain.ports import UnitOfWork
from domain.services.posting import lock_members, post_entry

BATCH = 500


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    members: int
    points: int


async def expire_member_lots(
    uow: UnitOfWork, member_id: int, now: datetime, *, skip_locked: bool = False
) -> int:
    """Inside an open unit of work: expire what is due for one member; the points expired. With
    `skip_locked` (the job), a member whose row another transaction holds is left for later."""
    if not await lock_members(uow, [member_id], skip_locked=skip_locked):
        return 0
    lots = await uow.lots.expired(member_id, now)
    points = sum(lot.remaining for lot in lots)
    if not points:
        return 0
    expiration_id = await uow.lots.add_expiration(member_id, points, now)
    entry_id = await post_entry(
        uow,
        transfer(
            kind=EntryKind.EXPIRE,
            member_id=member_id,
            origin_type=OriginType.EXPIRATION,
            origin_id=expiration_id,
            source=Account.available(member_id),
            destination=Account(AccountKind.EXPIRY),
            points=points,
            description=f"Expired (valid until {max(lot.expires_at for lot in lots):%Y-%m-%d})",
        ),
        now,
    )
    await uow.lots.consume(entry_id, member_id, [LotDraw(lot.id, lot.remaining) for lot in lots], now)
    await uow.outbox.add(
        events.points_expired(member_id=member_id, expiration_id=expiration_id, points=points, at=now)
    )
    return points


async def run_expiry(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> ExpiryRun:
    """Expire every member's due lots, one member per transaction; safe to run twice at once."""
    now = clock.now()
    members = points = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            batch = await uow.lots.members_with_expired(now, after, BATCH)
        if not batch:
            return ExpiryRun(members, points)
        for member_id in batch:
            async with (uow := uow_factory()):
                expired = await expire_member_lots(uow, member_id, now, skip_locked=True)
                await uow.commit()
            if expired:
                members += 1
                points += expired
        after = batch[-1]
        if progress is not None:
            progress(members)
