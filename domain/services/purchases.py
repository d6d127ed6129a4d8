"""Purchases posted by merchants earn points (base earn; rules and offers build on this)."""

from __future__ import annotations

from domain import validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import PostPurchase
from domain.earning import earn_entry, earn_lot, earning, purchase_time
from domain.errors import NotFound, Validation
from domain.ports import UnitOfWork
from domain.results import PurchaseResult
from domain.services.common import active_member, require_role
from domain.services.idempotency import run_once


async def post_purchase(cmd: PostPurchase, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> PurchaseResult:
    require_role(actor, Role.MERCHANT)
    merchant_id = actor.merchant_id
    if merchant_id is None:
        raise NotFound("the token names no merchant")
    validation.positive_int(cmd.amount.amount_minor, ("amount", "amountMinor"))
    reference = validation.optional_text(cmd.reference, ("reference",), max_length=100)
    if cmd.coupon_code:
        # Refused rather than ignored: a merchant must not believe a discount was applied.
        raise Validation("this programme has no coupons yet", ("couponCode",))
    now = clock.now()
    occurred_at = purchase_time(cmd.occurred_at, now)

    async def work() -> PurchaseResult:
        member = await active_member(uow, cmd.member_id)
        programme = await uow.programme.get()
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("the token's merchant does not exist")
        earned = earning(programme, merchant, cmd.amount, cmd.channel)
        purchase = await uow.purchases.add(
            member_id=member.id,
            merchant_id=merchant.id,
            amount=earned.amount,
            channel=earned.channel,
            occurred_at=occurred_at,
            reference=reference,
            points_earned=earned.points,
            points_pending=0,
            at=now,
        )
        if earned.points:
            await uow.ledger.post(
                earn_entry(member.id, purchase.id, earned.points, merchant),
                now,
                earn_lot(member.id, earned.points, now, programme),
            )
        return PurchaseResult.of(purchase)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=PurchaseResult, work=work)
