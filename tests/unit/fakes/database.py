"""The one in-memory database every fake shares: its tables, its id sequence, the programme."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.audit import AuditEvent
from domain.ledger import JournalEntry
from domain.lots import LotDraw, PointsLot
from domain.members import Balance, Member
from domain.merchants import Merchant, PartnerBrand
from domain.offers import Award, Offer, Usage
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase
from domain.rewards import Redemption, Reward
from domain.security import SecurityEvent
from domain.tiers import Tier, TierChange

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


@dataclass
class Tables:
    members: dict[int, Member] = field(default_factory=dict)
    balances: dict[int, Balance] = field(default_factory=dict)
    merchants: dict[int, Merchant] = field(default_factory=dict)
    partners: dict[int, PartnerBrand] = field(default_factory=dict)
    rewards: dict[int, Reward] = field(default_factory=dict)
    journal: dict[int, PostedEntry] = field(default_factory=dict)
    lots: dict[int, PointsLot] = field(default_factory=dict)
    lot_draws: list[tuple[int, LotDraw]] = field(default_factory=list)  # (entry id, draw)
    purchases: dict[int, Purchase] = field(default_factory=dict)
    redemptions: dict[int, Redemption] = field(default_factory=dict)
    adjustments: dict[int, Adjustment] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRow] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    security_events: list[SecurityEvent] = field(default_factory=list)
    offers: dict[int, Offer] = field(default_factory=dict)
    expirations: dict[int, tuple[int, int, datetime]] = field(default_factory=dict)
    offer_usage: dict[int, Usage] = field(default_factory=dict)  # member_uses unused here
    offer_member_uses: dict[tuple[int, int, datetime], int] = field(default_factory=dict)
    awards: list[tuple[int, Award]] = field(default_factory=list)  # (purchase id, award)
    member_awards: list[tuple[int, int, int, str, int]] = field(
        default_factory=list
    )  # id, member, offer, why, points
    tiers: dict[int, Tier] = field(default_factory=dict)
    tier_changes: list[TierChange] = field(default_factory=list)
    redemption_codes: dict[str, tuple[int, datetime, datetime | None]] = field(
        default_factory=dict
    )  # hash -> (member, expires at, used at)
    tier_ids: set[int] = field(default_factory=set)


class FakeDatabase:
    def __init__(self, programme: Programme = DEFAULT_PROGRAMME) -> None:
        self.tables = Tables()
        self.programme = programme
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)


class Repository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.tables
