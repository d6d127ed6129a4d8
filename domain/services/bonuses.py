"""Bonuses given outside the member's own purchase: on sign-up, and to a referrer when the member it
referred makes a qualifying purchase. Each is a member award, the origin of its journal entry."""

from __future__ import annotations

from datetime import datetime

from domain.earning import bonus_entry, earn_lot
from domain.members import Member
from domain.offers import Award, Offer, PurchaseFacts, Trigger, referrer_points, sign_up_bonuses
from domain.ports import UnitOfWork
from domain.programme import Programme

SIGN_UP = "SIGN_UP"
REFERRAL = "REFERRAL"


async def give_sign_up_bonuses(uow: UnitOfWork, member: Member, programme: Programme, now: datetime) -> int:
    """The live sign-up offers' points to a member just enrolled, each within its limits; the total."""
    offers = [o for o in await uow.offers.live() if o.trigger is Trigger.SIGN_UP]
    if not offers:
        return 0
    usage = await uow.offers.usage([o.id for o in offers], member.id, {})
    given = 0
    for offer in sign_up_bonuses(offers, member, now, usage):
        if await uow.offers.claim(offer, member.id, offer.window.starts_at, offer.points, 0) is not None:
            continue  # its budget or limit went to a concurrent enrolment
        award_id = await uow.offers.record_member_award(member.id, offer, SIGN_UP, offer.points, None, now)
        await uow.ledger.post(
            bonus_entry(member.id, award_id, offer.points, offer.funding, f"Welcome bonus: {offer.name}"),
            now,
            earn_lot(member.id, offer.points, now, programme),
        )
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
        award_id = await uow.offers.record_member_award(
            referrer_id, offer, REFERRAL, points, purchase_id, now
        )
        await uow.ledger.post(
            bonus_entry(
                referrer_id, award_id, points, offer.funding, f"Referral bonus: {facts.member.external_ref}"
            ),
            now,
            earn_lot(referrer_id, points, now, programme),
        )
