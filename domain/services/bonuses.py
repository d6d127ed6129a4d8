"""Bonuses given outside the member's own purchase: on sign-up, and to a referrer when the member it
referred makes a qualifying purchase. Each is a member award, the origin of its journal entry."""

from __future__ import annotations

from datetime import datetime

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import OpenRedPacket
from domain.earning import bonus_entry, earn_lot
from domain.errors import LimitReached, NotFound, OfferBudgetExhausted, UnknownCode, Validation
from domain.members import Member
from domain.offers import (
    Award,
    BonusReason,
    Offer,
    OfferStatus,
    PurchaseFacts,
    SkipReason,
    Trigger,
    referrer_points,
    sign_up_bonuses,
)
from domain.ports import UnitOfWork
from domain.programme import Programme
from domain.results import RedPacketResult
from domain.services.common import active_member, require_role
from domain.services.idempotency import run_once
from domain.services.offer_claims import claim_award
from domain.services.posting import post_entry

SIGN_UP = BonusReason.SIGN_UP.value
REFERRAL = "REFERRAL"  # rides the referee's purchase, so not a BonusReason
RED_PACKET = BonusReason.RED_PACKET.value


async def give_bonus(
    uow: UnitOfWork,
    member_id: int,
    offer: Offer,
    reason: str,
    points: int,
    purchase_id: int | None,
    description: str,
    programme: Programme,
    now: datetime,
) -> int:
    """Points an offer gives outside its own purchase award, after the caller claimed them against
    its limits: a member award (the origin of the journal entry), posted from the offer's funders
    as a new lot, and told as offer.awarded. The award's id."""
    award_id = await uow.offers.record_member_award(member_id, offer, reason, points, purchase_id, now)
    await post_entry(
        uow,
        bonus_entry(member_id, award_id, points, offer.funding, description),
        now,
        earn_lot(member_id, points, now, programme),
    )
    await uow.outbox.add(
        events.offer_awarded(
            member_id=member_id,
            offer_id=offer.id,
            purchase_id=purchase_id,
            points=points,
            discount_minor=0,
            cashback_minor=0,
            at=now,
        )
    )
    return award_id


async def give_sign_up_bonuses(uow: UnitOfWork, member: Member, programme: Programme, now: datetime) -> int:
    """The live sign-up offers' points to a member just enrolled, each within its limits; the total."""
    offers = [o for o in await uow.offers.live() if o.trigger is Trigger.SIGN_UP]
    if not offers:
        return 0
    usage = await uow.offers.usage([o.id for o in offers], member.id, {})
    given = 0
    for offer in sign_up_bonuses(offers, member, now, usage):
        if await claim_award(uow, offer, member.id, offer.window.starts_at, offer.points, 0, now) is not None:
            continue  # its budget or limit went to a concurrent enrolment
        description = f"Welcome bonus: {offer.name}"
        await give_bonus(uow, member.id, offer, SIGN_UP, offer.points, None, description, programme, now)
        given += offer.points
    return given


async def give_referral_bonuses(
    uow: UnitOfWork,
    facts: PurchaseFacts,
    offers: list[Offer],
    awards: list[Award],
    purchase_id: int,
    programme: Programme,
    now: datetime,
) -> None:
    """The referrer's share of the awards this purchase got (already claimed with them)."""
    referrer_id = facts.member.referred_by
    if referrer_id is None:
        return
    by_id = {o.id: o for o in offers}
    for award in awards:
        offer = by_id[award.offer_id]
        points = referrer_points(offer, facts)
        if not points:
            continue
        description = f"Referral bonus: {facts.member.external_ref}"
        await give_bonus(uow, referrer_id, offer, REFERRAL, points, purchase_id, description, programme, now)


async def open_red_packet(
    cmd: OpenRedPacket, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> RedPacketResult:
    """A member opens a red packet with its code: the offer's points, once per member, within its
    budget, and no more often than the code allows, however many open it at once."""
    require_role(actor, Role.MEMBER)
    if actor.member_id is None:
        raise NotFound("the token names no member")
    code = validation.text(cmd.code, ("code",), max_length=40).upper()
    member_id = actor.member_id
    now = clock.now()

    async def work() -> RedPacketResult:
        member = await active_member(uow, member_id)
        coupon = await uow.offers.coupon(code)
        offer = None if coupon is None else await uow.offers.get(coupon.offer_id)
        if coupon is None or offer is None or offer.trigger is not Trigger.RED_PACKET:
            raise UnknownCode("no such red packet", ("code",))
        if offer.status is not OfferStatus.ACTIVE or not offer.window.contains(now):
            raise Validation("this red packet is not open now", ("code",))
        if coupon.member_id not in (None, member.id):
            raise Validation("this red packet is another member's", ("code",))
        refused = await claim_award(uow, offer, member.id, offer.window.starts_at, offer.points, 0, now)
        if refused is SkipReason.BUDGET_EXHAUSTED:
            raise OfferBudgetExhausted("this red packet's budget is spent", ("code",))
        if refused is not None:
            raise LimitReached("this red packet was already opened as often as it may be", ("code",))
        if not await uow.offers.use_coupon(coupon.id, member.id):
            raise LimitReached("this red packet's code is used up", ("code",))
        programme = await uow.programme.get()
        description = f"Red packet: {offer.name}"
        await give_bonus(uow, member.id, offer, RED_PACKET, offer.points, None, description, programme, now)
        return RedPacketResult(member.id, offer.id, offer.points)

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=RedPacketResult, work=work)
