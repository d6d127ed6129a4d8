"""The notifications record and the triggers, in the fake database's tables (rolled back with it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

from domain.events import Event, EventType
from domain.ledger import Account, OriginType
from domain.members import MemberStatus
from domain.merchants import MerchantCategory
from domain.notifications import Category, NotificationKind, SuppressReason
from domain.ports.notifications import ExpiringLots
from domain.triggers import Action, Condition, Trigger, TriggerStatus
from tests.unit.fakes.database import Repository
from tests.unit.fakes.notification_tables import NotificationRow, NotificationTables


class FakeNotificationLog(Repository):
    @property
    def n(self) -> NotificationTables:
        return self.t.notifications

    async def record(
        self,
        member_id: int,
        kind: NotificationKind,
        template: str,
        key: str,
        reason: SuppressReason | None,
        at: datetime,
    ) -> int | None:
        if key in self.n.notifications:
            return None
        row = NotificationRow(self.db.next_id(), member_id, kind, template, key, reason, at)
        self.n.notifications[key] = row
        return row.id

    async def marketing_sent_since(self, member_id: int, since: datetime) -> int:
        return sum(
            1
            for r in self.n.notifications.values()
            if r.member_id == member_id
            and r.kind.category is Category.MARKETING
            and r.reason is None
            and r.at > since
        )

    async def expiring(self, now: datetime, until: datetime, after: int, limit: int) -> list[ExpiringLots]:
        points: dict[tuple[int, date], int] = defaultdict(int)
        for lot in self.t.lots.values():
            if lot.remaining > 0 and now < lot.expires_at <= until and lot.member_id > after:
                points[(lot.member_id, lot.expires_at.astimezone(UTC).date())] += lot.remaining
        members = sorted({m for m, _ in points})[:limit]
        return [ExpiringLots(m, d, p) for (m, d), p in sorted(points.items()) if m in members]

    async def suppressed_counts(self, since: datetime) -> dict[tuple[NotificationKind, SuppressReason], int]:
        counts: dict[tuple[NotificationKind, SuppressReason], int] = defaultdict(int)
        for r in self.n.notifications.values():
            if r.reason is not None and r.at >= since:
                counts[(r.kind, r.reason)] += 1
        return dict(counts)

    def rows(self) -> list[NotificationRow]:
        return sorted(self.n.notifications.values(), key=lambda r: r.id)


class FakeTriggerRepository(Repository):
    @property
    def n(self) -> NotificationTables:
        return self.t.notifications

    async def add(
        self,
        name: str,
        event_type: EventType,
        conditions: tuple[Condition, ...],
        actions: tuple[Action, ...],
        at: datetime,
    ) -> Trigger:
        trigger = Trigger(
            self.db.next_id(), name, event_type, conditions, actions, TriggerStatus.ACTIVE, at, at
        )
        self.n.triggers[trigger.id] = trigger
        return trigger

    async def update(self, trigger: Trigger) -> None:
        self.n.triggers[trigger.id] = trigger

    async def get(self, trigger_id: int) -> Trigger | None:
        return self.n.triggers.get(trigger_id)

    async def all(self) -> list[Trigger]:
        return [self.n.triggers[k] for k in sorted(self.n.triggers)]

    async def active_for(self, event_type: EventType) -> list[Trigger]:
        return [
            t for t in await self.all() if t.event_type is event_type and t.status is TriggerStatus.ACTIVE
        ]

    async def fire(self, trigger_id: int, event_id: str, member_id: int, at: datetime) -> int | None:
        if (trigger_id, event_id) in self.n.firings:
            return None
        firing_id = self.db.next_id()
        self.n.firings[(trigger_id, event_id)] = (firing_id, member_id, [])
        return firing_id

    async def record_outcomes(self, firing_id: int, outcomes: Sequence[str]) -> None:
        for key, (fid, member_id, _) in self.n.firings.items():
            if fid == firing_id:
                self.n.firings[key] = (fid, member_id, list(outcomes))

    async def firings(self, trigger_id: int) -> list[tuple[str, int, list[str]]]:
        found = sorted(
            (fid, event_id, m, o) for (t, event_id), (fid, m, o) in self.n.firings.items() if t == trigger_id
        )
        return [(event_id, m, o) for _, event_id, m, o in found]

    async def earlier_in_category(self, member_id: int, category: MerchantCategory, purchase_id: int) -> int:
        return sum(
            1
            for p in self.t.purchases.values()
            if p.member_id == member_id
            and p.id < purchase_id
            and (m := self.t.merchants.get(p.merchant_id)) is not None
            and m.category is category
        )

    async def available_around(self, member_id: int, purchase_id: int) -> tuple[int, int] | None:
        ids = [
            p.id
            for p in self.t.journal.values()
            if p.entry.member_id == member_id
            and p.entry.origin_type is OriginType.PURCHASE
            and p.entry.origin_id == purchase_id
        ]
        if not ids:
            return None

        def total(upto: int) -> int:
            return sum(
                posting.amount
                for p in self.t.journal.values()
                if p.id <= upto
                for posting in p.entry.postings
                if posting.account == Account.available(member_id)
            )

        return total(min(ids) - 1), total(max(ids))

    async def without_purchase(
        self, enrolled_by: datetime, after: int, limit: int
    ) -> list[tuple[int, datetime]]:
        bought = {p.member_id for p in self.t.purchases.values()}
        found = [
            (m.id, m.enrolled_at)
            for m in sorted(self.t.members.values(), key=lambda m: m.id)
            if m.status is MemberStatus.ACTIVE
            and m.enrolled_at <= enrolled_by
            and m.id > after
            and m.id not in bought
            and m.id not in self.n.nudged
        ]
        return found[:limit]

    async def mark_nudged(self, member_id: int, at: datetime) -> bool:
        if member_id in self.n.nudged:
            return False
        self.n.nudged.add(member_id)
        return True

    async def unreacted(self, limit: int) -> list[tuple[int, Event]]:
        start = self.n.reacted
        return [(start + i + 1, e) for i, e in enumerate(self.t.outbox[start : start + limit])]

    async def reacted(self, seqs: Sequence[int]) -> None:
        if seqs:
            self.n.reacted = max(self.n.reacted, max(seqs))

    def replay(self) -> None:
        """Forget what was handled: the next run sees every event again."""
        self.n.reacted = 0
