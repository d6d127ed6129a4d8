"""Offers: created and paused by admins (audited), shown to members, and tried on a basket."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain import events, validation
from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import Clock
from domain.errors import AlreadyExists, LimitReached, NotFound, UnknownCode, Validation
from domain.experiments.arms import check_experiment, with_variant
from domain.experiments.model import Experiment
from domain.offers import (
    CapPeriod,
    Coupon,
    FunderKind,
    Mechanic,
    Offer,
    OfferStatus,
    Trigger,
)
from domain.ports import UnitOfWork
from domain.programme import Programme
from domain.segments import SegmentStatus
from domain.services.admin import audit_event
from domain.services.common import existing_member, require_role
from domain.services.posting import lock_members

MAX_FUNDERS = 5


async def set_offer_experiment(
    offer_id: int,
    experiment: Experiment | None,
    *,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
) -> Offer:
    """Give an offer an experiment (variants and a holdout), change it, or end it (None): a new
    version of the offer, audited like any edit. New arms (keys, weights or holdout) start a new
    experiment, whose id is that version; changing only parameters, messages or the margin keeps
    the experiment and every member's arm."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        current = await uow.offers.get(offer_id)
        if current is None:
            raise NotFound("no such offer", ("offerId",))
        if current.status is OfferStatus.ARCHIVED:
            raise Validation("an archived offer cannot be changed", ("offerId",))
        if experiment is not None:
            experiment = checked_experiment(current, experiment, await uow.programme.get())
            running = current.experiment
            if running is not None and running.same_arms(experiment):
                experiment = replace(experiment, id=running.id, started_at=running.started_at)
            else:
                experiment = replace(experiment, id=current.version + 1, started_at=now)
        stored = await uow.offers.update(replace(current, experiment=experiment), now)
        await uow.audit.record(
            audit_event(actor, "setOfferExperiment", "Offer", offer_id, current, stored, now)
        )
        await uow.commit()
    return stored


def checked_experiment(offer: Offer, experiment: Experiment, programme: Programme) -> Experiment:
    """The experiment's own checks, then each variant's offer through the offer's checks."""
    checked = check_experiment(offer, experiment)
    for i, variant in enumerate(checked.variants):
        try:
            _checked(with_variant(offer, variant), programme)
        except Validation as error:
            raise Validation(error.message, ("variants", str(i), *(error.field or ()))) from error
    return checked


async def create_offer(offer: Offer, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Offer:
    """Store a new offer after checking every part of it; unknown merchants or partners are refused."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        checked = await _checked_against_catalogue(uow, offer)
        stored = await uow.offers.add(checked, now)
        await uow.audit.record(audit_event(actor, "createOffer", "Offer", stored.id, None, stored, now))
        await uow.commit()
    return stored


async def _checked_against_catalogue(uow: UnitOfWork, offer: Offer) -> Offer:
    """The offer checked, with every merchant and partner brand it names known to exist."""
    programme = await uow.programme.get()
    checked = _checked(offer, programme)
    for merchant_id in sorted(checked.eligibility.merchant_ids):
        if await uow.merchants.get(merchant_id) is None:
            raise NotFound(f"no merchant {merchant_id}", ("merchantIds",))
    for partner_id in sorted(checked.eligibility.partner_ids):
        if await uow.partners.get(partner_id) is None:
            raise NotFound(f"no partner brand {partner_id}", ("partnerIds",))
    if checked.eligibility.tier_ids is not None:
        known = {tier.id for tier in await uow.tiers.ladder()}
        unknown = sorted(checked.eligibility.tier_ids - known)
        if unknown:
            raise NotFound(f"no tier {unknown[0]}", ("tierIds",))
    for segment_id in sorted(checked.eligibility.segment_ids or ()):
        segment = await uow.segments.get(segment_id)
        if segment is None:
            raise NotFound(f"no segment {segment_id}", ("segmentIds",))
        if segment.status is not SegmentStatus.ACTIVE:
            raise Validation(f"segment {segment_id} is archived", ("segmentIds",))
    for share in checked.funding:
        if share.kind is FunderKind.MERCHANT and await uow.merchants.get(share.funder_id or 0) is None:
            raise NotFound(f"no merchant {share.funder_id}", ("funding", "funderId"))
        if share.kind is FunderKind.PARTNER and await uow.partners.get(share.funder_id or 0) is None:
            raise NotFound(f"no partner brand {share.funder_id}", ("funding", "funderId"))
    return checked


async def update_offer(offer: Offer, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Offer:
    """Replace an offer's definition with a new version. Purchases already made keep what they got,
    and the usage so far still counts against the new limits, which may not go below it."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        current = await uow.offers.get(offer.id)
        if current is None:
            raise NotFound("no such offer", ("offerId",))
        if current.status is OfferStatus.ARCHIVED:
            raise Validation("an archived offer cannot be changed", ("offerId",))
        checked = replace(await _checked_against_catalogue(uow, offer), status=current.status)
        if current.experiment is not None:  # the experiment stays; its variants must fit the new terms
            programme = await uow.programme.get()
            checked = replace(checked, experiment=checked_experiment(checked, current.experiment, programme))
        used = await uow.offers.usage_of(offer.id)
        limits = checked.limits
        if limits.budget_points is not None and limits.budget_points < used.points:
            raise Validation(f"{used.points} points are already given", ("limits", "budgetPoints"))
        if limits.budget_money is not None and limits.budget_money.amount_minor < used.money_minor:
            raise Validation("the money already given is more than that", ("limits", "budgetMoney"))
        if limits.max_uses is not None and limits.max_uses < used.uses:
            raise Validation(f"it was already used {used.uses} times", ("limits", "maxUses"))
        stored = await uow.offers.update(checked, now)
        await uow.audit.record(audit_event(actor, "updateOffer", "Offer", offer.id, current, stored, now))
        await uow.commit()
    return stored


# Crockford-style: no 0/O or 1/I/L to misread at a till. 12 characters: about 59 bits.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_COUPONS_AT_ONCE = 10_000


def new_coupon_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


async def generate_coupons(
    offer_id: int,
    *,
    count: int | None,
    shared_code: str | None,
    max_uses: int | None,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
) -> list[Coupon]:
    """`count` unguessable single-use codes, or one `shared_code` usable `max_uses` times."""
    require_role(actor, Role.ADMIN)
    if (count is None) == (shared_code is None):
        raise Validation("give either count or sharedCode", ("count",))
    if count is not None:
        validation.positive_int(count, ("count",))
        if count > MAX_COUPONS_AT_ONCE:
            raise Validation(f"at most {MAX_COUPONS_AT_ONCE} at once", ("count",))
        codes, uses = [new_coupon_code() for _ in range(count)], 1
    else:
        code = validation.text(shared_code or "", ("sharedCode",), max_length=40).upper()
        if any(c.isspace() for c in code):
            raise Validation("no spaces", ("sharedCode",))
        validation.positive_int(max_uses or 0, ("maxUses",))
        codes, uses = [code], max_uses or 0
    now = clock.now()
    async with uow:
        offer = await uow.offers.get(offer_id)
        if offer is None:
            raise NotFound("no such offer", ("offerId",))
        if not offer.requires_coupon and offer.trigger is not Trigger.RED_PACKET:
            raise Validation("this offer does not take coupons", ("offerId",))
        if shared_code is not None and await uow.offers.coupon(codes[0]) is not None:
            raise AlreadyExists("this code is taken", ("sharedCode",))
        made = await uow.offers.add_coupons(offer_id, codes, uses, now)
        await uow.outbox.add(
            events.coupon_issued(member_id=None, offer_id=offer_id, coupon_ids=[c.id for c in made], at=now)
        )
        await uow.audit.record(
            AuditEvent(
                actor.subject,
                "generateCoupons",
                "Offer",
                offer_id,
                None,
                {"coupons": len(made)},
                actor.request_id,
                now,
            )
        )
        await uow.commit()
    return made


async def claim_coupon(code: str, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Coupon:
    """A member puts a single-use coupon in its wallet; nobody else can then use it."""
    require_role(actor, Role.MEMBER)
    if actor.member_id is None:
        raise NotFound("the token names no member")
    code = validation.text(code, ("code",), max_length=40).upper()
    async with uow:
        member = await existing_member(uow, actor.member_id)
        # The member's balance row first (the lock order), so the coupon.issued event takes its place
        # among the member's other events in commit order, as every member event does.
        await lock_members(uow, [member.id])
        claimed = await uow.offers.claim_coupon(code, member.id, clock.now())
        if claimed is None:
            found = await uow.offers.coupon(code)
            if found is None:
                raise UnknownCode("no such coupon", ("code",))
            if found.member_id == member.id:
                return found
            raise LimitReached("this coupon is already claimed or cannot be claimed", ("code",))
        await uow.outbox.add(
            events.coupon_issued(
                member_id=member.id, offer_id=claimed.offer_id, coupon_ids=[claimed.id], at=clock.now()
            )
        )
        await uow.commit()
    return claimed


async def change_offer_status(
    offer_id: int, status: OfferStatus, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Offer:
    """Pause, resume or archive. Archiving is final; nothing a purchase already got changes."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    async with uow:
        offer = await uow.offers.get(offer_id)
        if offer is None:
            raise NotFound("no such offer", ("offerId",))
        if offer.status is OfferStatus.ARCHIVED and status is not OfferStatus.ARCHIVED:
            raise Validation("an archived offer cannot be changed", ("offerId",))
        if offer.status is status:
            return offer
        changed = await set_offer_status(uow, offer, status, actor, now)
        await uow.commit()
    return changed


async def set_offer_status(
    uow: UnitOfWork, offer: Offer, status: OfferStatus, actor: Actor, now: datetime
) -> Offer:
    """Store the offer's new status and audit it, inside the caller's open unit of work (which commits):
    change_offer_status's step, shared with the guards job, which pauses in its own transaction."""
    await uow.offers.set_status(offer.id, status, now)
    changed = replace(offer, status=status)
    await uow.audit.record(
        audit_event(actor, f"{status.value.lower()}Offer", "Offer", offer.id, offer, changed, now)
    )
    return changed


def _checked(offer: Offer, programme: Programme) -> Offer:
    name = validation.text(offer.name, ("name",), max_length=120)
    window = offer.window
    if window.starts_at.tzinfo is None or window.ends_at.tzinfo is None:
        raise Validation("needs a time zone offset", ("startsAt",))
    if window.ends_at <= window.starts_at:
        raise Validation("must be after startsAt", ("endsAt",))
    # IANA names are short; a long one would reach the file system (OSError: name too long).
    validation.text(window.time_zone, ("timeZone",), max_length=64)
    try:
        ZoneInfo(window.time_zone)  # as given: it is stored as given
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise Validation(f"unknown time zone {window.time_zone!r}", ("timeZone",)) from exc
    if any(day not in range(1, 8) for day in window.days_of_week):
        raise Validation("days run from 1 (Monday) to 7 (Sunday)", ("daysOfWeek",))
    if (window.from_hour is None) != (window.to_hour is None):
        raise Validation("give both fromHour and toHour, or neither", ("fromHour",))
    if (
        window.from_hour is not None
        and window.to_hour is not None
        and not 0 <= window.from_hour < window.to_hour <= 24
    ):
        raise Validation("hours must satisfy 0 <= fromHour < toHour <= 24", ("fromHour",))
    _check_mechanic(offer)
    for path, money in (
        (("amount",), offer.amount),
        (("threshold",), offer.threshold),
        (("cap",), offer.cap),
        (("minimumSpend",), offer.eligibility.minimum_spend),
        (("budgetMoney",), offer.limits.budget_money),
    ):
        if money is not None:
            validation.money(money, path, programme.currencies)
            validation.positive_int(money.amount_minor, (*path, "amountMinor"))
    _check_funding(offer)
    limits = offer.limits
    for field, value in (
        ("budgetPoints", limits.budget_points),
        ("maxUses", limits.max_uses),
        ("perMember", limits.per_member),
        ("newMembersWithinDays", offer.eligibility.new_members_within_days),
    ):
        if value is not None:
            validation.positive_int(value, (field,))
    group = validation.optional_text(offer.exclusive_group, ("exclusiveGroup",), max_length=40)
    if offer.referrer_points < 0:
        raise Validation("must not be negative", ("referrerPoints",))
    if offer.trigger is not Trigger.PURCHASE:
        rules = offer.eligibility
        where = (rules.merchant_ids, rules.categories, rules.partner_ids, rules.channels, rules.minimum_spend)
        if offer.mechanic is not Mechanic.BONUS_POINTS or any(where) or rules.first_purchase:
            raise Validation(
                "sign-up offers and red packets give bonus points, with no purchase conditions", ("trigger",)
            )
        if offer.requires_coupon or offer.referrer_points:
            raise Validation(
                "sign-up offers and red packets take no coupon flag and no referrer points", ("trigger",)
            )
        if rules.tier_ids is not None or rules.dormant_only or rules.segment_ids is not None:
            raise Validation(
                "sign-up offers and red packets take no tier, dormancy or segment condition", ("trigger",)
            )
        if offer.trigger is Trigger.RED_PACKET:
            limits = replace(limits, per_member=1, per_member_period=CapPeriod.OFFER)  # one per member
    if offer.eligibility.first_purchase is not None:
        # Two first purchases can race; the once-per-member claim lets only one have the bonus.
        limits = replace(limits, per_member=1, per_member_period=CapPeriod.OFFER)
    eligibility = offer.eligibility
    if eligibility.tier_ids is not None and not eligibility.tier_ids:
        eligibility = replace(eligibility, tier_ids=None)  # an empty list places no condition, as elsewhere
    if eligibility.segment_ids is not None and not eligibility.segment_ids:
        eligibility = replace(eligibility, segment_ids=None)
    return replace(
        offer,
        name=name,
        exclusive_group=group,
        limits=limits,
        eligibility=eligibility,
        status=OfferStatus.ACTIVE,
    )


def _check_mechanic(offer: Offer) -> None:
    mechanic = offer.mechanic
    validation.finite_decimal(offer.multiplier, ("multiplier",))
    validation.finite_decimal(offer.percent, ("percent",))
    if mechanic is Mechanic.BONUS_POINTS:
        validation.positive_int(offer.points, ("points",))
    elif mechanic is Mechanic.POINTS_MULTIPLIER:
        if not 1 < offer.multiplier <= 100:
            raise Validation("must be more than 1 and at most 100", ("multiplier",))
    elif mechanic in (Mechanic.INSTANT_DISCOUNT, Mechanic.SPEND_AND_SAVE):
        if offer.amount is None:
            raise Validation("the amount off is required", ("amount",))
        if mechanic is Mechanic.SPEND_AND_SAVE and (
            offer.threshold is None or offer.threshold.amount_minor <= offer.amount.amount_minor
        ):
            raise Validation("spend-and-save needs a threshold above the amount off", ("threshold",))
    elif not 0 < offer.percent <= 100:
        raise Validation("must be more than 0 and at most 100", ("percent",))


def _check_funding(offer: Offer) -> None:
    shares = offer.funding
    if not 1 <= len(shares) <= MAX_FUNDERS:
        raise Validation(f"between 1 and {MAX_FUNDERS} funders", ("funding",))
    if any(share.percent <= 0 for share in shares) or sum(share.percent for share in shares) != 100:
        raise Validation("shares must be positive and add up to 100", ("funding", "percent"))
    keys = [(share.kind, share.funder_id) for share in shares]
    if len(set(keys)) != len(keys):
        raise Validation("a funder appears twice", ("funding",))
    for share in shares:
        if (share.kind is FunderKind.PROGRAMME) != (share.funder_id is None):
            raise Validation(
                "merchants and partners need a funderId; the programme takes none", ("funding", "funderId")
            )
