"""Purchases posted by merchants earn points (base earn; rules and offers build on this)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from domain import events, validation
from domain.actors import Actor, Role
from domain.clock import Clock
from domain.commands import PostPurchase, PresentedMember, QualifyPurchase
from domain.earning import earn_entry, earn_lot, earn_rate, earning, purchase_time
from domain.errors import Forbidden, LimitReached, NotFound, UnknownCode, Validation
from domain.experiments.arms import assigned
from domain.members import Member, MemberStatus
from domain.money import MAX_INT, points_for_spend
from domain.offers import (
    Award,
    Coupon,
    Offer,
    PurchaseFacts,
    SkipReason,
    cap_period_start,
    eligible,
    evaluate,
    referrer_points,
)
from domain.ports import UnitOfWork
from domain.profiles import purchase_activity
from domain.purchases import Purchase
from domain.results import PurchaseResult, QualifyResult
from domain.risk import (
    Movement,
    MovementKind,
    assess,
    earning_claims,
    earning_figures,
    refusal,
    risk_decision_event,
)
from domain.services.bonuses import give_referral_bonuses
from domain.services.common import active_member, require_role
from domain.services.idempotency import run_once
from domain.services.offer_claims import claim_award
from domain.services.posting import lock_members, post_entry
from domain.services.presence import merchant_member, processor_member
from domain.services.tiers import upgrade_after_purchase
from domain.tiers import earn_multiplier, effective_tier


async def with_firsts(uow: UnitOfWork, facts: PurchaseFacts, offers: list[Offer]) -> PurchaseFacts:
    """The purchase's first-purchase kinds, read only when a live offer asks for one."""
    if not any(o.eligibility.first_purchase for o in offers):
        return facts
    return replace(facts, firsts=await uow.purchases.firsts(facts.member.id, facts.merchant))


async def segments_if_asked(uow: UnitOfWork, member_id: int, offers: Sequence[Offer]) -> frozenset[int]:
    """The member's segments, read (one indexed lookup) only when a live offer is aimed at segments."""
    if not any(o.eligibility.segment_ids for o in offers):
        return frozenset()
    return await uow.segments.member_segments(member_id)


async def with_segments(uow: UnitOfWork, facts: PurchaseFacts, offers: list[Offer]) -> PurchaseFacts:
    return replace(facts, segment_ids=await segments_if_asked(uow, facts.member.id, offers))


async def with_referrer(uow: UnitOfWork, facts: PurchaseFacts, offers: list[Offer]) -> PurchaseFacts:
    """Whether the member's referrer can earn, read only when a live offer rewards referrers."""
    referrer_id = facts.member.referred_by
    if referrer_id is None or not any(o.referrer_points for o in offers):
        return facts
    referrer = await uow.members.get(referrer_id)
    return replace(facts, referrer_active=referrer is not None and referrer.status is MemberStatus.ACTIVE)


async def apply_offers(uow: UnitOfWork, facts: PurchaseFacts, offers: list[Offer]) -> tuple[int, list[Award]]:
    """The base points and the awards this purchase gets, each counted against its offer's limits.

    Usage is read in this transaction and each award is then claimed with a conditional update. An
    award whose claim loses a race for the last of a budget or cap is dropped, never overspent; the
    others stand as evaluated (so under such a race a member may miss an exclusive group's runner-up).
    """
    candidates = eligible(facts, offers)
    # Experiments: the member's arm decides its variant, and a holdout member is not offered it;
    # the arm is recorded the first time (one insert that keeps what is there, by offer id).
    candidates, assignments = assigned(facts.member.id, candidates)
    if assignments:
        await uow.offers.record_assignments(assignments, facts.at)
    if not candidates:
        return points_for_spend(facts.amount, facts.base_rate), []
    periods = {o.id: cap_period_start(o, facts.at) for o in candidates if o.limits.per_member is not None}
    usage = await uow.offers.usage([o.id for o in candidates], facts.member.id, periods)
    evaluation = evaluate(facts, candidates, usage)
    by_id = {o.id: o for o in candidates}
    awards = []
    for award in evaluation.awards:
        offer = by_id[award.offer_id]
        period = periods.get(offer.id, offer.window.starts_at)
        money = award.discount_minor + award.cashback_minor
        points = award.points + referrer_points(offer, facts)
        if await claim_award(uow, offer, facts.member.id, period, points, money, facts.at) is None:
            awards.append(award)
    return evaluation.base_points, awards


def cap_periods(offers: list[Offer], awards: list[Award], at: datetime) -> dict[int, datetime]:
    """The member cap period each capped award was claimed in (as `apply_offers` claims it), kept
    with the award so that a refund gives the use back to the same period."""
    given = {a.offer_id for a in awards}
    return {
        o.id: cap_period_start(o, at) for o in offers if o.id in given and o.limits.per_member is not None
    }


async def qualify_purchase(
    cmd: QualifyPurchase, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> QualifyResult:
    """What postPurchase would give for this basket now, and why each other live offer would not
    apply. The same engine and the same usage, read in a transaction that writes nothing."""
    require_role(actor, Role.MERCHANT, Role.PROCESSOR, Role.MEMBER)
    merchant_id = actor.merchant_id if actor.role is Role.MERCHANT else cmd.merchant_id
    if merchant_id is None:
        raise Validation("name the merchant", ("merchantId",))
    if actor.role is not Role.MEMBER and cmd.member is None:
        raise Validation("name the member", ("member",))
    now = clock.now()
    async with uow:
        member = await _acting_for(uow, actor, cmd.member, merchant_id, now, checkout=False)
        programme = await uow.programme.get()
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("no such merchant", ("merchantId",))
        tier = effective_tier(member, await uow.tiers.ladder())
        multiplier = earn_multiplier(tier)
        earned = earning(programme, merchant, cmd.amount, cmd.channel, multiplier)
        rate = earn_rate(programme, merchant, earned.amount.currency, multiplier)
        facts = PurchaseFacts(
            member,
            merchant,
            earned.amount,
            earned.channel,
            now,
            rate,
            tier_id=None if tier is None else tier.id,
        )
        offers, _ = assigned(member.id, await uow.offers.live())  # as its arms present them
        facts = await with_referrer(uow, await with_firsts(uow, facts, offers), offers)
        facts = await with_segments(uow, facts, offers)
        candidates = eligible(facts, offers)
        periods = {o.id: cap_period_start(o, now) for o in candidates if o.limits.per_member is not None}
        usage = await uow.offers.usage([o.id for o in candidates], member.id, periods) if candidates else {}
        balance = await uow.ledger.balance(member.id)
    return QualifyResult(
        evaluate(facts, offers, usage),
        member_id=member.id,
        available_points=0 if balance is None else balance.available,
        presented_by_code=cmd.member is not None and cmd.member.code is not None,
    )


def purchase_events(
    purchase: Purchase, awards: Sequence[Award], matures_at: datetime | None, *, held: bool, at: datetime
) -> list[events.Event]:
    """A posted purchase's events: the purchase, its pending points, each offer's award."""
    posted = events.purchase_posted(
        member_id=purchase.member_id,
        purchase_id=purchase.id,
        merchant_id=purchase.merchant_id,
        amount_minor=purchase.amount.amount_minor,
        currency=purchase.amount.currency,
        channel=purchase.channel.value,
        points=purchase.points_earned,
        pending=matures_at is not None,
        held=held,
        purchased_at=purchase.occurred_at,
        at=at,
    )
    out = [posted]
    if matures_at is not None and purchase.points_earned > 0:
        out.append(
            events.points_pending(
                member_id=purchase.member_id,
                purchase_id=purchase.id,
                points=purchase.points_earned,
                matures_at=matures_at,
                at=at,
            )
        )
    out.extend(
        events.offer_awarded(
            member_id=purchase.member_id,
            offer_id=a.offer_id,
            purchase_id=purchase.id,
            points=a.points,
            discount_minor=a.discount_minor,
            cashback_minor=a.cashback_minor,
            at=at,
        )
        for a in awards
    )
    return out


async def _usable_coupon(uow: UnitOfWork, code: str, member_id: int) -> Coupon:
    coupon = await uow.offers.coupon(code)
    if coupon is None:
        raise UnknownCode("no such coupon", ("couponCode",))
    if coupon.member_id not in (None, member_id):
        raise Validation("this coupon is in another member's wallet", ("couponCode",))
    if coupon.used_up:
        raise LimitReached("this coupon is used up", ("couponCode",))
    return coupon


async def _use_coupon(
    uow: UnitOfWork, coupon: Coupon, facts: PurchaseFacts, offers: list[Offer], awards: list[Award]
) -> None:
    """A presented coupon must have given something; then one of its uses is taken, atomically."""
    if all(a.offer_id != coupon.offer_id for a in awards):
        reasons = {s.offer_id: s.reason for s in evaluate(facts, offers, {}).skipped}
        reason = reasons.get(coupon.offer_id, SkipReason.NOT_ACTIVE)
        raise Validation(f"the coupon does not apply to this purchase ({reason.value})", ("couponCode",))
    if not await uow.offers.use_coupon(coupon.id, facts.member.id):
        raise LimitReached("this coupon is used up", ("couponCode",))


async def _acting_for(
    uow: UnitOfWork,
    actor: Actor,
    presented: PresentedMember | None,
    merchant_id: int,
    now: datetime,
    *,
    checkout: bool,
) -> Member:
    if actor.role is Role.MERCHANT and presented is not None:
        return await merchant_member(uow, merchant_id, presented, now, checkout=checkout)
    if actor.role is Role.PROCESSOR and presented is not None:
        return await processor_member(uow, presented)
    if actor.role is Role.MEMBER and actor.member_id is not None:
        return await active_member(uow, actor.member_id)
    raise Forbidden("the token names no member")


async def post_purchase(cmd: PostPurchase, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> PurchaseResult:
    """A merchant's purchase, for the member that presented itself to it, or a processor's (the bank's
    card processing), for any member at a merchant it names."""
    require_role(actor, Role.MERCHANT, Role.PROCESSOR)
    merchant_id = actor.merchant_id if actor.role is Role.MERCHANT else cmd.merchant_id
    if merchant_id is None:
        raise Validation("a processor names the merchant", ("merchantId",))
    validation.positive_int(cmd.amount.amount_minor, ("amount", "amountMinor"))
    reference = validation.optional_text(cmd.reference, ("reference",), max_length=100)
    coupon_code = None
    if cmd.coupon_code is not None:
        coupon_code = validation.text(cmd.coupon_code, ("couponCode",), max_length=40).upper()
    now = clock.now()
    occurred_at = purchase_time(cmd.occurred_at, now)

    async def work() -> PurchaseResult:
        member = await _acting_for(uow, actor, cmd.member, merchant_id, now, checkout=True)
        programme = await uow.programme.get()
        merchant = await uow.merchants.get(merchant_id)
        if merchant is None:
            raise NotFound("no such merchant", ("merchantId",))
        ladder = await uow.tiers.ladder()  # the catalogue's: no query while the tiers are unchanged
        tier = effective_tier(member, ladder)
        multiplier = earn_multiplier(tier)
        earned = earning(programme, merchant, cmd.amount, cmd.channel, multiplier)
        offers = await uow.offers.for_merchant(merchant)
        coupon = None if coupon_code is None else await _usable_coupon(uow, coupon_code, member.id)
        if coupon is not None and all(o.id != coupon.offer_id for o in offers):
            offers = [*offers, *(o for o in await uow.offers.live() if o.id == coupon.offer_id)]
        facts = PurchaseFacts(
            member,
            merchant,
            earned.amount,
            earned.channel,
            occurred_at,
            earn_rate(programme, merchant, earned.amount.currency, multiplier),
            tier_id=None if tier is None else tier.id,
        )
        if coupon is not None:
            facts = replace(facts, coupon_offer_id=coupon.offer_id)
        facts = await with_firsts(uow, facts, offers)
        facts = await with_referrer(uow, facts, offers)
        facts = await with_segments(uow, facts, offers)
        base_points, awards = await apply_offers(uow, facts, offers)
        if coupon is not None:
            await _use_coupon(uow, coupon, facts, offers, awards)
        points = base_points + sum(a.points for a in awards)
        if points > MAX_INT:
            raise Validation("this amount earns more points than one purchase may", ("amount", "amountMinor"))
        # Inside the return window the points stay pending, then mature into a lot (scripts/jobs).
        pending_days = programme.pending_days_at(merchant)
        matures_at = now + timedelta(days=pending_days) if pending_days > 0 else None
        # Risk control, before the member's balance row is taken (the lock order): the purchase is
        # written with the risk counters it claims (one round trip where the store can), then
        # assessed. Refused, everything rolls back; held, the points go to the review balance.
        movement = Movement(MovementKind.EARN, member.id, points, now, earned.amount, merchant.id)
        rules = await uow.risk.rules()
        # The member's profile counts the purchase in this transaction, in the same round trip.
        activity = purchase_activity(
            member.id,
            merchant.id,
            earned.channel,
            earned.amount.currency,
            earned.amount.amount_minor,
            occurred_at,
        )
        purchase, counted = await uow.purchases.add_claiming(
            earning_claims(movement, rules),
            [activity],
            member_id=member.id,
            merchant_id=merchant.id,
            amount=earned.amount,
            channel=earned.channel,
            occurred_at=occurred_at,
            reference=reference,
            points_earned=points,
            points_pending=points if matures_at is not None else 0,
            at=now,
            matures_at=matures_at,
            coupon_id=None if coupon is None else coupon.id,
        )
        risk = assess(movement, earning_figures(movement, counted), rules)
        if risk.refused:
            raise refusal(risk, ("amount",), member_id=member.id)
        held = risk.held and points > 0  # a purchase earning nothing has nothing to hold
        if held and matures_at is not None:
            await uow.risk.hold_purchase(purchase.id)  # the review is the wait: no return window
            purchase, matures_at = replace(purchase, points_pending=0), None
        pending = matures_at is not None
        awarded = {a.offer_id for a in awards}
        referrer_id = facts.member.referred_by
        if referrer_id is not None and any(referrer_points(o, facts) for o in offers if o.id in awarded):
            # The referrer is paid too: both members' rows, in id order, as transfers take them.
            await lock_members(uow, [member.id, referrer_id])
        if points:
            funded = [cost for award in awards for cost in award.funding]
            await post_entry(
                uow,
                earn_entry(member.id, purchase.id, points, merchant, funded, matures_at, held=held),
                now,
                None if pending or held else earn_lot(member.id, points, now, programme),
            )
        else:
            await uow.members.record_activity(member.id, now)  # no entry to say the member shopped
        if awards:
            await uow.offers.record_awards(
                purchase.id,
                member.id,
                awards,
                earned.amount.currency,
                now,
                cap_periods(offers, awards, facts.at),
            )
            await give_referral_bonuses(uow, facts, offers, awards, purchase.id, programme, now)
        # With the member's balance row locked by the post above (or here, when nothing was posted),
        # a purchase that lifts the member into a higher tier upgrades it at once.
        await upgrade_after_purchase(uow, member, ladder, programme, now, locked=points > 0)
        result = PurchaseResult.of(purchase, awards)
        await uow.outbox.add(*purchase_events(purchase, awards, matures_at, held=held, at=now))
        if member.dormant_since is not None:
            await uow.outbox.add(
                events.member_woken(member_id=member.id, dormant_since=member.dormant_since, at=now)
            )
        if held:
            review = await uow.risk.add_review(
                member_id=member.id,
                purchase_id=purchase.id,
                merchant_id=merchant.id,
                points=points,
                outcomes=risk.outcomes,
                at=now,
            )
            result = replace(
                result, review_id=review.id, risk_notice=f"held for risk review: {risk.summary()}"
            )
            await uow.outbox.add(
                events.risk_held(
                    member_id=member.id,
                    review_id=review.id,
                    purchase_id=purchase.id,
                    points=points,
                    rules=[o.kind.value for o in risk.outcomes],
                    at=now,
                )
            )
            await uow.audit.record(
                risk_decision_event(
                    actor,
                    "security.risk_hold",
                    member.id,
                    {
                        "reviewId": review.id,
                        "purchaseId": purchase.id,
                        "points": points,
                        "rules": risk.summary(),
                    },
                    now,
                )
            )
        return result

    return await run_once(cmd, actor=actor, uow=uow, clock=clock, result_type=PurchaseResult, work=work)
