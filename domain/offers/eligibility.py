"""Who, where and when an offer applies, and whether its limits leave room. Each check answers with
the reason that rules the offer out, or None."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from domain.members import Member
from domain.merchants import Channel, MerchantCategory
from domain.offers.model import Offer, OfferStatus, PurchaseFacts, SkipReason, Trigger, Usage


def ineligible(offer: Offer, facts: PurchaseFacts, usage: Usage) -> SkipReason | None:
    """Why the offer cannot apply to this purchase before anything is computed; None if it can."""
    rules = offer.eligibility
    merchant = facts.merchant
    if offer.status is not OfferStatus.ACTIVE:
        return SkipReason.NOT_ACTIVE
    if offer.trigger is not Trigger.PURCHASE:
        return SkipReason.NOT_A_PURCHASE_OFFER
    if offer.requires_coupon and facts.coupon_offer_id != offer.id:
        return SkipReason.COUPON_REQUIRED
    # Where first: the cheapest checks, and the ones that rule out most offers.
    if rules.merchant_ids and merchant.id not in rules.merchant_ids:
        return SkipReason.MERCHANT
    if rules.categories and merchant.category not in rules.categories:
        return SkipReason.CATEGORY
    if rules.partner_ids and merchant.partner_id not in rules.partner_ids:
        return SkipReason.PARTNER
    if rules.channels and facts.channel not in rules.channels:
        return SkipReason.CHANNEL
    if not offer.window.contains(facts.at):
        return SkipReason.OUTSIDE_WINDOW
    terms = (rules.minimum_spend, offer.amount, offer.threshold, offer.cap)
    if any(m is not None and m.currency != facts.amount.currency for m in terms):
        return SkipReason.CURRENCY
    if rules.minimum_spend is not None and facts.amount.amount_minor < rules.minimum_spend.amount_minor:
        return SkipReason.MINIMUM_SPEND
    if offer.threshold is not None and facts.amount.amount_minor < offer.threshold.amount_minor:
        return SkipReason.MINIMUM_SPEND
    if rules.first_purchase is not None and rules.first_purchase not in facts.firsts:
        return SkipReason.NOT_FIRST_PURCHASE
    return member_refusal(offer, facts.member, facts.at, usage, facts.tier_id, facts.segment_ids)


def member_refusal(
    offer: Offer,
    member: Member,
    at: datetime,
    usage: Usage,
    tier_id: int | None = None,
    segment_ids: frozenset[int] = frozenset(),
) -> SkipReason | None:
    """What about this member, now, rules the offer out: segment, tier, dormancy, newness, limits.
    `tier_id` is the member's effective tier (`domain.tiers.effective_tier_id`); `segment_ids` the
    segments it belongs to."""
    rules = offer.eligibility
    if not rules.segment.matches(member):
        return SkipReason.SEGMENT
    if rules.segment_ids is not None and not rules.segment_ids & segment_ids:
        return SkipReason.SEGMENT
    if rules.tier_ids is not None and tier_id not in rules.tier_ids:
        return SkipReason.TIER
    if rules.dormant_only and member.dormant_since is None:
        return SkipReason.NOT_DORMANT
    if rules.referred_only and member.referred_by is None:
        return SkipReason.NOT_REFERRED
    within = rules.new_members_within_days
    if within is not None and at - member.enrolled_at > timedelta(days=within):
        return SkipReason.NEW_MEMBERS_ONLY
    limits = offer.limits
    if limits.per_member is not None and usage.member_uses >= limits.per_member:
        return SkipReason.MEMBER_LIMIT_REACHED
    if limits.max_uses is not None and usage.uses >= limits.max_uses:
        return SkipReason.GLOBAL_LIMIT_REACHED
    spent = (
        (limits.budget_points, usage.points),
        (
            None if limits.budget_money is None else limits.budget_money.amount_minor,
            usage.money_minor,
        ),
    )
    if any(budget is not None and used >= budget for budget, used in spent):
        return SkipReason.BUDGET_EXHAUSTED
    return None


def over_budget(offer: Offer, usage: Usage, points: int, money_minor: int) -> SkipReason | None:
    """Whether an award of this cost would overshoot a budget (awards are never partial)."""
    limits = offer.limits
    if limits.budget_points is not None and usage.points + points > limits.budget_points:
        return SkipReason.BUDGET_EXHAUSTED
    if limits.budget_money is not None and usage.money_minor + money_minor > limits.budget_money.amount_minor:
        return SkipReason.BUDGET_EXHAUSTED
    return None


def eligible(facts: PurchaseFacts, offers: Sequence[Offer]) -> list[Offer]:
    """The offers this purchase could get before their usage is known (to read usage only for these)."""
    return [o for o in offers if ineligible(o, facts, Usage()) is None]


def open_to(
    offer: Offer,
    member: Member,
    at: datetime,
    usage: Usage,
    channel: Channel | None = None,
    category: MerchantCategory | None = None,
    tier_id: int | None = None,
    has_coupon: bool = False,
    segment_ids: frozenset[int] = frozenset(),
) -> bool:
    """Whether the member could use the offer now, wherever it applies (for a wallet's list).
    A coupon-only offer needs `has_coupon`, one of its coupons in the wallet. `tier_id`: the
    member's effective tier."""
    rules = offer.eligibility
    if offer.status is not OfferStatus.ACTIVE or not offer.window.contains(at):
        return False
    if offer.requires_coupon and not has_coupon:
        return False
    if channel is not None and rules.channels and channel not in rules.channels:
        return False
    if category is not None and rules.categories and category not in rules.categories:
        return False
    return member_refusal(offer, member, at, usage, tier_id, segment_ids) is None


def uses_left(offer: Offer, usage: Usage) -> int | None:
    """The member's uses left in the current cap period; None without a per-member limit."""
    limit = offer.limits.per_member
    return None if limit is None else max(0, limit - usage.member_uses)


def sign_up_bonuses(
    offers: Sequence[Offer], member: Member, at: datetime, usage: Mapping[int, Usage]
) -> list[Offer]:
    """The sign-up offers a member enrolling now gets, each within its limits."""
    return [
        o
        for o in offers
        if o.trigger is Trigger.SIGN_UP
        and o.status is OfferStatus.ACTIVE
        and o.window.contains(at)
        and member_refusal(o, member, at, usage.get(o.id, Usage())) is None
        and over_budget(o, usage.get(o.id, Usage()), o.points, 0) is None
    ]
