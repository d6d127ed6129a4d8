"""Offers and earning rules, and the pure engine that decides which apply to a purchase.

An offer is a mechanic (what the member gets), eligibility (who, where, when), funding (who pays) and
limits (budget and caps). The engine takes a purchase, the member, the live offers and their usage so
far, and returns what applies and, for every offer that does not, why. It reads nothing and writes
nothing: `postPurchase` applies its answer, `qualifyPurchase` only shows it.

How offers combine, in order:
1. Every live offer is checked for eligibility and limits; a failing offer is skipped with its reason.
2. Offers sharing an `exclusive_group` compete: the one worth most to the member applies, the others
   are skipped as EXCLUSIVE_WITH_BETTER. Worth is counted in points, a money amount at the base earn
   rate; ties go to the higher priority, then the older offer. Offers without a group all stack.
3. Discounts apply in priority order (higher first), fixed amounts before percentages at equal
   priority, each on the amount left after the earlier ones; thresholds (minimum spend, spend X) look
   at the amount before discounts. Discounts never take the amount below zero.
4. Base points are earned on the amount paid after discounts; multipliers add base x (factor - 1);
   cashback is a percentage of the amount paid.
5. An award that does not fit what is left of a budget is not made at all (no partial awards), and the
   offer reports BUDGET_EXHAUSTED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.members import IncomeBand, Member
from domain.merchants import Channel, Merchant, MerchantCategory
from domain.money import Money, points_for_spend


class Mechanic(StrEnum):
    BONUS_POINTS = "BONUS_POINTS"  # a fixed number of points
    POINTS_MULTIPLIER = "POINTS_MULTIPLIER"  # base points x factor in all
    INSTANT_DISCOUNT = "INSTANT_DISCOUNT"  # a fixed amount off (立減)
    SPEND_AND_SAVE = "SPEND_AND_SAVE"  # spend at least X, Y off (滿減)
    PERCENT_DISCOUNT = "PERCENT_DISCOUNT"  # a percentage off, up to a cap
    CASHBACK_POINTS = "CASHBACK_POINTS"  # a percentage of the amount paid, as points
    CASHBACK_MONEY = "CASHBACK_MONEY"  # a percentage of the amount paid, credited by the merchant (返現)

    @property
    def is_discount(self) -> bool:
        return self in _DISCOUNT_ORDER

    @property
    def gives_points(self) -> bool:
        return self in (Mechanic.BONUS_POINTS, Mechanic.POINTS_MULTIPLIER, Mechanic.CASHBACK_POINTS)


# At equal priority, fixed amounts come off before percentages.
_DISCOUNT_ORDER = {Mechanic.INSTANT_DISCOUNT: 0, Mechanic.SPEND_AND_SAVE: 1, Mechanic.PERCENT_DISCOUNT: 2}


class Trigger(StrEnum):
    PURCHASE = "PURCHASE"  # applied by postPurchase
    SIGN_UP = "SIGN_UP"  # a bonus given once, when the member enrols
    RED_PACKET = "RED_PACKET"  # a points gift a member opens with one of the offer's codes (紅包)


class OfferStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ARCHIVED = "ARCHIVED"


class FunderKind(StrEnum):
    PROGRAMME = "PROGRAMME"
    MERCHANT = "MERCHANT"
    PARTNER = "PARTNER"


class FirstPurchase(StrEnum):
    """A first-purchase bonus: the member's first purchase ever, at this merchant, or at this partner."""

    EVER = "EVER"
    AT_MERCHANT = "AT_MERCHANT"
    AT_PARTNER = "AT_PARTNER"


class CapPeriod(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    OFFER = "OFFER"  # the offer's whole life


class SkipReason(StrEnum):
    NOT_ACTIVE = "NOT_ACTIVE"
    OUTSIDE_WINDOW = "OUTSIDE_WINDOW"
    MERCHANT = "MERCHANT"
    CATEGORY = "CATEGORY"
    PARTNER = "PARTNER"
    CHANNEL = "CHANNEL"
    CURRENCY = "CURRENCY"
    MINIMUM_SPEND = "MINIMUM_SPEND"
    SEGMENT = "SEGMENT"
    TIER = "TIER"  # the offer is for members of other tiers
    NOT_DORMANT = "NOT_DORMANT"  # a win-back offer, for dormant members only
    NEW_MEMBERS_ONLY = "NEW_MEMBERS_ONLY"
    NOT_FIRST_PURCHASE = "NOT_FIRST_PURCHASE"
    MEMBER_LIMIT_REACHED = "MEMBER_LIMIT_REACHED"
    GLOBAL_LIMIT_REACHED = "GLOBAL_LIMIT_REACHED"
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
    NOTHING_TO_GIVE = "NOTHING_TO_GIVE"
    COUPON_REQUIRED = "COUPON_REQUIRED"
    NOT_A_PURCHASE_OFFER = "NOT_A_PURCHASE_OFFER"
    NOT_REFERRED = "NOT_REFERRED"
    EXCLUSIVE_WITH_BETTER = "EXCLUSIVE_WITH_BETTER"


@dataclass(frozen=True, slots=True)
class Window:
    """When an offer runs, in its own time zone: festival campaigns are offers with a window."""

    starts_at: datetime
    ends_at: datetime
    days_of_week: frozenset[int] = frozenset()  # ISO: 1 Monday .. 7 Sunday; empty = every day
    from_hour: int | None = None  # local hours [from_hour, to_hour); None = all day
    to_hour: int | None = None
    time_zone: str = "UTC"

    def contains(self, at: datetime) -> bool:
        if not self.starts_at <= at < self.ends_at:
            return False
        if not self.days_of_week and self.from_hour is None:
            return True
        local = at.astimezone(ZoneInfo(self.time_zone))
        if self.days_of_week and local.isoweekday() not in self.days_of_week:
            return False
        if self.from_hour is not None and self.to_hour is not None:
            return self.from_hour <= local.hour < self.to_hour
        return True


@dataclass(frozen=True, slots=True)
class Segment:
    """Profile predicates; an empty set places no condition."""

    regions: frozenset[str] = frozenset()
    income_bands: frozenset[IncomeBand] = frozenset()
    any_tags: frozenset[str] = frozenset()
    born_from: int | None = None  # birth year range, inclusive
    born_to: int | None = None

    def matches(self, member: Member) -> bool:
        p = member.profile
        if self.regions and p.region not in self.regions:
            return False
        if self.income_bands and p.income_band not in self.income_bands:
            return False
        if self.any_tags and not self.any_tags.intersection(p.tags):
            return False
        if self.born_from is not None and (p.birth_year is None or p.birth_year < self.born_from):
            return False
        return not (self.born_to is not None and (p.birth_year is None or p.birth_year > self.born_to))


@dataclass(frozen=True, slots=True)
class Eligibility:
    merchant_ids: frozenset[int] = frozenset()  # empty = any
    categories: frozenset[MerchantCategory] = frozenset()
    partner_ids: frozenset[int] = frozenset()
    channels: frozenset[Channel] = frozenset()
    minimum_spend: Money | None = None
    new_members_within_days: int | None = None
    first_purchase: FirstPurchase | None = None
    referred_only: bool = False  # only members who enrolled with a referral code
    segment: Segment = field(default_factory=Segment)
    tier_ids: frozenset[int] | None = None  # only members of these tiers; None: every tier
    dormant_only: bool = False  # win-back (沉睡用戶喚醒): only members dormant before this purchase


@dataclass(frozen=True, slots=True)
class FundingShare:
    kind: FunderKind
    funder_id: int | None  # the merchant or partner brand; None for the programme
    percent: int


@dataclass(frozen=True, slots=True)
class Limits:
    budget_points: int | None = None
    budget_money: Money | None = None
    max_uses: int | None = None  # across all members
    per_member: int | None = None
    per_member_period: CapPeriod = CapPeriod.OFFER


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    version: int
    name: str
    mechanic: Mechanic
    window: Window
    funding: tuple[FundingShare, ...]
    eligibility: Eligibility = field(default_factory=Eligibility)
    limits: Limits = field(default_factory=Limits)
    points: int = 0  # BONUS_POINTS
    multiplier: Decimal = Decimal(1)  # POINTS_MULTIPLIER
    amount: Money | None = None  # INSTANT_DISCOUNT and SPEND_AND_SAVE: the amount off
    threshold: Money | None = None  # SPEND_AND_SAVE: spend at least this
    percent: Decimal = Decimal(0)  # PERCENT_DISCOUNT and the cashbacks
    cap: Money | None = None  # PERCENT_DISCOUNT: at most this off
    exclusive_group: str | None = None
    priority: int = 0
    requires_coupon: bool = False  # applies only to a purchase that presents one of its coupons
    trigger: Trigger = Trigger.PURCHASE
    referrer_points: int = 0  # BONUS_POINTS: also given to the member who referred this one
    status: OfferStatus = OfferStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Coupon:
    """A code for a coupon-only offer: single-use (max_uses 1, claimed into a member's wallet) or one
    shared code with a use limit."""

    id: int
    offer_id: int
    code: str
    max_uses: int
    uses: int
    member_id: int | None  # the wallet it was claimed into; None while unclaimed or when shared

    @property
    def used_up(self) -> bool:
        return self.uses >= self.max_uses


@dataclass(frozen=True, slots=True)
class Usage:
    """What an offer has given so far, and how often to this member in the current cap period."""

    points: int = 0
    money_minor: int = 0
    uses: int = 0
    member_uses: int = 0


@dataclass(frozen=True, slots=True)
class PurchaseFacts:
    member: Member
    merchant: Merchant
    amount: Money
    channel: Channel
    at: datetime
    base_rate: Decimal  # points per currency unit for this purchase, before any offer
    coupon_offer_id: int | None = None  # the offer whose coupon the purchase presents
    # Which kinds of first purchase this is (read only when a live offer asks).
    firsts: frozenset[FirstPurchase] = frozenset()
    referrer_active: bool = False  # the member who referred this one can earn (read only when asked)
    tier_id: int | None = None  # the member's tier, the entry tier when it holds none (domain.tiers)


@dataclass(frozen=True, slots=True)
class FundedCost:
    kind: FunderKind
    funder_id: int | None
    points: int
    money_minor: int


@dataclass(frozen=True, slots=True)
class Award:
    offer_id: int
    version: int
    mechanic: Mechanic
    points: int = 0
    discount_minor: int = 0
    cashback_minor: int = 0
    funding: tuple[FundedCost, ...] = ()


@dataclass(frozen=True, slots=True)
class Skip:
    offer_id: int
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Evaluation:
    amount: Money  # before discounts
    paid: Money  # after discounts
    base_points: int  # on the amount paid
    awards: tuple[Award, ...]
    skipped: tuple[Skip, ...]

    @property
    def bonus_points(self) -> int:
        return sum(a.points for a in self.awards)

    @property
    def total_points(self) -> int:
        return self.base_points + self.bonus_points


def evaluate(facts: PurchaseFacts, offers: Sequence[Offer], usage: Mapping[int, Usage]) -> Evaluation:
    """Which offers apply to this purchase, what each gives, and why the others do not."""
    skipped: list[Skip] = []
    candidates: list[Offer] = []
    for offer in offers:
        reason = _ineligible(offer, facts, usage.get(offer.id, Usage()))
        if reason is None:
            candidates.append(offer)
        else:
            skipped.append(Skip(offer.id, reason))

    # Exclusive groups keep their best offer, judged on the undiscounted purchase.
    preview = {o.id: _worth(o, facts) for o in candidates}
    best_in_group: dict[str, Offer] = {}
    for offer in candidates:
        if offer.exclusive_group is None:
            continue
        current = best_in_group.get(offer.exclusive_group)
        if current is None or _better(offer, current, preview):
            best_in_group[offer.exclusive_group] = offer
    winners = []
    for offer in candidates:
        if offer.exclusive_group is not None and best_in_group[offer.exclusive_group] is not offer:
            skipped.append(Skip(offer.id, SkipReason.EXCLUSIVE_WITH_BETTER))
        else:
            winners.append(offer)

    # Discounts first, in their order, each on what is left.
    remaining = facts.amount.amount_minor
    discounts: dict[int, int] = {}
    for offer in sorted(
        (o for o in winners if o.mechanic.is_discount),
        key=lambda o: (-o.priority, _DISCOUNT_ORDER[o.mechanic], o.id),
    ):
        off = min(remaining, _discount(offer, facts.amount, remaining))
        reason = _over_budget(offer, usage.get(offer.id, Usage()), 0, off)
        if reason is not None:  # refused: the next discounts compute as if it were not there
            skipped.append(Skip(offer.id, reason))
            continue
        discounts[offer.id] = off
        remaining -= off
    paid = Money(remaining, facts.amount.currency)
    base = points_for_spend(paid, facts.base_rate)

    awards: list[Award] = []
    for offer in winners:
        points = discount = cashback = 0
        if offer.mechanic.is_discount:
            if offer.id not in discounts:
                continue  # refused for its budget above
            discount = discounts[offer.id]
        elif offer.mechanic is Mechanic.BONUS_POINTS:
            points = offer.points
        elif offer.mechanic is Mechanic.POINTS_MULTIPLIER:
            points = int((base * (offer.multiplier - 1)).to_integral_value(ROUND_DOWN))
        elif offer.mechanic is Mechanic.CASHBACK_POINTS:
            points = points_for_spend(
                Money(_percent_of(remaining, offer.percent), paid.currency), facts.base_rate
            )
        elif offer.mechanic is Mechanic.CASHBACK_MONEY:
            cashback = _percent_of(remaining, offer.percent)
        cost = points + referrer_points(offer, facts)
        reason = _over_budget(offer, usage.get(offer.id, Usage()), cost, discount + cashback)
        if reason is not None:
            skipped.append(Skip(offer.id, reason))
            continue
        if points == discount == cashback == 0:
            skipped.append(Skip(offer.id, SkipReason.NOTHING_TO_GIVE))
            continue
        awards.append(
            Award(
                offer.id,
                offer.version,
                offer.mechanic,
                points,
                discount,
                cashback,
                split_cost(offer.funding, points, discount + cashback),
            )
        )
    return Evaluation(
        facts.amount, paid, base, tuple(awards), tuple(sorted(skipped, key=lambda s: s.offer_id))
    )


class OfferIndex:
    """Live offers by the merchant, category and partner they name, so a purchase looks only at the
    ones that could apply to its merchant. A superset: `evaluate` still checks every condition."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.offers = list(offers)
        self._general: list[Offer] = []
        self._keyed: dict[tuple[str, object], list[Offer]] = {}
        for offer in self.offers:
            if offer.trigger is not Trigger.PURCHASE:
                continue
            rules = offer.eligibility
            keys: list[tuple[str, object]] = [("merchant", m) for m in rules.merchant_ids]
            if not keys:
                keys = [("category", c) for c in rules.categories] or [
                    ("partner", p) for p in rules.partner_ids
                ]
            if not keys:
                self._general.append(offer)
            for key in keys:
                self._keyed.setdefault(key, []).append(offer)
        self._by_merchant: dict[int, list[Offer]] = {}

    def for_merchant(self, merchant: Merchant) -> list[Offer]:
        found = self._by_merchant.get(merchant.id)
        if found is None:
            keys = [
                ("merchant", merchant.id),
                ("category", merchant.category),
                ("partner", merchant.partner_id),
            ]
            chosen = {o.id: o for o in self._general}
            for key in keys:
                chosen.update((o.id, o) for o in self._keyed.get(key, ()))
            found = self._by_merchant[merchant.id] = sorted(chosen.values(), key=lambda o: o.id)
        return found


def referrer_points(offer: Offer, facts: PurchaseFacts) -> int:
    """What an award of this offer for this purchase also gives the member who referred the buyer."""
    return offer.referrer_points if facts.member.referred_by is not None and facts.referrer_active else 0


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
        and _member_refusal(o, member, at, usage.get(o.id, Usage())) is None
        and _over_budget(o, usage.get(o.id, Usage()), o.points, 0) is None
    ]


def eligible(facts: PurchaseFacts, offers: Sequence[Offer]) -> list[Offer]:
    """The offers this purchase could get before their usage is known (to read usage only for these)."""
    return [o for o in offers if _ineligible(o, facts, Usage()) is None]


def cap_period_start(offer: Offer, at: datetime) -> datetime:
    """The start of the member cap period `at` falls in, for this offer."""
    return period_start(offer.limits.per_member_period, at, offer.window.time_zone, offer.window.starts_at)


def split_cost(shares: Sequence[FundingShare], points: int, money_minor: int) -> tuple[FundedCost, ...]:
    """Each funder's part, by percentage, rounded down; what rounding leaves goes to the first share,
    so the parts always add up to the whole."""
    parts = [[share, points * share.percent // 100, money_minor * share.percent // 100] for share in shares]
    parts[0][1] += points - sum(p[1] for p in parts)
    parts[0][2] += money_minor - sum(p[2] for p in parts)
    return tuple(FundedCost(s.kind, s.funder_id, p, m) for s, p, m in parts if p or m)


def period_start(period: CapPeriod, at: datetime, time_zone: str, offer_start: datetime) -> datetime:
    """Where the member cap's current period began (local midnight, Monday, first of the month)."""
    if period is CapPeriod.OFFER:
        return offer_start
    local = at.astimezone(ZoneInfo(time_zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is CapPeriod.WEEK:
        local -= timedelta(days=local.isoweekday() - 1)
    elif period is CapPeriod.MONTH:
        local = local.replace(day=1)
    return local


def _ineligible(offer: Offer, facts: PurchaseFacts, usage: Usage) -> SkipReason | None:
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
    return _member_refusal(offer, facts.member, facts.at, usage, facts.tier_id)


def _member_refusal(
    offer: Offer, member: Member, at: datetime, usage: Usage, tier_id: int | None = None
) -> SkipReason | None:
    """What about this member, now, rules the offer out: segment, tier, dormancy, newness, limits.
    `tier_id` is the member's effective tier (`domain.tiers.effective_tier_id`)."""
    rules = offer.eligibility
    if not rules.segment.matches(member):
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


def open_to(
    offer: Offer,
    member: Member,
    at: datetime,
    usage: Usage,
    channel: Channel | None = None,
    category: MerchantCategory | None = None,
    tier_id: int | None = None,
) -> bool:
    """Whether the member could use the offer now, wherever it applies (for a wallet's list).
    Coupon-only offers are left to the coupons in the wallet. `tier_id`: the member's effective tier."""
    rules = offer.eligibility
    if offer.status is not OfferStatus.ACTIVE or offer.requires_coupon or not offer.window.contains(at):
        return False
    if channel is not None and rules.channels and channel not in rules.channels:
        return False
    if category is not None and rules.categories and category not in rules.categories:
        return False
    return _member_refusal(offer, member, at, usage, tier_id) is None


def uses_left(offer: Offer, usage: Usage) -> int | None:
    """The member's uses left in the current cap period; None without a per-member limit."""
    limit = offer.limits.per_member
    return None if limit is None else max(0, limit - usage.member_uses)


def _over_budget(offer: Offer, usage: Usage, points: int, money_minor: int) -> SkipReason | None:
    limits = offer.limits
    if limits.budget_points is not None and usage.points + points > limits.budget_points:
        return SkipReason.BUDGET_EXHAUSTED
    if limits.budget_money is not None and usage.money_minor + money_minor > limits.budget_money.amount_minor:
        return SkipReason.BUDGET_EXHAUSTED
    return None


def _discount(offer: Offer, before: Money, remaining: int) -> int:
    if offer.mechanic in (Mechanic.INSTANT_DISCOUNT, Mechanic.SPEND_AND_SAVE):
        assert offer.amount is not None
        return offer.amount.amount_minor
    off = _percent_of(remaining, offer.percent)
    return off if offer.cap is None else min(off, offer.cap.amount_minor)


def _percent_of(minor: int, percent: Decimal) -> int:
    return int((Decimal(minor) * percent / 100).to_integral_value(ROUND_DOWN))


def _worth(offer: Offer, facts: PurchaseFacts) -> int:
    """What the offer gives on the undiscounted purchase, in points (money at the base earn rate)."""
    amount = facts.amount
    base = points_for_spend(amount, facts.base_rate)
    if offer.mechanic.is_discount:
        money = min(amount.amount_minor, _discount(offer, amount, amount.amount_minor))
        return points_for_spend(Money(money, amount.currency), facts.base_rate)
    if offer.mechanic is Mechanic.BONUS_POINTS:
        return offer.points
    if offer.mechanic is Mechanic.POINTS_MULTIPLIER:
        return int((base * (offer.multiplier - 1)).to_integral_value(ROUND_DOWN))
    cashback = Money(_percent_of(amount.amount_minor, offer.percent), amount.currency)
    return points_for_spend(cashback, facts.base_rate)


def _better(offer: Offer, current: Offer, worth: Mapping[int, int]) -> bool:
    return (worth[offer.id], offer.priority, -offer.id) > (worth[current.id], current.priority, -current.id)


@dataclass(frozen=True, slots=True)
class CampaignTotals:
    """What an offer has done: its awards, the spend behind them, and each funder's share."""

    offer_id: int
    purchases: int
    members: int
    points: int
    by_currency: tuple[tuple[str, int, int, int], ...]  # (currency, spend, discount, cashback) in minor units
    funding: tuple[FundedCost, ...]
