"""The one in-memory database every fake shares: its tables, its id sequence, the programme."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from domain.audit import AuditEvent
from domain.events import Event
from domain.ledger import JournalEntry
from domain.lots import LotDraw, PointsLot
from domain.members import Balance, Member
from domain.merchants import Merchant, PartnerBrand
from domain.movements import Expiration, MemberAward, Transfer
from domain.offers import Award, Coupon, Offer, Usage
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase
from domain.refunds import Refund
from domain.rewards import Redemption, Reward
from domain.security import SecurityEvent
from domain.tiers import Tier, TierChange
from domain.vouchers import Voucher
from domain.webhooks import Delivery, Subscription
from tests.unit.fakes.guards import GuardTables
from tests.unit.fakes.member_links import MemberLinkRow
from tests.unit.fakes.notification_tables import NotificationTables
from tests.unit.fakes.profiles import ProfileTables
from tests.unit.fakes.risk import RiskTables
from tests.unit.fakes.segments import SegmentTables
from tests.unit.fakes.settlement_imports import SettlementImportTables

DEFAULT_PROGRAMME = Programme(
    name="Test Rewards",
    points_validity_months=24,
    earn_rates={"CNY": Decimal(1), "HKD": Decimal(1), "JPY": Decimal("0.05")},
)


@dataclass(frozen=True, slots=True)
class PostedEntry:
    id: int
    entry: JournalEntry
    at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    request_hash: str
    response: dict[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PurchaseTerms:
    """What the purchases table holds beside the domain's Purchase."""

    matures_at: datetime | None = None
    coupon_id: int | None = None


@dataclass(frozen=True, slots=True)
class AwardRow:
    """A purchase award (purchase_awards), with what refunds gave back to its offer so far."""

    id: int
    purchase_id: int
    member_id: int
    award: Award
    cap_period_start: datetime | None
    refunded_points: int = 0
    refunded_money_minor: int = 0
    use_returned: bool = False
    currency: str | None = None  # the purchase's, which the award's money is in
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RedemptionCodeRow:
    member_id: int
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None


@dataclass
class Tables:
    members: dict[int, Member] = field(default_factory=dict)  # with their activity, as read back
    balances: dict[int, Balance] = field(default_factory=dict)
    merchants: dict[int, Merchant] = field(default_factory=dict)
    partners: dict[int, PartnerBrand] = field(default_factory=dict)
    rewards: dict[int, Reward] = field(default_factory=dict)
    programme: Programme = DEFAULT_PROGRAMME  # a table too: an uncommitted change is rolled back
    journal: dict[int, PostedEntry] = field(default_factory=dict)
    lots: dict[int, PointsLot] = field(default_factory=dict)
    lot_draws: list[tuple[int, LotDraw]] = field(default_factory=list)  # (entry id, draw)
    lot_draws_at: dict[int, datetime] = field(default_factory=dict)  # entry id -> when its draws were made
    purchases: dict[int, Purchase] = field(default_factory=dict)
    purchase_terms: dict[int, PurchaseTerms] = field(default_factory=dict)  # by purchase id
    refunds: dict[int, Refund] = field(default_factory=dict)
    redemptions: dict[int, Redemption] = field(default_factory=dict)
    adjustments: dict[int, Adjustment] = field(default_factory=dict)
    transfers: dict[int, Transfer] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRow] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    security_events: list[SecurityEvent] = field(default_factory=list)
    offers: dict[int, Offer] = field(default_factory=dict)
    expirations: dict[int, Expiration] = field(default_factory=dict)
    offer_usage: dict[int, Usage] = field(default_factory=dict)  # member_uses unused here
    offer_member_uses: dict[tuple[int, int, datetime], int] = field(default_factory=dict)
    purchase_awards: dict[int, AwardRow] = field(default_factory=dict)
    # (offer id, experiment id, member id) -> (arm, assigned at): the first record stands
    assignments: dict[tuple[int, int, int], tuple[str, datetime]] = field(default_factory=dict)
    member_awards: dict[int, MemberAward] = field(default_factory=dict)
    coupons: dict[int, Coupon] = field(default_factory=dict)
    tiers: dict[int, Tier] = field(default_factory=dict)
    tier_changes: list[TierChange] = field(default_factory=list)
    redemption_codes: dict[str, RedemptionCodeRow] = field(default_factory=dict)  # by code hash
    codes_earned: dict[str, datetime] = field(default_factory=dict)  # code hash -> earned at
    member_links: dict[tuple[int, int], MemberLinkRow] = field(default_factory=dict)  # (merchant, member)
    risk: RiskTables = field(default_factory=RiskTables)
    profiles: ProfileTables = field(default_factory=ProfileTables)
    segments: SegmentTables = field(default_factory=SegmentTables)
    vouchers: dict[str, Voucher] = field(default_factory=dict)  # by code hash
    settlement_imports: SettlementImportTables = field(default_factory=SettlementImportTables)
    guards: GuardTables = field(default_factory=GuardTables)
    outbox: list[Event] = field(default_factory=list)  # committed with the rest, or rolled back
    webhook_subscriptions: dict[int, Subscription] = field(default_factory=dict)
    webhook_secrets: dict[int, tuple[str, ...]] = field(default_factory=dict)  # current, then previous
    webhook_deliveries: dict[int, Delivery] = field(default_factory=dict)
    notifications: NotificationTables = field(default_factory=NotificationTables)

    @property
    def awards(self) -> list[tuple[int, Award]]:
        """(purchase id, award), in the order they were recorded."""
        return [(row.purchase_id, row.award) for row in self.purchase_awards.values()]

    def touch(self, member_id: int, at: datetime) -> None:
        """The member acted: it is awake (what the SQL ledger does to the balance row's activity)."""
        if member_id in self.members:
            self.members[member_id] = replace(
                self.members[member_id], last_activity_at=at, dormant_since=None
            )

    def entry_of_lot(self, lot_id: int) -> PostedEntry:
        """The entry that created the lot: the fake ledger numbers an entry's lots right after it."""
        return self.journal[max(entry_id for entry_id in self.journal if entry_id < lot_id)]


class FakeDatabase:
    def __init__(self, programme: Programme = DEFAULT_PROGRAMME) -> None:
        self.tables = Tables(programme=programme)
        self._ids = itertools.count(1)
        # Members whose balance rows another transaction holds: `skip_locked` leaves them out, as
        # SKIP LOCKED does; a lock that waits gets them (the other transaction has finished).
        self.locked_elsewhere: set[int] = set()
        # PostgreSQL books an entry touching one member in one statement (`post_at_once`); SQLite
        # never does and every entry takes the general path. Off here, as on SQLite.
        self.posts_at_once = False

    def next_id(self) -> int:
        return next(self._ids)

    @property
    def programme(self) -> Programme:
        return self.tables.programme


class Repository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.tables
