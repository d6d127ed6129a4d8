"""An admin adds or removes points with a reason; audited with the balance before and after."""

from __future__ import annotations

from dataclasses import asdict

from domain import events, validation
from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import Clock
from domain.commands import AdjustPoints
from domain.errors import Validation
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import NewLot, draw_from_lots
from domain.money import MAX_INT
from domain.ports import UnitOfWork
from domain.results import AdjustmentResult
from domain.services.common import existing_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once
from domain.services.posting import post_entry


async def adjust_points(
    cmd: AdjustPoints, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> AdjustmentResult:
    require_role(actor, Role.ADMIN)
    if cmd.points == 0 or abs(cmd.points) > MAX_INT:
        raise Validation(f"must be a non-zero number of points between -{MAX_INT} and {MAX_INT}", ("points",))
    note = validation.optional_text(cmd.note, ("note",), max_length=500)
    now = clock.now()

    async def work() -> AdjustmentResult:
        # Locked members may still be adjusted: reversing fraud on a locked account is the usual case.
        member = await existing_member(uow, cmd.member_id)
        if cmd.points < 0:
            await expire_member_lots(uow, member.id, now)  # an expired point is never taken back as live
        before = await uow.ledger.balance(member.id)
        adjustment = await uow.adjustments.add(
            member_id=member.id,
            points=cmd.points,
            reason_code=cmd.reason_code,
            note=note,
            actor=actor.subject,
            at=now,
        )
        counter = Account(AccountKind.ADJUSTMENT)
        wallet = Account.available(member.id)
        credit = cmd.points > 0
        lot = None
        if credit:
            programme = await uow.programme.get()
            lot = NewLot(member.id, cmd.points, now, programme.expiry_for(now))
        entry_id = await post_entry(
            uow,
            transfer(
                kind=EntryKind.ADJUST,
                member_id=member.id,
                origin_type=OriginType.ADJUSTMENT,
                origin_id=adjustment.id,
                source=counter if credit else wallet,
                destination=wallet if credit else counter,
                points=abs(cmd.points),
                description=f"Adjustment: {cmd.reason_code.value.lower().replace('_', ' ')}",
            ),
            now,
            lot,
        )
        if not credit:
            draws = draw_from_lots(await uow.lots.spendable(member.id), -cmd.points)
            await uow.lots.consume(entry_id, member.id, draws, now)
        after = await uow.ledger.balance(member.id)
        await uow.outbox.add(
            events.points_adjusted(
                member_id=member.id, adjustment_id=adjustment.id, points=cmd.points, at=now
            )
        )
        await uow.audit.record(
            AuditEvent(
                actor=actor.subject,
                action="adjustPoints",
                target_type="Member",
                target_id=member.id,
                before=asdict(before) if before else None,
                after={**(asdict(after) if after else {}), "reasonCode": cmd.reason_code.value, "note": note},
                request_id=actor.request_id,
                at=now,
            )
        )
        return AdjustmentResult.of(adjustment, member, after)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=AdjustmentResult, work=work)
