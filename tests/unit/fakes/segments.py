"""The segment port in memory, like persistence/repositories/segments.py: the profile figures come from
the fake day counters, and membership from `domain.segments.matches` over each member's facts (the
meaning the SQL compiler is tested against)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from domain import profiles as dp
from domain.errors import AlreadyExists
from domain.merchants import MerchantCategory
from domain.ports.segments import RefreshMark
from domain.segments import (
    MemberFacts,
    Rule,
    RuleContext,
    Segment,
    SegmentField,
    SegmentKind,
    SegmentStatus,
    matches,
)

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase, Tables


@dataclass(frozen=True, slots=True)
class ProfileFigures:
    windows: dict[int, tuple[int, int]]  # days -> (purchases, spend)
    enrolled_on: date
    idle_since: date
    category_purchases_90d: dict[MerchantCategory, int]
    category_spend_365d: dict[MerchantCategory, int]


@dataclass
class SegmentTables:
    segments: dict[int, Segment] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)  # segment id -> member ids
    sizes: dict[tuple[int, date], int] = field(default_factory=dict)
    profiles: dict[int, ProfileFigures] = field(default_factory=dict)  # member id -> figures
    mark: RefreshMark = field(default_factory=lambda: RefreshMark(0, 0, None))


class FakeSegmentRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.tables

    @property
    def st(self) -> SegmentTables:
        return self.t.segments

    async def add(
        self, *, name: str, description: str | None, kind: SegmentKind, rule: Rule | None, at: datetime
    ) -> Segment:
        self._refuse_taken(name, None)
        segment = Segment(
            self.db.next_id(), name, description, kind, rule, SegmentStatus.ACTIVE, 1, 0, None, at, at
        )
        self.st.segments[segment.id] = segment
        self.st.members[segment.id] = set()
        return segment

    def _refuse_taken(self, name: str, segment_id: int | None) -> None:
        if any(s.name == name and s.id != segment_id for s in self.st.segments.values()):
            raise AlreadyExists("a segment with this name exists", ("name",))

    async def get(self, segment_id: int, *, lock: bool = False) -> Segment | None:
        return self.st.segments.get(segment_id)

    async def update(self, segment: Segment) -> Segment:
        self._refuse_taken(segment.name, segment.id)
        stored = self.st.segments[segment.id]
        self.st.segments[segment.id] = replace(
            stored,
            name=segment.name,
            description=segment.description,
            rule=segment.rule,
            status=segment.status,
            version=segment.version,
            updated_at=segment.updated_at,
        )
        return self.st.segments[segment.id]

    async def active(self) -> list[Segment]:
        return sorted(
            (
                s
                for s in self.st.segments.values()
                if s.status is SegmentStatus.ACTIVE and s.kind is SegmentKind.RULES
            ),
            key=lambda s: s.id,
        )

    async def refresh_profiles(self, today: date, currency: str, member_ids: Sequence[int] | None) -> int:
        ids = sorted(self.t.members) if member_ids is None else sorted(set(member_ids) & set(self.t.members))
        if member_ids is None:
            self.st.profiles.clear()
        for member_id in ids:
            self.st.profiles[member_id] = self._figures(member_id, today, currency)
        return len(ids)

    def _figures(self, member_id: int, today: date, currency: str) -> ProfileFigures:
        rows = [
            dp.DayActivity(day, merchant_id, self.t.merchants[merchant_id].category, channel, cur, n, spend)
            for (m, day, merchant_id, channel, cur), (n, spend) in self.t.profiles.activity.items()
            if m == member_id
        ]
        enrolled_on = dp.utc_day(self.t.members[member_id].enrolled_at)
        found = dp.insights(
            rows,
            currency=currency,
            today=today,
            enrolled_on=enrolled_on,
            marked_dormant=False,
            rules=dp.LifecycleRules(),
        )
        year = [r for r in rows if dp.window_start(today, dp.LONGEST_WINDOW) <= r.day <= today]
        purchases_90: dict[MerchantCategory, int] = {}
        spend_365: dict[MerchantCategory, int] = {}
        for r in year:
            if r.day >= dp.window_start(today, 90):
                purchases_90[r.category] = purchases_90.get(r.category, 0) + r.purchases
            if r.currency == currency:
                spend_365[r.category] = spend_365.get(r.category, 0) + r.spend_minor
        return ProfileFigures(
            {w.days: (w.purchases, w.spend_minor) for w in found.windows},
            enrolled_on,
            found.last_purchase_day or enrolled_on,
            purchases_90,
            spend_365,
        )

    def facts(self, member_id: int, ctx: RuleContext) -> MemberFacts:
        member = self.t.members[member_id]
        balance = self.t.balances[member_id]
        figures = self.st.profiles.get(member_id)
        today = ctx.today
        enrolled_on = figures.enrolled_on if figures else today
        idle_since = figures.idle_since if figures else today
        windows = figures.windows if figures else {30: (0, 0), 90: (0, 0), 365: (0, 0)}
        tier = self.t.tiers.get(member.tier_id) if member.tier_id is not None else None
        stage = dp.stage(
            ctx.lifecycle,
            today=today,
            enrolled_on=enrolled_on,
            last_purchase=idle_since,
            marked_dormant=member.dormant_since is not None,
        )
        p = member.profile
        numbers = {
            SegmentField.PURCHASES_30D: windows[30][0],
            SegmentField.PURCHASES_90D: windows[90][0],
            SegmentField.PURCHASES_365D: windows[365][0],
            SegmentField.SPEND_30D: windows[30][1],
            SegmentField.SPEND_90D: windows[90][1],
            SegmentField.SPEND_365D: windows[365][1],
            SegmentField.DAYS_SINCE_LAST_PURCHASE: (today - idle_since).days,
            SegmentField.DAYS_SINCE_ENROLMENT: (today - enrolled_on).days,
            SegmentField.AVAILABLE_POINTS: balance.available,
            SegmentField.LIFETIME_EARNED: balance.lifetime_earned,
            SegmentField.BIRTH_YEAR: p.birth_year or 0,
        }
        texts = {
            SegmentField.LIFECYCLE_STAGE: stage.value,
            SegmentField.TIER: tier.code if tier else ctx.entry_tier_code,
            SegmentField.STATUS: member.status.value,
            SegmentField.REGION: p.region or "",
            SegmentField.INCOME_BAND: p.income_band.value if p.income_band else "",
        }
        return MemberFacts(
            numbers,
            texts,
            frozenset(p.tags),
            figures.category_purchases_90d if figures else {},
            figures.category_spend_365d if figures else {},
        )

    async def refresh_members(
        self, segment_id: int, rule: Rule, ctx: RuleContext, member_ids: Sequence[int] | None
    ) -> int | None:
        ids = set(self.t.members) if member_ids is None else set(member_ids) & set(self.t.members)
        current = self.st.members.setdefault(segment_id, set())
        for member_id in ids:
            if matches(rule, self.facts(member_id, ctx)):
                current.add(member_id)
            else:
                current.discard(member_id)
        return len(current) if member_ids is None else None

    async def set_members(self, segment_id: int, member_ids: Sequence[int]) -> None:
        self.st.members[segment_id] = set(member_ids)

    async def record_size(self, segment_id: int, day: date, at: datetime, size: int | None = None) -> int:
        size = len(self.st.members.get(segment_id, set())) if size is None else size
        self.st.segments[segment_id] = replace(self.st.segments[segment_id], size=size, refreshed_at=at)
        self.st.sizes[(segment_id, day)] = size
        return size

    async def member_ids_by_external_ref(self, refs: Sequence[str]) -> dict[str, int]:
        wanted = set(refs)
        return {m.external_ref: m.id for m in self.t.members.values() if m.external_ref in wanted}

    async def member_segments(self, member_id: int) -> frozenset[int]:
        return frozenset(
            segment_id
            for segment_id, members in self.st.members.items()
            if member_id in members and self.st.segments[segment_id].status is SegmentStatus.ACTIVE
        )

    async def member_refs(self, segment_id: int, limit: int) -> list[tuple[int, str]]:
        ids = sorted(self.st.members.get(segment_id, set()))[:limit]
        return [(i, self.t.members[i].external_ref) for i in ids]

    async def refresh_mark(self) -> RefreshMark:
        return self.st.mark

    async def latest_mark(self) -> RefreshMark:
        return RefreshMark(max(self.t.purchases, default=0), max(self.t.refunds, default=0), None)

    async def set_refresh_mark(self, mark: RefreshMark) -> None:
        self.st.mark = mark

    async def acted_since(self, mark: RefreshMark, limit: int) -> tuple[list[int], RefreshMark]:
        bought = sorted(i for i in self.t.purchases if i > mark.last_purchase_id)[:limit]
        refunded = sorted(i for i in self.t.refunds if i > mark.last_refund_id)[:limit]
        members = {self.t.purchases[i].member_id for i in bought} | {
            self.t.refunds[i].member_id for i in refunded
        }
        moved = RefreshMark(
            bought[-1] if bought else mark.last_purchase_id,
            refunded[-1] if refunded else mark.last_refund_id,
            mark.full_refresh_on,
        )
        return sorted(members), moved
