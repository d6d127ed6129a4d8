"""A merchant refunds one of its purchases, in full or in part, and the points go with the money.

Several refunds of one purchase never give back more than it cost: the refunded total is a
conditional update of the purchase row. The points reversed are in proportion (see domain/refunds.py):
first the purchase's still-pending points, then what is left of its own lots, then the member's other
available points; what the member no longer has becomes a points debt, shown in its balance and repaid
first by its later earnings. The points go back to whoever funded them, and the offers the purchase
used get back their budget in proportion, and their use (the member's cap, the coupon) once the
purchase is fully refunded. A locked or closed member's purchase is refunded too: the merchant gave
the money back whatever the member's status.
"""

from __future__ import annotations

from datetime import datetime

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import RefundPurchase
from domain.errors import NotFound
from domain.ledger import Account, AccountKind, EntryKind, OriginType, transfer
from domain.lots import NewLot, earliest_expiry
from domain.money import Money
from domain.ports import UnitOfWork
from domain.profiles import refund_activity
from domain.refunds import (
    PointsToReverse,
    RefundablePurchase,
    Reversal,
    cumulative_share,
    funders_returns,
    give_back,
    plan_reversal,
    points_to_reverse,
    refund_amount,
    refund_description,
    refund_entry,
)
from domain.results import RefundResult
from domain.risk import ReviewStatus, RiskRefused
from domain.services.common import require_role
from domain.services.expiry import expire_member_lots
from domain.services.idempotency import run_once
from domain.services.posting import lock_members, post_entry


async def refund_purchase(
    cmd: RefundPurchase, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RefundResult:
    require_role(actor, Role.MERCHANT)
    merchant_id = actor.merchant_id
    if merchant_id is None:
        raise NotFound("the token names no merchant")
    if cmd.amount is not None:
        validation.positive_int(cmd.amount.amount_minor, ("amount", "amountMinor"))
    reference = validation.optional_text(cmd.reference, ("reference",), max_length=100)
    now = clock.now()

    async def work() -> RefundResult:
        found = await uow.refunds.purchase(cmd.purchase_id)
        # Another merchant's purchase is not found either: its id tells the caller nothing.
        if found is None or found.merchant_id != merchant_id:
            raise NotFound("no such purchase", ("purchaseId",))
        refund_amount(found, cmd.amount)  # refuse bad input before taking any lock
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("the token's merchant does not exist")
        member_id = found.member_id

        # Locks: the offer counters this refund may give back to (in the order postPurchase claims
        # them, see lock_offer_counters), then the member's balance row, then the purchase row. The
        # member's row serializes the purchase's refunds and its maturation, so the purchase read
        # under it is current.
        await uow.refunds.lock_offer_counters(found)
        await lock_members(uow, [member_id])
        purchase = await uow.refunds.purchase(found.id)
        assert purchase is not None
        amount = refund_amount(purchase, cmd.amount)
        review = await uow.risk.review_of_purchase(purchase.id) if purchase.points_earned else None
        if review is not None and review.status is ReviewStatus.OPEN:
            refused = RiskRefused(
                "the purchase's points are under risk review: an admin approves or rejects them first",
                ("purchaseId",),
            )
            refused.member_id = member_id  # the audit log names whose purchase it was
            raise refused
        if review is not None and review.status is ReviewStatus.REJECTED:
            points = PointsToReverse(0, purchase.points_refunded, 0)  # the rejection took them all back
        else:
            points = points_to_reverse(purchase, amount)
        if not await uow.refunds.take(purchase, amount, points):
            # Whatever changes the purchase row locks the member's row first, so this means a broken
            # invariant: refuse as the conditional update did, or fail loudly.
            refund_amount(await uow.refunds.purchase(found.id) or purchase, cmd.amount)
            raise RuntimeError(f"purchase {purchase.id} changed while its member's balance row was locked")

        refund_id = await uow.refunds.add(purchase=purchase, amount_minor=amount, reference=reference, at=now)
        await _take_off_profile(uow, purchase, amount)
        returned = await return_points_paid(
            uow, purchase, merchant.name, refund_id, purchase.refunded_minor + amount, now
        )
        reversal = Reversal(0, (), 0)
        if points.points:
            await expire_member_lots(uow, member_id, now)  # an expired point is never taken back
            reversal = plan_reversal(
                points.points,
                purchase.points_pending,
                await uow.refunds.own_lots(purchase.id, member_id),
                await uow.lots.spendable(member_id),
            )
            returns = funders_returns(
                await uow.refunds.earn_funding(purchase.id), purchase.points_refunded, points.points_refunded
            )
            description = refund_description(
                merchant.name, Money(amount, purchase.amount.currency), reversal.debt
            )
            entry_id = await post_entry(
                uow, refund_entry(member_id, refund_id, reversal, returns, description), now
            )
            if reversal.draws:
                await uow.lots.consume(entry_id, member_id, reversal.draws, now)
        refund = await uow.refunds.record_points(
            refund_id, points_reversed=points.points, debt_created=reversal.debt, points_returned=returned
        )
        await give_back_to_offers(uow, purchase, purchase.refunded_minor + amount)
        await uow.outbox.add(
            events.points_refunded(
                member_id=member_id,
                refund_id=refund_id,
                purchase_id=purchase.id,
                amount_minor=amount,
                currency=purchase.amount.currency,
                points=points.points,
                debt=reversal.debt,
                at=now,
            )
        )
        return RefundResult.of(refund)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RefundResult, work=work)


async def _take_off_profile(uow: UnitOfWork, purchase: RefundablePurchase, amount: int) -> None:
    """The refunded money comes off the purchase's own day in the member's profile counters."""
    bought = await uow.purchases.get(purchase.id)
    assert bought is not None, "a purchase being refunded exists"
    await uow.profiles.add(
        [
            refund_activity(
                purchase.member_id,
                purchase.merchant_id,
                bought.channel,
                purchase.amount.currency,
                bought.occurred_at,
                amount,
                completes_refund=purchase.refunded_minor + amount == purchase.amount.amount_minor,
            )
        ]
    )


async def give_back_to_offers(uow: UnitOfWork, purchase: RefundablePurchase, refunded_minor: int) -> None:
    """What the purchase took from its offers, given back as the purchase is refunded: budget in
    proportion, and on full refund the use, the member's cap use and the coupon use.

    A referral bonus the purchase earned the member's referrer stays, and stays counted against the
    offer's budget: it rewarded bringing in the member, which the refund does not undo, and the
    referrer's points may long be spent."""
    for award in await uow.refunds.awards(purchase.id):
        back = give_back(award, purchase.amount.amount_minor, refunded_minor)
        if back is not None:
            await uow.refunds.give_back(purchase.member_id, back)
    if refunded_minor == purchase.amount.amount_minor and purchase.coupon_id is not None:
        await uow.refunds.return_coupon_use(purchase.coupon_id)


async def return_points_paid(
    uow: UnitOfWork,
    purchase: RefundablePurchase,
    merchant_name: str,
    refund_id: int,
    refunded_minor: int,
    at: datetime,
) -> int:
    """The points the purchase was paid with (POS holds captured naming it) come back with its money,
    in proportion and cumulatively like everything else a refund gives back: a full refund returns
    them all. Called under the member's lock, before the purchase's own points are reversed, so those
    are taken from the returned points rather than becoming a debt. Each comes back as a RETURN entry
    (off lifetime redeemed) into one lot expiring with the soonest lot the hold drew.

    Returns the points returned, recorded on the refund row."""
    returned = 0
    for redemption in await uow.redemptions.paid_for(purchase.id):
        captured = redemption.captured_points or 0
        points = cumulative_share(captured, refunded_minor, purchase.amount.amount_minor)
        points -= redemption.points_returned
        if points <= 0:
            continue
        if not await uow.redemptions.add_returned(redemption.id, points, redemption.points_returned):
            raise RuntimeError(f"redemption {redemption.id} changed while its member's row was locked")
        drawn = await uow.lots.drawn_by(OriginType.REDEMPTION, redemption.id, EntryKind.HOLD)
        expires_at = earliest_expiry(drawn) or (await uow.programme.get()).expiry_for(at)
        await post_entry(
            uow,
            transfer(
                kind=EntryKind.RETURN,
                member_id=purchase.member_id,
                origin_type=OriginType.REFUND,
                origin_id=refund_id,
                source=Account(AccountKind.REDEMPTION),
                destination=Account.available(purchase.member_id),
                points=points,
                description=f"Returned: points paid at {merchant_name}, refunded",
            ),
            at,
            NewLot(purchase.member_id, points, at, expires_at),
        )
        returned += points
    return returned
