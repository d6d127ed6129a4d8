"""One frozen command per use case: what the caller asked for, already in domain types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from domain.members import Contact, Profile
from domain.merchants import Channel, MerchantCategory, MerchantChannel, PartnerKind
from domain.money import Money
from domain.purchases import ReasonCode
from domain.rewards import LimitPeriod


@dataclass(frozen=True, slots=True)
class EnrollMember:
    external_ref: str
    profile: Profile = field(default_factory=Profile)
    contact: Contact = field(default_factory=Contact)
    referral_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeMemberStatus:
    member_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class EraseMember:
    member_id: int


@dataclass(frozen=True, slots=True)
class CreateMerchant:
    name: str
    category: MerchantCategory
    channel: MerchantChannel = MerchantChannel.BOTH
    partner_id: int | None = None
    earn_rate_override: Decimal | None = None
    pending_days: int | None = None  # None: the programme's return window


@dataclass(frozen=True, slots=True)
class CreatePartnerBrand:
    name: str
    kind: PartnerKind


@dataclass(frozen=True, slots=True)
class CreateReward:
    name: str
    cost_points: int
    stock: int | None = None
    active: bool = True
    per_member_limit: int | None = None  # redemptions per member per `limit_period` (EVER if omitted)
    limit_period: LimitPeriod | None = None
    tier_ids: tuple[int, ...] | None = None  # None: every tier may redeem it


class Unchanged(Enum):
    """An update's field left as it is (None, where allowed, clears it)."""

    UNCHANGED = "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class CreateTier:
    code: str
    name: str
    rank: int
    min_points: int | None = None
    min_spend: Money | None = None
    earn_multiplier: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class UpdateTier:
    tier_id: int
    code: str | Unchanged = UNCHANGED
    name: str | Unchanged = UNCHANGED
    rank: int | Unchanged = UNCHANGED
    min_points: int | Unchanged | None = UNCHANGED
    min_spend: Money | Unchanged | None = UNCHANGED
    earn_multiplier: Decimal | Unchanged = UNCHANGED


@dataclass(frozen=True, slots=True)
class PresentedMember:
    """Who the purchase is for, as the caller knows the member: a merchant by the one-time code the
    member showed at the till or by the reference the member's link gave it; a processor by the
    member's id or externalRef. Exactly one is given."""

    code: str | None = None
    ref: str | None = None
    member_id: int | None = None
    external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class PostPurchase:
    member: PresentedMember
    amount: Money
    idempotency_key: str
    occurred_at: datetime | None = None
    channel: Channel | None = None
    reference: str | None = None
    coupon_code: str | None = None
    merchant_id: int | None = None  # a processor names the merchant; a merchant's is its token's


@dataclass(frozen=True, slots=True)
class RefundPurchase:
    """Money back on a purchase; `amount` None: all that is not yet refunded."""

    purchase_id: int
    idempotency_key: str
    amount: Money | None = None
    reference: str | None = None  # the merchant's own refund id


@dataclass(frozen=True, slots=True)
class QualifyPurchase:
    """A dry run: the merchant comes from a merchant's token, or is named by a member for its basket."""

    amount: Money
    member: PresentedMember | None = None  # a merchant's or processor's; a member is itself
    merchant_id: int | None = None
    channel: Channel | None = None


@dataclass(frozen=True, slots=True)
class TransferPoints:
    """To another member, named by its referral code or its externalRef (exactly one)."""

    points: int
    idempotency_key: str
    to_referral_code: str | None = None
    to_external_ref: str | None = None


@dataclass(frozen=True, slots=True)
class OpenRedPacket:
    code: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RedeemReward:
    reward_id: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class AdjustPoints:
    member_id: int
    points: int
    reason_code: ReasonCode
    idempotency_key: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizeRedemption:
    """A merchant holds a member's points at its POS: `points`, or one unit of `reward_id` at its cost."""

    code: str
    idempotency_key: str
    points: int | None = None
    reward_id: int | None = None


@dataclass(frozen=True, slots=True)
class CaptureRedemption:
    """Spend `points` of the hold (None: all of it); the rest goes back to the member."""

    redemption_id: int
    idempotency_key: str
    points: int | None = None
    purchase_id: int | None = None


@dataclass(frozen=True, slots=True)
class VoidRedemption:
    redemption_id: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class FulfilRedemption:
    redemption_id: int


@dataclass(frozen=True, slots=True)
class CancelRedemption:
    redemption_id: int
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class UpdateRiskRule:
    """Omitted (None) settings stay as they are."""

    rule_id: int
    action: str | None = None
    limit: int | None = None
    window_minutes: int | None = None
    currency: str | None = None
    min_history: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DecideRiskReview:
    review_id: int
    approve: bool
    idempotency_key: str
