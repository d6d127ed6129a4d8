"""Triggers, their firings (unique per trigger and event), the sign-up nudges, and the reactions
consumer's feed of outbox events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event, EventType
from domain.ledger import AccountKind, OriginType
from domain.members import MemberStatus
from domain.merchants import MerchantCategory
from domain.triggers import (
    Action,
    Condition,
    Trigger,
    TriggerStatus,
    actions_from_json,
    actions_to_json,
    conditions_from_json,
    conditions_to_json,
)
from persistence.tables import (
    journal_entries,
    journal_lines,
    member_nudges,
    members,
    merchants,
    outbox_events,
    purchases,
    trigger_firings,
    triggers,
)


def trigger_of(row: Any) -> Trigger:
    return Trigger(
        id=row.id,
        name=row.name,
        event_type=EventType(row.event_type),
        conditions=conditions_from_json(row.conditions),
        actions=actions_from_json(row.actions),
        status=TriggerStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def event_of(row: Any) -> Event:
    return Event(row.event_id, EventType(row.type), row.version, row.member_id, row.occurred_at, row.payload)


class SqlTriggerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.insert = postgresql.insert if self.postgres else sqlite.insert

    async def add(
        self,
        name: str,
        event_type: EventType,
        conditions: tuple[Condition, ...],
        actions: tuple[Action, ...],
        at: datetime,
    ) -> Trigger:
        row = (
            await self.conn.execute(
                triggers.insert()
                .values(
                    name=name,
                    event_type=event_type.value,
                    conditions=conditions_to_json(conditions),
                    actions=actions_to_json(actions),
                    status=TriggerStatus.ACTIVE.value,
                    created_at=at,
                    updated_at=at,
                )
                .returning(*triggers.c)
            )
        ).one()
        return trigger_of(row)

    async def update(self, trigger: Trigger) -> None:
        await self.conn.execute(
            update(triggers)
            .where(triggers.c.id == trigger.id)
            .values(
                name=trigger.name,
                event_type=trigger.event_type.value,
                conditions=conditions_to_json(trigger.conditions),
                actions=actions_to_json(trigger.actions),
                status=trigger.status.value,
                updated_at=trigger.updated_at,
            )
        )

    async def get(self, trigger_id: int) -> Trigger | None:
        row = (await self.conn.execute(select(triggers).where(triggers.c.id == trigger_id))).one_or_none()
        return None if row is None else trigger_of(row)

    async def all(self) -> list[Trigger]:
        return [trigger_of(r) for r in await self.conn.execute(select(triggers).order_by(triggers.c.id))]

    async def active_for(self, event_type: EventType) -> list[Trigger]:
        rows = await self.conn.execute(
            select(triggers)
            .where(triggers.c.event_type == event_type.value, triggers.c.status == TriggerStatus.ACTIVE.value)
            .order_by(triggers.c.id)
        )
        return [trigger_of(r) for r in rows]

    async def fire(self, trigger_id: int, event_id: str, member_id: int, at: datetime) -> int | None:
        # A concurrent consumer's insert of the same pair waits for this transaction, then adds nothing.
        statement = (
            self.insert(trigger_firings)
            .values(trigger_id=trigger_id, event_id=event_id, member_id=member_id, outcomes=[], created_at=at)
            .on_conflict_do_nothing(index_elements=["trigger_id", "event_id"])
            .returning(trigger_firings.c.id)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def record_outcomes(self, firing_id: int, outcomes: Sequence[str]) -> None:
        await self.conn.execute(
            update(trigger_firings).where(trigger_firings.c.id == firing_id).values(outcomes=list(outcomes))
        )

    async def firings(self, trigger_id: int) -> list[tuple[str, int, list[str]]]:
        f = trigger_firings.c
        rows = await self.conn.execute(
            select(f.event_id, f.member_id, f.outcomes).where(f.trigger_id == trigger_id).order_by(f.id)
        )
        return [(r.event_id, r.member_id, list(r.outcomes)) for r in rows]

    async def earlier_in_category(self, member_id: int, category: MerchantCategory, purchase_id: int) -> int:
        p = purchases.c
        found = await self.conn.execute(
            select(func.count())
            .select_from(purchases.join(merchants, merchants.c.id == p.merchant_id))
            .where(p.member_id == member_id, p.id < purchase_id, merchants.c.category == category.value)
        )
        return int(found.scalar_one())

    async def available_around(self, member_id: int, purchase_id: int) -> tuple[int, int] | None:
        e, line = journal_entries.c, journal_lines.c
        first, last = (
            await self.conn.execute(
                select(func.min(e.id), func.max(e.id)).where(
                    e.member_id == member_id,
                    e.origin_type == OriginType.PURCHASE.value,
                    e.origin_id == purchase_id,
                )
            )
        ).one()
        if first is None:
            return None
        mine = (line.member_id == member_id, line.account_kind == AccountKind.MEMBER_AVAILABLE.value)
        total = func.coalesce(func.sum(line.amount), 0)
        before = (await self.conn.execute(select(total).where(*mine, line.entry_id < first))).scalar_one()
        after = (await self.conn.execute(select(total).where(*mine, line.entry_id <= last))).scalar_one()
        return int(before), int(after)

    async def without_purchase(
        self, enrolled_by: datetime, after: int, limit: int
    ) -> list[tuple[int, datetime]]:
        m = members.c
        rows = await self.conn.execute(
            select(m.id, m.enrolled_at)
            .where(
                m.status == MemberStatus.ACTIVE.value,
                m.enrolled_at <= enrolled_by,
                m.id > after,
                ~exists().where(purchases.c.member_id == m.id),
                ~exists().where(member_nudges.c.member_id == m.id),
            )
            .order_by(m.id)
            .limit(limit)
        )
        return [(r.id, r.enrolled_at) for r in rows]

    async def mark_nudged(self, member_id: int, at: datetime) -> bool:
        statement = (
            self.insert(member_nudges)
            .values(member_id=member_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["member_id"])
            .returning(member_nudges.c.member_id)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none() is not None

    async def unreacted(self, limit: int) -> list[tuple[int, Event]]:
        o = outbox_events.c
        statement = select(outbox_events).where(~o.reacted).order_by(o.id).limit(limit)
        if self.postgres:
            statement = statement.with_for_update(skip_locked=True)
        return [(row.id, event_of(row)) for row in await self.conn.execute(statement)]

    async def reacted(self, seqs: Sequence[int]) -> None:
        if seqs:
            await self.conn.execute(
                update(outbox_events).where(outbox_events.c.id.in_(list(seqs))).values(reacted=True)
            )
