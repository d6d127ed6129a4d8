"""What a member's wallet lists of the offers: those it can use now, and what each would give on
the member's typical basket, as the engine that postPurchase runs would give it.

Usable now (`refusal` says why not):
- a purchase offer open to the member now (`open_to`: status, window, who, how often, budget so far);
- a coupon-only offer only with an unused coupon for it in the wallet; a red packet only with its
  code in the wallet; never a sign-up offer (given once, at enrolment, to members enrolling then);
- a first-purchase offer only while the purchase could still be a first of its kind;
- and only while its award on the typical basket still fits its budget and caps (`estimate`).

The typical basket (`typical_amount`): the member's MEAN purchase amount, rounded down to the minor
unit, at merchants of the categories the offer applies in over the last `TYPICAL_DAYS`; without such
purchases, the programme's mean over those of its latest `PROGRAMME_SAMPLE` purchases made in those
categories; raised to the offer's minimum spend (or spend-and-save threshold) when below it, since a
smaller purchase would get nothing. Mean rather than median: exact in integers and one aggregate
query on every database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.members import Member
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import Money, points_for_spend
from domain.offers.eligibility import open_to, over_budget
from domain.offers.evaluation import evaluate
from domain.offers.model import (
    FirstPurchase,
    Mechanic,
    Offer,
    PurchaseFacts,
    SkipReason,
    Trigger,
    Usage,
)

TYPICAL_DAYS = 365  # the member's purchases this far back make its typical basket
PROGRAMME_SAMPLE = 1_000  # the programme's typical basket: its latest purchases, this many

# An award that no longer fits: the offer is spent for this member, whatever the wallet says.
_SPENT = frozenset(
    {SkipReason.BUDGET_EXHAUSTED, SkipReason.GLOBAL_LIMIT_REACHED, SkipReason.MEMBER_LIMIT_REACHED}
)


class Unusable(StrEnum):
    NOT_OPEN = "NOT_OPEN"  # `open_to` refuses: paused, outside its window, another tier or segment ...
    SIGN_UP_DONE = "SIGN_UP_DONE"  # a sign-up bonus: given at enrolment only
    CAMPAIGN_ONLY = "CAMPAIGN_ONLY"  # a campaign bonus: given by a trigger's action only
    NO_CODE = "NO_CODE"  # a red packet whose code is not in the wallet
    NO_COUPON = "NO_COUPON"  # coupon-only, with no unused coupon for it in the wallet
    FIRST_PURCHASE_MADE = "FIRST_PURCHASE_MADE"  # the member already bought where it asks for a first
    SPENT = "SPENT"  # its award on the typical basket would pass a budget or a cap


@dataclass(frozen=True, slots=True)
class Bought:
    """Where the member has bought before, as far as first-purchase offers ask."""

    anything: bool = False
    merchant_ids: frozenset[int] = frozenset()
    partner_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Wallet:
    """The member as the offers see it now."""

    member: Member
    at: datetime
    tier_id: int | None  # the effective tier (`domain.tiers.effective_tier_id`)
    usage: Mapping[int, Usage]  # by offer id, in the current cap period
    coupon_offer_ids: frozenset[int] = frozenset()  # offers with an unused coupon or code in the wallet
    bought: Bought = Bought()
    segment_ids: frozenset[int] = frozenset()  # the member's segments

    def usage_of(self, offer: Offer) -> Usage:
        return self.usage.get(offer.id, Usage())


@dataclass(frozen=True, slots=True)
class Spend:
    """Purchases in one category and currency: how many, and their total in minor units."""

    category: MerchantCategory
    currency: str
    total_minor: int
    count: int


@dataclass(frozen=True, slots=True)
class Estimate:
    """What an offer would give the member: on `basket` (None: a red packet, or a fixed bonus with
    no basket to go by).
    `worth` counts it all in points, money at the purchase's base earn rate, as the engine compares
    offers in an exclusive group."""

    basket: Money | None
    points: int
    discount_minor: int
    cashback_minor: int
    worth: int


def refusal(
    offer: Offer,
    wallet: Wallet,
    channel: Channel | None = None,
    category: MerchantCategory | None = None,
) -> Unusable | None:
    """Why the member cannot use the offer now, before its award is worked out; None if it can."""
    if offer.trigger is Trigger.SIGN_UP:
        return Unusable.SIGN_UP_DONE
    if offer.trigger is Trigger.CAMPAIGN:
        return Unusable.CAMPAIGN_ONLY
    holds_one = offer.id in wallet.coupon_offer_ids
    if offer.trigger is Trigger.RED_PACKET and not holds_one:
        return Unusable.NO_CODE
    if offer.requires_coupon and not holds_one:
        return Unusable.NO_COUPON
    usage = wallet.usage_of(offer)
    if not open_to(
        offer,
        wallet.member,
        wallet.at,
        usage,
        channel,
        category,
        wallet.tier_id,
        holds_one,
        wallet.segment_ids,
    ):
        return Unusable.NOT_OPEN
    if first_purchase_made(offer, wallet.bought):
        return Unusable.FIRST_PURCHASE_MADE
    return None


def first_purchase_made(offer: Offer, bought: Bought) -> bool:
    """Whether no purchase could still be the first the offer asks for. A first at a merchant (or
    partner) with none named stays possible at another one."""
    rules = offer.eligibility
    kind = rules.first_purchase
    if kind is FirstPurchase.EVER:
        return bought.anything
    if kind is FirstPurchase.AT_MERCHANT and rules.merchant_ids:
        return rules.merchant_ids <= bought.merchant_ids
    if kind is FirstPurchase.AT_PARTNER and rules.partner_ids:
        return rules.partner_ids <= bought.partner_ids
    return False


def first_purchase_ids(offers: Iterable[Offer]) -> tuple[set[int], set[int]]:
    """The merchants and partner brands whose past purchases decide these offers' first purchases."""
    merchant_ids: set[int] = set()
    partner_ids: set[int] = set()
    for offer in offers:
        rules = offer.eligibility
        if rules.first_purchase is FirstPurchase.AT_MERCHANT:
            merchant_ids |= rules.merchant_ids
        elif rules.first_purchase is FirstPurchase.AT_PARTNER:
            partner_ids |= rules.partner_ids
    return merchant_ids, partner_ids


def categories_of(offer: Offer, merchants: Mapping[int, Merchant]) -> frozenset[MerchantCategory]:
    """The categories the offer applies in: its own, else its merchants'; empty: every category."""
    rules = offer.eligibility
    if rules.categories:
        return rules.categories
    return frozenset(merchants[i].category for i in rules.merchant_ids if i in merchants)


def currency_of(offer: Offer, spends: Collection[Spend], fallback: str) -> str:
    """The currency to estimate in: the offer's money terms', else the one the member buys in most."""
    terms = (offer.eligibility.minimum_spend, offer.amount, offer.threshold, offer.cap)
    for term in terms:
        if term is not None:
            return term.currency
    if spends:
        return max(spends, key=lambda s: (s.count, s.currency)).currency
    return fallback


def typical_amount(
    offer: Offer,
    categories: frozenset[MerchantCategory],
    currency: str,
    mine: Collection[Spend],
    programme: Collection[Spend],
) -> int | None:
    """The basket to estimate on, in minor units of `currency` (see the module's docstring); None
    when neither the member nor the programme has bought there and the offer names no spend."""
    typical = mean_amount(mine, categories, currency)
    if typical is None:
        typical = mean_amount(programme, categories, currency)
    floors = [
        m.amount_minor
        for m in (offer.eligibility.minimum_spend, offer.threshold)
        if m is not None and m.currency == currency
    ]
    if typical is None:
        return max(floors) if floors else None
    return max([typical, *floors])


def mean_amount(
    spends: Collection[Spend], categories: frozenset[MerchantCategory], currency: str
) -> int | None:
    """The mean purchase in these categories (empty: all) and currency, rounded down; None: none."""
    chosen = [s for s in spends if s.currency == currency and (not categories or s.category in categories)]
    count = sum(s.count for s in chosen)
    return sum(s.total_minor for s in chosen) // count if count else None


def stand_in_merchant(offer: Offer, category: MerchantCategory, at: datetime) -> Merchant:
    """A merchant of the category for offers that name none: at the programme's base earn rate,
    selling on every channel, of the first partner brand the offer names."""
    partner_id = min(offer.eligibility.partner_ids) if offer.eligibility.partner_ids else None
    return Merchant(0, "", category, MerchantChannel.BOTH, partner_id, None, at)


def channel_for(offer: Offer, merchant: Merchant, asked: Channel | None) -> Channel:
    """The channel to estimate on: the one asked for, else the offer's first, else the merchant's."""
    if asked is not None:
        return asked
    if offer.eligibility.channels:
        return min(offer.eligibility.channels)
    return Channel.ONLINE if merchant.channel is MerchantChannel.ONLINE else Channel.OFFLINE


def basket_facts(offer: Offer, wallet: Wallet, facts: PurchaseFacts) -> PurchaseFacts:
    """`facts` (the typical purchase at the merchant) as this offer's own purchase would present
    them: its coupon in hand, and a first purchase of the kind it asks for (`refusal` has checked
    that one can still be)."""
    first = offer.eligibility.first_purchase
    return PurchaseFacts(
        wallet.member,
        facts.merchant,
        facts.amount,
        facts.channel,
        facts.at,
        facts.base_rate,
        coupon_offer_id=offer.id if offer.requires_coupon else None,
        firsts=frozenset() if first is None else frozenset({first}),
        tier_id=wallet.tier_id,
        segment_ids=wallet.segment_ids,
    )


def estimate(offer: Offer, wallet: Wallet, facts: PurchaseFacts | None) -> Estimate | Unusable | None:
    """What the offer alone gives: on `facts`, the typical purchase, what `evaluate` awards it; with
    no purchase (a red packet, or no basket to go by) a fixed bonus's points, and for other mechanics
    nothing to say (None). SPENT when that award no longer fits the offer's limits."""
    usage = wallet.usage_of(offer)
    if facts is None:
        if offer.mechanic is not Mechanic.BONUS_POINTS:
            return None
        if over_budget(offer, usage, offer.points, 0) is not None:
            return Unusable.SPENT
        return Estimate(None, offer.points, 0, 0, offer.points)
    evaluation = evaluate(basket_facts(offer, wallet, facts), [offer], {offer.id: usage})
    if any(s.reason in _SPENT for s in evaluation.skipped):
        return Unusable.SPENT
    points = sum(a.points for a in evaluation.awards)
    discount = sum(a.discount_minor for a in evaluation.awards)
    cashback = sum(a.cashback_minor for a in evaluation.awards)
    money = Money(discount + cashback, facts.amount.currency)
    worth = points + points_for_spend(money, facts.base_rate)
    return Estimate(facts.amount, points, discount, cashback, worth)


def ranking(offer: Offer, worth: int) -> tuple[int, datetime, int]:
    """The wallet's order: worth most to the member first, then soonest ending, then by id."""
    return (-worth, offer.window.ends_at, offer.id)
