"""Typed table rows. Separate from domain objects: `mapping.py` converts between them.

Every member-scoped table carries `member_id`, so the data can later be distributed by member.
Primary keys are ordered integers (identity / rowid): random keys make journal inserts slower.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Names alembic can drop later, and that SQLite batch migrations need.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT identity on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on both databases (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProgrammeRow(Base):
    __tablename__ = "programme"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    points_validity_months: Mapped[int] = mapped_column(Integer)
    transfer_limit_per_month: Mapped[int] = mapped_column(BigInteger, server_default="10000")
    pending_days: Mapped[int] = mapped_column(Integer, server_default="0")
    expiry_policy: Mapped[str] = mapped_column(String(16), server_default="FIXED_MONTHS")
    hold_minutes: Mapped[int] = mapped_column(Integer, server_default="30")
    dormant_after_days: Mapped[int] = mapped_column(Integer, server_default="365")
    tier_window_months: Mapped[int] = mapped_column(Integer, server_default="12")
    tier_grace_days: Mapped[int] = mapped_column(Integer, server_default="30")
    voucher_valid_days: Mapped[int] = mapped_column(Integer, server_default="30")
    closure_policy: Mapped[str] = mapped_column(String(8), server_default="FORFEIT")
    closure_grace_days: Mapped[int] = mapped_column(Integer, server_default="30")
    expiry_notice_days: Mapped[int] = mapped_column(Integer, server_default="7")
    marketing_per_week: Mapped[int] = mapped_column(Integer, server_default="3")
    quiet_hours_start: Mapped[str] = mapped_column(String(5), server_default="22:00")  # local HH:MM
    quiet_hours_end: Mapped[str] = mapped_column(String(5), server_default="08:00")
    sign_up_nudge_days: Mapped[int] = mapped_column(Integer, server_default="14")
    # Bumped by every change to the programme's settings or merchants; see persistence/catalogue.py.
    catalogue_version: Mapped[int] = mapped_column(BigInteger, server_default="1")


class ProgrammeCurrencyRow(Base):
    __tablename__ = "programme_currencies"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    points_per_unit: Mapped[str] = mapped_column(String(24))  # a Decimal, kept exact as text
    point_value: Mapped[str | None] = mapped_column(String(24))  # one point in currency units, as text


class PartnerBrandRow(Base):
    __tablename__ = "partner_brands"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MerchantRow(Base):
    __tablename__ = "merchants"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_brands.id"), index=True)
    earn_rate_override: Mapped[str | None] = mapped_column(String(24))
    pending_days: Mapped[int | None] = mapped_column(Integer)  # overrides the programme's return window
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TierRow(Base):
    """A tier: a member qualifies with `min_points` qualifying points or `min_spend_minor` of spend in
    the programme's rolling window; a higher `rank` is a better tier."""

    __tablename__ = "tiers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_points: Mapped[int | None] = mapped_column(BigInteger)
    min_spend_minor: Mapped[int | None] = mapped_column(BigInteger)
    spend_currency: Mapped[str | None] = mapped_column(String(3))
    earn_multiplier: Mapped[str] = mapped_column(String(12), server_default="1")  # a Decimal, as text
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        # The admin's member search: by tier, and by enrolment date.
        Index("ix_members_tier_id_id", "tier_id", "id"),
        Index("ix_members_enrolled_at_id", "enrolled_at", "id"),
        # The forfeiture job looks for closed members whose points' grace has ended.
        Index(
            "ix_members_points_forfeit_at_closed",
            "points_forfeit_at",
            postgresql_where=text("points_forfeit_at IS NOT NULL"),
            sqlite_where=text("points_forfeit_at IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(60))
    income_band: Mapped[str | None] = mapped_column(String(12))
    tags: Mapped[list[str]] = mapped_column(JSON)
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name; quiet hours are kept in it
    # Contact data at rest: Fernet tokens, and HMAC-SHA256 of the normalised value for exact lookup
    # (persistence/personal_data.py). Never the plain value.
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    phone_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    email_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    tier_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Below its tier's thresholds at an evaluation: kept until then, downgraded at the next one after.
    tier_grace_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # given or withdrawn
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A closed member's points wait until then (the programme's KEEP policy); None: nothing waits.
    points_forfeit_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TierChangeRow(Base):
    """A member's tier history: every upgrade and downgrade, with the figures it was decided on."""

    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_member_id_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    reason: Mapped[str] = mapped_column(String(12))
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    qualifying_spend_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberBalanceRow(Base):
    """The member's stored balances: the row every points movement for the member locks."""

    __tablename__ = "member_balances"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        CheckConstraint("under_review >= 0", name="under_review_not_negative"),
        # The dormancy job looks for members not yet dormant whose last activity is old.
        Index(
            "ix_member_balances_last_activity_at_awake",
            "last_activity_at",
            postgresql_where=text("dormant_since IS NULL"),
            sqlite_where=text("dormant_since IS NULL"),
        ),
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # points owed after refunds
    # earned points a risk rule holds for review: not spendable
    under_review: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dormant_since: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RewardRow(Base):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("cost_points > 0", name="cost_positive"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    cost_points: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)  # redemptions per member per period
    limit_period: Mapped[str | None] = mapped_column(String(8))
    tier_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every tier
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurchaseRow(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        Index("ix_purchases_member_id_id", "member_id", "id"),
        Index("ix_purchases_merchant_id_member_id", "merchant_id", "member_id"),
        Index("ix_purchases_merchant_id_reference", "merchant_id", "reference"),
        # The maturation job looks for purchases whose pending points are due.
        Index(
            "ix_purchases_matures_at_pending",
            "matures_at",
            postgresql_where=text("points_pending > 0"),
            sqlite_where=text("points_pending > 0"),
        ),
        # A merchant's statement reads its purchases, refunds and captures recorded in a period.
        Index("ix_purchases_merchant_id_created_at", "merchant_id", "created_at"),
        CheckConstraint("refunded_minor <= amount_minor", name="refund_within_amount"),
        CheckConstraint("points_refunded <= points_earned", name="points_refund_within_earned"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reference: Mapped[str | None] = mapped_column(String(100))
    points_earned: Mapped[int] = mapped_column(BigInteger)
    points_pending: Mapped[int] = mapped_column(BigInteger)
    matures_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when pending points mature
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefundRow(Base):
    """Money a merchant gave back on a purchase, and the points that went with it: the origin of the
    REFUND entry (points reversed) and the RETURN entry (points the purchase was paid with)."""

    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_member_id_id", "member_id", "id"),
        Index("ix_refunds_merchant_id_reference", "merchant_id", "reference"),
        Index("ix_refunds_merchant_id_created_at", "merchant_id", "created_at"),
        Index("ix_refunds_created_at", "created_at"),  # a funder's statement: the period's refunds
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    debt_created: Mapped[int] = mapped_column(BigInteger)
    points_returned: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RedemptionRow(Base):
    """A reward redemption (kind REWARD) or a hold at a merchant's POS (kind POS)."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("ix_redemptions_member_id_id", "member_id", "id"),
        Index("ix_redemptions_merchant_id_finalized_at", "merchant_id", "finalized_at"),
        # The hold-release job looks for authorized holds past their expiry.
        Index(
            "ix_redemptions_hold_expires_at_authorized",
            "hold_expires_at",
            postgresql_where=text("status = 'AUTHORIZED'"),
            sqlite_where=text("status = 'AUTHORIZED'"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    points: Mapped[int] = mapped_column(BigInteger)  # the reward's cost, or the points authorized
    status: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8), server_default="REWARD")
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    captured_points: Mapped[int | None] = mapped_column(BigInteger)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    points_returned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RedemptionCodeRow(Base):
    """A one-time code a member's wallet shows at a POS; only its hash is kept."""

    __tablename__ = "redemption_codes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # paid with (authorizeRedemption)
    earned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # earned with (postPurchase)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VoucherRow(Base):
    """What a redeemed reward's member shows to be handed it: found by the code's hash; the code itself
    kept only sealed with the personal-data keys, so the member's wallet can show it again."""

    __tablename__ = "vouchers"
    __table_args__ = (
        # The voucher-expiry job looks for active vouchers past their date.
        Index(
            "ix_vouchers_expires_at_active",
            "expires_at",
            postgresql_where=text("status = 'ACTIVE'"),
            sqlite_where=text("status = 'ACTIVE'"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_sealed: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))  # the one that redeemed it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberLinkRow(Base):
    """A member's standing link to a merchant: the merchant's own reference for the member. An
    unlinked row keeps its reference, retired for good; linking again gives a new one."""

    __tablename__ = "member_links"
    __table_args__ = (UniqueConstraint("merchant_id", "member_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    member_ref: Mapped[str] = mapped_column(String(32), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unlinked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OfferExposureRow(Base):
    """How often an offer was listed to a member on a UTC day (domain/exposures.py), for evaluating it."""

    __tablename__ = "offer_exposures"
    # Counters written in batches by the exposure buffer: no foreign keys to check on every row.
    offer_id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    listings: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberActivityDayRow(Base):
    """A member's purchases and spend for one UTC day at one merchant, channel and currency: the
    profile's counters (domain/profiles.py), net of refunds; rows past the retention are dropped."""

    __tablename__ = "member_activity_days"
    # Counters written by every purchase: no foreign keys, whose checks would take a share lock on the
    # member's and the merchant's rows in every earn (the purchase row already references both).
    member_id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer)
    spend_minor: Mapped[int] = mapped_column(BigInteger)


class MemberProfileRow(Base):
    """A member's profile figures as of the last segment refresh (domain/services/segments.py): the
    windows from its day counters, and the days its idleness and membership count from."""

    __tablename__ = "member_profiles"
    # Derived data, rewritten whole by a full refresh: no foreign key to check on every row (members
    # are never deleted, only pseudonymised).
    member_id: Mapped[int] = mapped_column(Id, primary_key=True)
    purchases_30: Mapped[int] = mapped_column(Integer)
    purchases_90: Mapped[int] = mapped_column(Integer)
    purchases_365: Mapped[int] = mapped_column(Integer)
    spend_30: Mapped[int] = mapped_column(BigInteger)
    spend_90: Mapped[int] = mapped_column(BigInteger)
    spend_365: Mapped[int] = mapped_column(BigInteger)
    enrolled_on: Mapped[date] = mapped_column(Date)
    idle_since: Mapped[date] = mapped_column(Date)  # the last purchase's day within a year, else enrolled_on
    refreshed_on: Mapped[date] = mapped_column(Date)


class MemberCategoryProfileRow(Base):
    """A member's purchases and spend at merchants of one category, as of the last refresh."""

    __tablename__ = "member_category_profiles"
    member_id: Mapped[int] = mapped_column(Id, primary_key=True)  # derived: no foreign key
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    purchases_90: Mapped[int] = mapped_column(Integer)
    spend_365: Mapped[int] = mapped_column(BigInteger)


class SegmentRow(Base):
    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10))
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # persistence/segment_codec.py
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SegmentMemberRow(Base):
    """Materialised membership: offers read it on the earn path, so it is one indexed lookup. No
    foreign keys: only the refresh writes it, from members and segments that are never deleted, and
    their checks were two thirds of the cost of writing a large segment."""

    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_member_id", "member_id"),)
    segment_id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)


class SegmentSizeRow(Base):
    """A segment's size at the end of each day's refresh (the last refresh of the day wins)."""

    __tablename__ = "segment_sizes"
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class SegmentRefreshRow(Base):
    """Where the incremental refresh left off: the last purchase and refund whose members it re-read."""

    __tablename__ = "segment_refresh"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_purchase_id: Mapped[int] = mapped_column(BigInteger)
    last_refund_id: Mapped[int] = mapped_column(BigInteger)
    full_refresh_on: Mapped[date | None] = mapped_column(Date)


class LifecycleRulesRow(Base):
    """The one row of lifecycle thresholds, in days (domain/profiles.py LifecycleRules)."""

    __tablename__ = "lifecycle_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    new_member_days: Mapped[int] = mapped_column(Integer)
    at_risk_after_days: Mapped[int] = mapped_column(Integer)
    dormant_after_days: Mapped[int] = mapped_column(Integer)
    churned_after_days: Mapped[int] = mapped_column(Integer)


class AdjustmentRow(Base):
    __tablename__ = "adjustments"
    __table_args__ = (Index("ix_adjustments_member_id_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    reason_code: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExpirationRow(Base):
    """Points a member lost to expiry at one time: the origin of the EXPIRE journal entry."""

    __tablename__ = "expirations"
    __table_args__ = (Index("ix_expirations_member_id_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransferRow(Base):
    """Points a member gave another: the origin of the TRANSFER journal entry."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_member_id_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))  # who gave
    to_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalEntryRow(Base):
    """An immutable journal entry; its lines sum to zero. `origin` names the business fact behind it."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_origin", "origin_type", "origin_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    origin_type: Mapped[str] = mapped_column(String(12))
    origin_id: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalLineRow(Base):
    """One posting. Member accounts are (kind, member_id); funding accounts (kind, owner_id)."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_member_id_id", "member_id", "id"),
        Index("ix_journal_lines_account", "account_kind", "owner_id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_kind: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)


class PointsLotRow(Base):
    __tablename__ = "points_lots"
    __table_args__ = (
        Index("ix_points_lots_member_id_expires_at", "member_id", "expires_at", "id"),
        # The expiry job looks for lots past their date with points left.
        Index(
            "ix_points_lots_expires_at_remaining",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_within_points"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LotDrawRow(Base):
    """Which lot each debit consumed, and how much of it."""

    __tablename__ = "lot_draws"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferRow(Base):
    """An offer's current version, and what it has given so far (the counters its limits check)."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("budget_points IS NULL OR points_used <= budget_points", name="points_within_budget"),
        CheckConstraint(
            "budget_money_minor IS NULL OR money_used_minor <= budget_money_minor", name="money_within_budget"
        ),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    mechanic: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # the current version, as offer_versions holds it
    budget_points: Mapped[int | None] = mapped_column(BigInteger)
    budget_money_minor: Mapped[int | None] = mapped_column(BigInteger)
    max_uses: Mapped[int | None] = mapped_column(BigInteger)
    points_used: Mapped[int] = mapped_column(BigInteger, default=0)
    money_used_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferVersionRow(Base):
    """Every version an offer has had: what a purchase got is read against the version it used."""

    __tablename__ = "offer_versions"
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferFunderRow(Base):
    """Who pays for an offer: lets a partner or merchant find the offers it funds."""

    __tablename__ = "offer_funders"
    __table_args__ = (Index("ix_offer_funders_funder", "funder_kind", "funder_id"),)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    funder_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    funder_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0 for the programme
    percent: Mapped[int] = mapped_column(Integer)


class OfferMemberUsageRow(Base):
    """How often a member has had an offer in one cap period."""

    __tablename__ = "offer_member_usage"
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    uses: Mapped[int] = mapped_column(Integer)


class CouponRow(Base):
    """A coupon code; `uses` is claimed with a conditional update, so a code is never over-used."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_within_limit"),
        Index("ix_coupons_member_id", "member_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExperimentAssignmentRow(Base):
    """A member's arm in an offer's experiment, recorded the first time the member is evaluated for the
    offer (earn, wallet listing); the first record stands. No foreign keys: checking them would take a
    share lock on the member's and the offer's rows in every earn (as the day counters found)."""

    __tablename__ = "experiment_assignments"
    offer_id: Mapped[int] = mapped_column(Id, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the version it began at
    member_id: Mapped[int] = mapped_column(Id, primary_key=True)
    arm: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferGuardRow(Base):
    """A guard rule on an offer (domain/experiments/guards.py): at most one of each kind, armed until
    `fired_at` records the one time it paused the offer."""

    __tablename__ = "offer_guards"
    __table_args__ = (
        UniqueConstraint("offer_id", "kind", name="uq_offer_guards_offer_id_kind"),
        # The job's scan: unfired guards, by id.
        Index(
            "ix_offer_guards_armed",
            "id",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    tolerance_percent: Mapped[int] = mapped_column(Integer)
    min_used_percent: Mapped[int] = mapped_column(Integer)
    min_participants: Mapped[int] = mapped_column(BigInteger)
    min_roi_percent: Mapped[int] = mapped_column(Integer)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fired_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurchaseAwardRow(Base):
    """What one offer gave one purchase, at the offer version it used."""

    __tablename__ = "purchase_awards"
    __table_args__ = (
        Index("ix_purchase_awards_offer_id", "offer_id"),
        Index("ix_purchase_awards_created_at", "created_at"),  # statements read a period's awards
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    offer_version: Mapped[int] = mapped_column(Integer)
    mechanic: Mapped[str] = mapped_column(String(24))
    points: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    cashback_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # What refunds gave back to the offer's budget, and whether the use (cap, coupon) was returned.
    refunded_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refunded_money_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    use_returned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    cap_period_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberAwardRow(Base):
    """A bonus an offer gave a member outside its own purchase: on sign-up, or for a referral (the
    referee's purchase it came from is kept). The origin of its journal entry."""

    __tablename__ = "member_awards"
    __table_args__ = (Index("ix_member_awards_member_id_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    offer_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(10))  # SIGN_UP or REFERRAL
    points: Mapped[int] = mapped_column(BigInteger)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AwardFundingRow(Base):
    """Who paid for an award, and how much: a funder's statement is a query on this table."""

    __tablename__ = "award_funding"
    __table_args__ = (Index("ix_award_funding_funder", "funder_kind", "funder_id"),)
    award_id: Mapped[int] = mapped_column(ForeignKey("purchase_awards.id"), primary_key=True)
    funder_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    funder_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0 for the programme
    points: Mapped[int] = mapped_column(BigInteger)
    money_minor: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditLogRow(Base):
    """Append-only (triggers refuse UPDATE and DELETE) and chained: `hash` is SHA-256 over `prev_hash`
    and the row's content (persistence/repositories/audit.py), so an altered row breaks the chain."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_member_id_id", "member_id", "id"),
        Index("ix_audit_log_actor_id", "actor", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
        Index("ix_audit_log_created_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigInteger)  # the member concerned, if any
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainRow(Base):
    """The chain's head: one row, locked by every append so the chain never forks, and compared with
    the last audit row by verify-ledger, so rows cut from the end are noticed too."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)


class RiskRuleRow(Base):
    """One risk rule and its thresholds: admin settings, cached with the catalogue."""

    __tablename__ = "risk_rules"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(10))
    limit_value: Mapped[int] = mapped_column(BigInteger)
    window_minutes: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    min_history: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str] = mapped_column(String(200))


class RiskCounterRow(Base):
    """A figure the risk rules read, kept as it goes: claimed (added to) under its row lock by each
    earning, so racing purchases count each other. See domain/risk.py for the scopes."""

    __tablename__ = "risk_counters"
    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    detail: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class RiskReviewRow(Base):
    """An earning a risk rule held: its points sit in the member's review balance until decided."""

    __tablename__ = "risk_reviews"
    __table_args__ = (
        Index("ix_risk_reviews_status_id", "status", "id"),
        Index("ix_risk_reviews_member_id_id", "member_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the rules and figures behind the hold
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))


class SecurityEventRow(Base):
    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    secret: Mapped[str | None] = mapped_column(String(40))
    principal: Mapped[str] = mapped_column(String(200))  # role and token subject, never a token
    client_address: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    cooldown_seconds: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SettlementImportRow(Base):
    """A settlement file a merchant uploaded, kept as sent, and how far its posting has come."""

    __tablename__ = "settlement_imports"
    # The workers look for queued imports and lapsed leases, oldest first.
    __table_args__ = (Index("ix_settlement_imports_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    status: Mapped[str] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(5))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    total_lines: Mapped[int] = mapped_column(BigInteger)
    cursor_line: Mapped[int] = mapped_column(BigInteger, default=0)  # the last physical line posted
    lines_done: Mapped[int] = mapped_column(BigInteger, default=0)
    posted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    worker: Mapped[str | None] = mapped_column(String(40))  # who holds the lease, while RUNNING
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(Text)


class SettlementImportErrorRow(Base):
    """A line of an import that was not posted, and why."""

    __tablename__ = "settlement_import_errors"
    import_id: Mapped[int] = mapped_column(ForeignKey("settlement_imports.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)


class OutboxEventRow(Base):
    """A business event, written in the transaction that caused it (domain/events.py). The delivery
    worker fans each one out to the matching subscriptions (`webhook_deliveries`) and marks it
    dispatched; until then the partial index holds it, so finding new events reads only those.

    The readers write `~dispatched` (`NOT dispatched` on PostgreSQL, `dispatched = 0` on SQLite),
    each the term its database needs to use the index; `IS false` would match neither."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_undispatched",
            "id",
            postgresql_where=text("NOT dispatched"),
            sqlite_where=text("dispatched = 0"),
        ),
        Index(
            "ix_outbox_events_unreacted",
            "id",
            postgresql_where=text("NOT reacted"),
            sqlite_where=text("reacted = 0"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dispatched: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Handled by the reactions consumer (tier notices, triggers: domain/services/triggers.py).
    reacted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class NotificationRow(Base):
    """Every notice the programme decided on: sent (a notification.requested event went with it) or
    suppressed with the rule's reason. `key` makes a notice once only (an expiry day per member)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_member_sent", "member_id", "category", "created_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    suppressed_reason: Mapped[str | None] = mapped_column(String(20))  # None: sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TriggerRow(Base):
    """A triggered campaign: on events of `event_type`, when `conditions` hold, do `actions`."""

    __tablename__ = "triggers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TriggerFiringRow(Base):
    """A trigger fired on an event: written in the transaction that makes its effects, and unique
    per (trigger, event), so a replayed or concurrently processed event fires it once."""

    __tablename__ = "trigger_firings"
    __table_args__ = (UniqueConstraint("trigger_id", "event_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    trigger_id: Mapped[int] = mapped_column(ForeignKey("triggers.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    outcomes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberNudgeRow(Base):
    """A member the sign-up nudge job told of (member.no_purchase): once per member."""

    __tablename__ = "member_nudges"
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookSubscriptionRow(Base):
    """Where events go: a webhook URL (signed with `secret`, and during a rotation also with
    `previous_secret` until `previous_until`), or the NATS JetStream transport; for a partner, a
    merchant or an app, filtered by event type (none listed: every type)."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transport: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    owner_kind: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(200))
    # Sealed with the personal-data keys (persistence/delivery.py): a Fernet token, 140 characters.
    secret: Mapped[str] = mapped_column(String(250))
    previous_secret: Mapped[str | None] = mapped_column(String(250))
    previous_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDeliveryRow(Base):
    """One event for one subscription: PENDING (due at `next_attempt_at`; a worker that takes it
    pushes that forward by its lease, so a worker killed mid-send leaves it due again), DELIVERED, or
    DEAD after the last attempt (an admin may redeliver it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_seq", name="uq_webhook_deliveries_subscription_event"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
        # A member's earlier undelivered event, for the order check.
        Index(
            "ix_webhook_deliveries_member_order",
            "subscription_id",
            "member_id",
            "event_seq",
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
        Index("ix_webhook_deliveries_event_seq", "event_seq"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def _table(row: type[Base]) -> Table:
    return cast(Table, row.__table__)


# Core handles for the hot paths: explicit statements, no ORM identity map or object churn.
programme = _table(ProgrammeRow)
programme_currencies = _table(ProgrammeCurrencyRow)
tiers = _table(TierRow)
tier_changes = _table(TierChangeRow)
refunds = _table(RefundRow)
redemption_codes = _table(RedemptionCodeRow)
vouchers = _table(VoucherRow)
member_links = _table(MemberLinkRow)
member_activity_days = _table(MemberActivityDayRow)
offer_exposures = _table(OfferExposureRow)
lifecycle_rules = _table(LifecycleRulesRow)
member_profiles = _table(MemberProfileRow)
member_category_profiles = _table(MemberCategoryProfileRow)
segments = _table(SegmentRow)
segment_members = _table(SegmentMemberRow)
segment_sizes = _table(SegmentSizeRow)
segment_refresh = _table(SegmentRefreshRow)
partner_brands = _table(PartnerBrandRow)
merchants = _table(MerchantRow)
members = _table(MemberRow)
member_balances = _table(MemberBalanceRow)
rewards = _table(RewardRow)
purchases = _table(PurchaseRow)
redemptions = _table(RedemptionRow)
adjustments = _table(AdjustmentRow)
expirations = _table(ExpirationRow)
transfers = _table(TransferRow)
journal_entries = _table(JournalEntryRow)
journal_lines = _table(JournalLineRow)
points_lots = _table(PointsLotRow)
lot_draws = _table(LotDrawRow)
offers = _table(OfferRow)
offer_versions = _table(OfferVersionRow)
offer_funders = _table(OfferFunderRow)
offer_member_usage = _table(OfferMemberUsageRow)
coupons = _table(CouponRow)
offer_guards = _table(OfferGuardRow)
purchase_awards = _table(PurchaseAwardRow)
experiment_assignments = _table(ExperimentAssignmentRow)
award_funding = _table(AwardFundingRow)
member_awards = _table(MemberAwardRow)
idempotency_keys = _table(IdempotencyKeyRow)
audit_log = _table(AuditLogRow)
audit_chain = _table(AuditChainRow)
security_events = _table(SecurityEventRow)
risk_rules = _table(RiskRuleRow)
risk_counters = _table(RiskCounterRow)
risk_reviews = _table(RiskReviewRow)
settlement_imports = _table(SettlementImportRow)
settlement_import_errors = _table(SettlementImportErrorRow)
outbox_events = _table(OutboxEventRow)
webhook_subscriptions = _table(WebhookSubscriptionRow)
webhook_deliveries = _table(WebhookDeliveryRow)
notifications = _table(NotificationRow)
triggers = _table(TriggerRow)
trigger_firings = _table(TriggerFiringRow)
member_nudges = _table(MemberNudgeRow)

# Lists newest first (persistence/queries/purchase_lists.py): a page is one range of these indexes,
# however long the history. The member's also serves tier qualification's rolling window.
Index(
    "ix_purchases_member_history",
    purchases.c.member_id,
    purchases.c.occurred_at.desc(),
    purchases.c.id.desc(),
)
Index(
    "ix_purchases_merchant_history",
    purchases.c.merchant_id,
    purchases.c.occurred_at.desc(),
    purchases.c.id.desc(),
)
Index("ix_refunds_merchant_history", refunds.c.merchant_id, refunds.c.created_at.desc(), refunds.c.id.desc())
