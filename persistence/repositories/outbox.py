"""The outbox's write side: events kept until the unit of work commits, then written in one INSERT
just before COMMIT (bulk for several), so the hot earn path pays one statement for its events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event
from persistence.tables import outbox_events

_INSERT = insert(outbox_events)


class SqlOutbox:
    def __init__(self, conn: AsyncConnection, *, enabled: bool = True) -> None:
        self.conn = conn
        self.enabled = enabled  # OUTBOX_ENABLED=false: events are dropped (only to measure their cost)
        self.pending: list[Event] = []

    async def add(self, *events: Event) -> None:
        if self.enabled:
            self.pending.extend(events)

    async def flush(self) -> None:
        if not self.pending:
            return
        events, self.pending = self.pending, []
        rows = [row_of(e) for e in events]
        await self.conn.execute(_INSERT, rows if len(rows) > 1 else rows[0])


def row_of(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type.value,
        "version": event.version,
        "member_id": event.member_id,
        "occurred_at": event.occurred_at,
        "payload": event.payload,
    }
