"""The offer model: mechanics, eligibility, windows, funding and limits as values, and what an
evaluation returns. An offer is a mechanic (what the member gets), eligibility (who, where, when),
funding (who pays) and limits (budget and caps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.experiments.model import Experiment
from domain.members import IncomeBand, Member
from domain.merchants import Channel, Merchant, MerchantCategory
from domain.money import Money


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
        return self in DISCOUNT_ORDER

    @property
    def gives_points(self) -> bool:
        return self in (Mechanic.BONUS_POINTS, Mechanic.POINTS_MULTIPLIER, Mechanic.CASHBACK_POINTS)


# At equal priority, fixed amounts come off before percentages.
DISCOUNT_ORDER = {Mechanic.INSTANT_DISCOUNT: 0, Mechanic.SPEND_AND_SAVE: 1, Mechanic.PERCENT_DISCOUNT: 2}


class Trigger(StrEnum):
    PURCHASE = "PURCHASE"  # applied by postPurchase
    SIGN_UP = "SIGN_UP"  # a bonus given once, when the member enrols
    RED_PACKET = "RED_PACKET"  # a points gift a member opens with one of the offer's codes (紅包)
    CAMPAIGN = "CAMPAIGN"  # bonus points a triggered campaign's action gives (domain/triggers.py)


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
    # Only members of any of these segments (their materialised membership); None: anyone.
    segment_ids: frozenset[int] | None = None
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
    experiment: Experiment | None = None  # variants and a holdout (domain.experiments)


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
    segment_ids: frozenset[int] = frozenset()  # the member's segments (read only when a live offer asks)


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
