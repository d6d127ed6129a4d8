"""Purchases posted by merchants earn points (base earn; rules and offers build on this)."""

from __future__ import annotations

from datetime import timedelta

from domain import validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import PostPurchase
from domain.errors import NotFound, Validation
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import NewLot
from domain.merchants import Channel, MerchantChannel
from domain.money import MAX_INT
from domain.ports import UnitOfWork
from domain.results import PurchaseResult
from domain.services.common import active_member, require_role
from domain.services.idempotency import run_once

# Clocks drift between a POS and us; a purchase further in the future than this is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)


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
    if cmd.occurred_at is not None and cmd.occurred_at.tzinfo is None:
        raise Validation("needs a time zone offset", ("occurredAt",))
    occurred_at = cmd.occurred_at or now
    if occurred_at > now + FUTURE_TOLERANCE:
        raise Validation("a purchase cannot happen in the future", ("occurredAt",))

    async def work() -> PurchaseResult:
        member = await active_member(uow, cmd.member_id)
        programme = await uow.programme.get()
        amount = validation.money(cmd.amount, ("amount",), programme.currencies)
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("the token's merchant does not exist")
        channel = cmd.channel or (
            Channel.ONLINE if merchant.channel is MerchantChannel.ONLINE else Channel.OFFLINE
        )
        if not merchant.accepts(channel):
            raise Validation(f"this merchant does not sell {channel.value.lower()}", ("channel",))
        points = programme.base_points(amount, merchant)
        if points > MAX_INT:
            raise Validation("this amount earns more points than one purchase may", ("amount", "amountMinor"))

        purchase = await uow.purchases.add(
            member_id=member.id,
            merchant_id=merchant.id,
            amount=amount,
            channel=channel,
            occurred_at=occurred_at,
            reference=reference,
            points_earned=points,
            points_pending=0,
            at=now,
        )
        if points:
            await uow.ledger.post(
                transfer(
                    kind=EntryKind.EARN,
                    member_id=member.id,
                    origin_type=OriginType.PURCHASE,
                    origin_id=purchase.id,
                    source=Account(AccountKind.ISSUANCE),
                    destination=Account.available(member.id),
                    points=points,
                    description=f"Earned at {merchant.name}",
                ),
                now,
                NewLot(member.id, points, now, programme.expiry_for(now)),
            )
        return PurchaseResult.of(purchase)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=PurchaseResult, work=work)
