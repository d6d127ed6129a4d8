"""A merchant redeems a voucher (the reward is handed over), and the job that expires vouchers not
used in time: their redemptions are cancelled and the points and the unit of stock come back.

Both lock the member's balance row first, then move the redemption on from REQUESTED and the
voucher on from ACTIVE with conditional UPDATEs, so a voucher is used, expired or voided once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from domain import events, vouchers
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import AlreadyFinalized, DomainError, Expired, Forbidden, InvalidCode, UnknownCode
from domain.ports import UnitOfWork
from domain.rewards import RedemptionStatus
from domain.services.admin import audit_event
from domain.services.common import require_role
from domain.services.fulfilment import give_back
from domain.services.idempotency import run_once
from domain.services.posting import lock_members
from domain.vouchers import Voucher, VoucherResult, VoucherStatus

BATCH = 500


@dataclass(frozen=True, slots=True)
class RedeemVoucher:
    code: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class VoucherExpiryRun:
    vouchers: int
    points: int


def _unknown() -> UnknownCode:
    return UnknownCode("no voucher has this code", ("code",))


def _refusal(voucher: Voucher, now: datetime) -> DomainError | None:
    if voucher.status is VoucherStatus.USED:
        return AlreadyFinalized("this voucher was already used", ("code",))
    if voucher.status is VoucherStatus.VOID:
        return AlreadyFinalized("this voucher is void: its redemption was cancelled or fulfilled", ("code",))
    if voucher.shown_status(now) is VoucherStatus.EXPIRED:
        return Expired(f"this voucher expired at {voucher.expires_at:%Y-%m-%d %H:%M} UTC", ("code",))
    return None


async def redeem_voucher(cmd: RedeemVoucher, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> VoucherResult:
    """A MERCHANT presents a member's voucher: the voucher is USED and its redemption FULFILLED.
    Rewards name no merchant, so any merchant may redeem any voucher. A code that matches no voucher
    is a wrong guess (the API counts it toward the caller's lockout); a used, void or expired one is
    refused with its reason, since only its member or a merchant it was shown to can know it."""
    require_role(actor, Role.MERCHANT)
    merchant_id = actor.merchant_id
    if merchant_id is None:
        raise Forbidden("the token names no merchant")
    if len(cmd.code) > vouchers.MAX_INPUT or not vouchers.well_formed(cmd.code):
        raise InvalidCode("not a voucher code", ("code",))
    code_hash = vouchers.code_hash(cmd.code)
    now = clock.now()

    async def work() -> VoucherResult:
        found = await uow.vouchers.by_code(code_hash)
        if found is None:
            raise _unknown()
        await lock_members(uow, [found.member_id])  # then the redemption and the voucher rows
        voucher = await uow.vouchers.by_code(code_hash)
        assert voucher is not None, "vouchers are never deleted"
        refusal = _refusal(voucher, now)
        if refusal is not None:
            raise refusal
        redemption = await uow.redemptions.get(voucher.redemption_id)
        assert redemption is not None, "a voucher's redemption exists"
        if not await uow.redemptions.finish(
            redemption.id,
            from_status=RedemptionStatus.REQUESTED,
            to_status=RedemptionStatus.FULFILLED,
            at=now,
        ) or not await uow.vouchers.settle(redemption.id, VoucherStatus.USED, now, merchant_id):
            raise AlreadyFinalized("this voucher was resolved meanwhile", ("code",))
        fulfilled = replace(redemption, status=RedemptionStatus.FULFILLED, finalized_at=now)
        await uow.audit.record(
            audit_event(actor, "redeemVoucher", "Redemption", redemption.id, redemption, fulfilled, now)
        )
        used = replace(voucher, status=VoucherStatus.USED, used_at=now, merchant_id=merchant_id)
        await uow.outbox.add(
            events.redemption_fulfilled(
                member_id=redemption.member_id,
                redemption_id=redemption.id,
                reward_id=redemption.reward_id,
                at=now,
            )
        )
        return VoucherResult.of(used, redemption.reward_id)

    # The code as normalised: a retry typed in other case or with dashes is the same request.
    keyed = replace(cmd, code=vouchers.normalize(cmd.code))
    return await run_once(keyed, actor=actor, uow=uow, clock=clock, result_type=VoucherResult, work=work)


async def expire_voucher(uow: UnitOfWork, redemption_id: int, member_id: int, now: datetime) -> int | None:
    """Inside an open unit of work: if the redemption's voucher is still ACTIVE past its date, cancel
    the redemption (`give_back`: its points and unit of stock come back) and mark the voucher
    EXPIRED; the points given back, or None when nothing was due. A member whose row another
    transaction holds is left for the next run."""
    if not await lock_members(uow, [member_id], skip_locked=True):
        return None
    voucher = await uow.vouchers.for_redemption(redemption_id)
    redemption = await uow.redemptions.get(redemption_id)
    if voucher is None or redemption is None or voucher.status is not VoucherStatus.ACTIVE:
        return None
    if voucher.shown_status(now) is not VoucherStatus.EXPIRED:
        return None
    points = 0
    if redemption.status is RedemptionStatus.REQUESTED:
        _, points = await give_back(uow, redemption, now, "voucher expired")
    await uow.vouchers.settle(redemption_id, VoucherStatus.EXPIRED, now)
    return points


async def run_voucher_expiry(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> VoucherExpiryRun:
    """Expire every voucher past its date, one per transaction; safe to run twice at once."""
    now = clock.now()
    count = points = 0
    after = 0
    while True:
        async with (uow := uow_factory()):
            batch = await uow.vouchers.due(now, after, BATCH)
        if not batch:
            return VoucherExpiryRun(count, points)
        for redemption_id, member_id in batch:
            async with (uow := uow_factory()):
                given = await expire_voucher(uow, redemption_id, member_id, now)
                await uow.commit()
            if given is not None:
                count += 1
                points += given
        after = batch[-1][0]
        if progress is not None:
            progress(count)
