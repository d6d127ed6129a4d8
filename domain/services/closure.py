"""A member closes its own account; what becomes of its points is the programme's closure policy.

- FORFEIT: the available points go to the expiry (breakage) account at once, through the one
  posting path, as one EXPIRE entry that draws every lot to zero.
- KEEP: the points stay for `closure_grace_days`. Within that time an admin may reopen the account
  (`reopen_member`), points and all; when it ends the forfeiture job forfeits them as FORFEIT would.

Closing is refused while anything is still in flight, so no point is left where a closed member
could not reach it: points pending in a return window or under risk review, points held at a POS,
and rewards redeemed but not yet handed over (the member uses or cancels their vouchers first). A
points debt does not block it: it stays on the ledger as owed. A closed account earns and spends
nothing (every use case wants an ACTIVE member).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain import validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import Forbidden, Validation
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import LotDraw
from domain.members import Member, MemberStatus
from domain.ports import UnitOfWork
from domain.programme import ClosurePolicy
from domain.services.admin import audit_event
from domain.services.common import active_member, existing_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry

BATCH = 500
CLOSED_REASON = "closed by the member"


@dataclass(frozen=True, slots=True)
class CloseMyAccount:
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class ReopenMember:
    member_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ClosureResult:
    """closeMyAccount's answer, stored under its idempotency key: times as ISO 8601 text."""

    member_id: int
    closed_at: str
    points_forfeited: int  # at once (FORFEIT); 0 under KEEP
    points_forfeit_at: str | None  # when the kept points will be forfeited (KEEP)


@dataclass(frozen=True, slots=True)
class ForfeitureRun:
    members: int
    points: int


async def forfeit_points(uow: UnitOfWork, member_id: int, now: datetime) -> int:
    """Inside an open unit of work, with the member's balance row locked and its expired lots
    expired: every point left in its lots goes to the expiry account; the points forfeited."""
    lots = await uow.lots.spendable(member_id)
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
            description="Forfeited: account closed",
        ),
        now,
    )
    await uow.lots.consume(entry_id, member_id, [LotDraw(lot.id, lot.remaining) for lot in lots], now)
    return points


async def close_my_account(
    cmd: CloseMyAccount, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> ClosureResult:
    require_role(actor, Role.MEMBER)
    member_id = actor.member_id
    if member_id is None:
        raise Forbidden("the token names no member")
    now = clock.now()

    async def work() -> ClosureResult:
        member = await active_member(uow, member_id)
        balance = (await lock_members(uow, [member.id]))[member.id]
        in_flight = {
            "pending": balance.pending,
            "held at a merchant": balance.held,
            "under risk review": balance.under_review,
        }
        for what, points in in_flight.items():
            if points:
                raise Validation(f"{points} points are still {what}: close the account once they are settled")
        if await uow.redemptions.open_rewards(member.id):
            raise Validation("a redeemed reward is not handed over yet: use or cancel its voucher first")
        await expire_member_lots(uow, member.id, now)  # expired points expire, they are not forfeited
        programme = await uow.programme.get()
        forfeited, forfeit_at = 0, None
        if programme.closure_policy is ClosurePolicy.FORFEIT:
            forfeited = await forfeit_points(uow, member.id, now)
        else:
            forfeit_at = now + timedelta(days=programme.closure_grace_days)
        await uow.members.close(member.id, reason=CLOSED_REASON, at=now, points_forfeit_at=forfeit_at)
        closed = replace(
            member,
            status=MemberStatus.CLOSED,
            status_reason=CLOSED_REASON,
            closed_at=now,
            points_forfeit_at=forfeit_at,
        )
        await uow.audit.record(audit_event(actor, "closeMyAccount", "Member", member.id, member, closed, now))
        return ClosureResult(
            member.id, now.isoformat(), forfeited, None if forfeit_at is None else forfeit_at.isoformat()
        )

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=ClosureResult, work=work)


async def reopen_member(cmd: ReopenMember, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    """An ADMIN reopens a closed account while its points still wait (KEEP policy, within the grace):
    ACTIVE again with every point it had. Once they were forfeited, or under FORFEIT, it stays closed."""
    require_role(actor, Role.ADMIN)
    reason = validation.text(cmd.reason, ("reason",), max_length=500)
    now = clock.now()
    async with uow:
        member = await existing_member(uow, cmd.member_id)
        await lock_members(uow, [member.id])  # the forfeiture job cannot run between check and change
        member = await existing_member(uow, cmd.member_id)
        if member.status is not MemberStatus.CLOSED:
            raise Validation(f"the member is {member.status.value.lower()}, not closed", ("memberId",))
        if member.points_forfeit_at is None or member.points_forfeit_at <= now:
            raise Validation("the account's grace period is over: it stays closed", ("memberId",))
        await uow.members.reopen(member.id, reason)
        reopened = replace(
            member, status=MemberStatus.ACTIVE, status_reason=reason, closed_at=None, points_forfeit_at=None
        )
        await uow.audit.record(audit_event(actor, "reopenMember", "Member", member.id, member, reopened, now))
        await uow.commit()
    return reopened


async def forfeit_closed(uow: UnitOfWork, member_id: int, now: datetime) -> int | None:
    """Inside an open unit of work: forfeit a closed member's points if their wait has ended; the
    points, or None when nothing was due (or the member's row is busy: the next run takes it)."""
    if not await lock_members(uow, [member_id], skip_locked=True):
        return None
    member = await uow.members.get(member_id)
    if member is None or member.status is not MemberStatus.CLOSED:
        return None
    if member.points_forfeit_at is None or member.points_forfeit_at > now:
        return None
    await expire_member_lots(uow, member_id, now)
    points = await forfeit_points(uow, member_id, now)
    await uow.members.points_forfeited(member_id)
    return points


async def run_closure_forfeiture(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> ForfeitureRun:
    """Forfeit the points of every closed member whose grace has ended, one member per transaction;
    safe to run twice at once."""
    now = clock.now()
    members = points = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            batch = await uow.members.forfeit_due(now, after, BATCH)
        if not batch:
            return ForfeitureRun(members, points)
        for member_id in batch:
            async with (uow := uow_factory()):
                forfeited = await forfeit_closed(uow, member_id, now)
                await uow.commit()
            if forfeited is not None:
                members += 1
                points += forfeited
        after = batch[-1]
        if progress is not None:
            progress(members)
