"""Points a member gives another (family pooling): both sides in one transaction, within the
programme's monthly limit; the receiver's new lots keep the expiry dates of the points given."""

from __future__ import annotations

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import TransferPoints
from domain.errors import LimitReached, MemberLocked, NotFound, Validation
from domain.ledger import Account, EntryKind, JournalEntry, OriginType, Posting
from domain.lots import NewLot, draw_from_lots
from domain.members import MemberStatus
from domain.ports import UnitOfWork
from domain.results import TransferResult
from domain.risk import Movement, MovementKind
from domain.services.common import active_member, require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry
from domain.services.risk import refuse_risky_transfer


async def transfer_points(
    cmd: TransferPoints, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> TransferResult:
    require_role(actor, Role.MEMBER)
    if actor.member_id is None:
        raise NotFound("the token names no member")
    sender_id = actor.member_id
    validation.positive_int(cmd.points, ("points",))
    if (cmd.to_referral_code is None) == (cmd.to_external_ref is None):
        raise Validation("name the receiver by toReferralCode or by toExternalRef", ("toReferralCode",))
    if cmd.to_referral_code is not None:
        field = "toReferralCode"
        receiver_key = validation.text(cmd.to_referral_code, (field,), max_length=16).upper()
    else:
        field = "toExternalRef"
        receiver_key = validation.text(cmd.to_external_ref or "", (field,), max_length=64)
    now = clock.now()

    async def work() -> TransferResult:
        sender = await active_member(uow, sender_id)
        if field == "toReferralCode":
            receiver = await uow.members.get_by_referral_code(receiver_key)
        else:
            receiver = await uow.members.get_by_external_ref(receiver_key)
        if receiver is None:
            raise NotFound("no such member", (field,))
        if receiver.id == sender.id:
            raise Validation("points cannot be given to oneself", (field,))
        if receiver.status is not MemberStatus.ACTIVE:
            raise MemberLocked("the receiving member cannot take points", (field,))
        # Both balance rows, in id order: opposite transfers wait for each other, never deadlock.
        await lock_members(uow, [sender.id, receiver.id])
        await expire_member_lots(uow, sender.id, now)
        programme = await uow.programme.get()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        await refuse_risky_transfer(
            uow, sender.id, Movement(MovementKind.TRANSFER, receiver.id, cmd.points, now)
        )
        given = await uow.transfers.given_since(sender.id, month_start)
        if given + cmd.points > programme.transfer_limit_per_month:
            left = max(0, programme.transfer_limit_per_month - given)
            raise LimitReached(f"{left} points can still be given this month", ("points",))
        transfer_id = await uow.transfers.add(sender.id, receiver.id, cmd.points, now)
        lots = await uow.lots.spendable(sender.id)
        draws = draw_from_lots(lots, cmd.points)
        expiry = {lot.id: lot.expires_at for lot in lots}
        entry_id = await post_entry(
            uow,
            JournalEntry(
                kind=EntryKind.TRANSFER,
                member_id=sender.id,
                origin_type=OriginType.TRANSFER,
                origin_id=transfer_id,
                description=f"Transfer from member {sender.referral_code} to member {receiver.referral_code}",
                postings=(
                    Posting(Account.available(sender.id), -cmd.points),
                    Posting(Account.available(receiver.id), cmd.points),
                ),
            ),
            now,
            [NewLot(receiver.id, draw.points, now, expiry[draw.lot_id]) for draw in draws],
        )
        await uow.lots.consume(entry_id, sender.id, draws, now)
        await uow.outbox.add(
            *(
                events.points_transferred(
                    member_id=side,
                    transfer_id=transfer_id,
                    sender_id=sender.id,
                    recipient_id=receiver.id,
                    points=cmd.points,
                    at=now,
                )
                for side in (sender.id, receiver.id)
            )
        )
        if sender.dormant_since is not None:
            await uow.outbox.add(
                events.member_woken(member_id=sender.id, dormant_since=sender.dormant_since, at=now)
            )
        return TransferResult(transfer_id, sender.id, receiver.id, cmd.points)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=TransferResult, work=work)
