"""A redeemed reward's fulfilment: REQUESTED until an admin marks it FULFILLED (handed over) or
CANCELLED (the points come back, the unit goes back to stock). Each happens once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import CancelRedemption, FulfilRedemption
from domain.errors import AlreadyFinalized, NotFound, Validation
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import NewLot, earliest_expiry
from domain.ports import UnitOfWork
from domain.results import RedemptionResult
from domain.rewards import Redemption, RedemptionKind, RedemptionStatus
from domain.services.admin import audit_event
from domain.services.common import active_member, require_role
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry
from domain.vouchers import VoucherStatus


async def _reward_redemption(uow: UnitOfWork, actor: Actor, redemption_id: int) -> Redemption:
    redemption = await uow.redemptions.get(redemption_id)
    if redemption is None or (actor.role is Role.MEMBER and redemption.member_id != actor.member_id):
        raise NotFound("no such redemption", ("redemptionId",))
    if redemption.kind is not RedemptionKind.REWARD:
        raise Validation("a POS redemption is captured or voided by its merchant", ("redemptionId",))
    return redemption


def _not_requested(redemption: Redemption) -> AlreadyFinalized:
    return AlreadyFinalized(
        f"this redemption is already {redemption.status.value.lower()}", ("redemptionId",)
    )


async def fulfil_redemption(
    cmd: FulfilRedemption, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Redemption:
    """No points move: the status change alone, conditional on REQUESTED, so it races a cancel safely."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        redemption = await _reward_redemption(uow, actor, cmd.redemption_id)
        if redemption.status is not RedemptionStatus.REQUESTED:
            raise _not_requested(redemption)
        if not await uow.redemptions.finish(
            redemption.id,
            from_status=RedemptionStatus.REQUESTED,
            to_status=RedemptionStatus.FULFILLED,
            at=now,
        ):
            raise AlreadyFinalized("this redemption was resolved meanwhile", ("redemptionId",))
        await uow.vouchers.settle(redemption.id, VoucherStatus.VOID, now)  # handed over without it
        fulfilled = replace(redemption, status=RedemptionStatus.FULFILLED, finalized_at=now)
        await uow.outbox.add(
            events.redemption_fulfilled(
                member_id=redemption.member_id,
                redemption_id=redemption.id,
                reward_id=redemption.reward_id,
                at=now,
            )
        )
        await uow.audit.record(
            audit_event(actor, "fulfilRedemption", "Redemption", redemption.id, redemption, fulfilled, now)
        )
        await uow.commit()
    return fulfilled


async def give_back(
    uow: UnitOfWork, redemption: Redemption, now: datetime, why: str
) -> tuple[Redemption, int]:
    """Inside an open unit of work, with the member's balance row locked: cancel a REQUESTED reward
    redemption. The points come back with a RETURN entry (taking them off lifetime redeemed) into
    one new lot that expires when the soonest-expiring lot they were paid from did, and one unit goes
    back to stock. The cancelled redemption and the points given back."""
    points = redemption.points - redemption.points_returned
    if not await uow.redemptions.finish(
        redemption.id,
        from_status=RedemptionStatus.REQUESTED,
        to_status=RedemptionStatus.CANCELLED,
        at=now,
        points_returned=points,
    ):
        raise AlreadyFinalized("this redemption was resolved meanwhile", ("redemptionId",))
    drawn = await uow.lots.drawn_by(OriginType.REDEMPTION, redemption.id, EntryKind.REDEEM)
    expires_at = earliest_expiry(drawn) or (await uow.programme.get()).expiry_for(now)
    reward = await uow.rewards.get(redemption.reward_id) if redemption.reward_id is not None else None
    member_id = redemption.member_id
    if points:
        await post_entry(
            uow,
            transfer(
                kind=EntryKind.RETURN,
                member_id=member_id,
                origin_type=OriginType.REDEMPTION,
                origin_id=redemption.id,
                source=Account(AccountKind.REDEMPTION),
                destination=Account.available(member_id),
                points=points,
                description=f"Returned: {reward.name if reward else 'reward'} {why}",
            ),
            now,
            NewLot(member_id, points, now, expires_at),
        )
    if reward is not None:
        await uow.rewards.give_back_one(reward.id)
    cancelled = replace(
        redemption,
        status=RedemptionStatus.CANCELLED,
        points_returned=redemption.points_returned + points,
        finalized_at=now,
    )
    await uow.outbox.add(
        events.redemption_cancelled(
            member_id=member_id,
            redemption_id=redemption.id,
            reward_id=redemption.reward_id,
            points_returned=points,
            at=now,
        )
    )
    return cancelled, points


async def cancel_redemption(
    cmd: CancelRedemption, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedemptionResult:
    """An admin, or the member itself, cancels a reward not yet fulfilled (`give_back`); its voucher
    becomes VOID."""
    require_role(actor, Role.ADMIN, Role.MEMBER)
    reason = validation.text(cmd.reason, ("reason",), max_length=500)
    now = clock.now()

    async def work() -> RedemptionResult:
        redemption = await _reward_redemption(uow, actor, cmd.redemption_id)
        if actor.role is Role.MEMBER:
            await active_member(uow, redemption.member_id)
        await lock_members(uow, [redemption.member_id])
        redemption = await _reward_redemption(uow, actor, cmd.redemption_id)
        if redemption.status is not RedemptionStatus.REQUESTED:
            raise _not_requested(redemption)
        cancelled, points = await give_back(uow, redemption, now, "cancelled")
        await uow.vouchers.settle(redemption.id, VoucherStatus.VOID, now)
        event = audit_event(
            actor, "cancelRedemption", "Redemption", redemption.id, redemption, cancelled, now
        )
        await uow.audit.record(replace(event, after={**(event.after or {}), "reason": reason}))
        return RedemptionResult.of(cancelled, points)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedemptionResult, work=work)
