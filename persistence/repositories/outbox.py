"""The outbox's write side: events kept until the unit of work writes them in one statement, so the
hot earn path pays no round trip of its own for its events.

On PostgreSQL an idempotent use case's events ride in its idempotency record's statement, the last
before COMMIT, as a data-modifying CTE (`EVENTS_CTE`, taken by SqlIdempotencyStore.record): a replay
that finds the key recorded rolls them back with the rest of its work. Whatever is still pending at
commit (every other use case, and SQLite, which has no INSERT in a CTE) is written then, in one
INSERT (bulk for several)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event
from persistence.tables import outbox_events

# inline(): no RETURNING of the generated id, which nothing reads.
_INSERT = insert(outbox_events).inline()

# Rows in the order the events were added: the worker delivers each member's events by id.
EVENTS_CTE = """events AS (
    INSERT INTO outbox_events (event_id, type, version, member_id, occurred_at, payload)
    SELECT e.event_id, e.type, e.version, e.member_id, e.occurred_at, CAST(e.payload AS JSON)
    FROM unnest(CAST(:e_ids AS VARCHAR[]), CAST(:e_types AS VARCHAR[]), CAST(:e_versions AS INTEGER[]),
                CAST(:e_members AS BIGINT[]), CAST(:e_ats AS TIMESTAMPTZ[]), CAST(:e_payloads AS TEXT[]))
         WITH ORDINALITY AS e(event_id, type, version, member_id, occurred_at, payload, n)
    ORDER BY e.n
)"""


class SqlOutbox:
    def __init__(self, conn: AsyncConnection, *, enabled: bool = True) -> None:
        self.conn = conn
        self.enabled = enabled  # OUTBOX_ENABLED=false: events are dropped (only to measure their cost)
        self.pending: list[Event] = []

    async def add(self, *events: Event) -> None:
        if self.enabled:
            self.pending.extend(events)

    def take(self) -> dict[str, list[Any]] | None:
        """The pending events as `EVENTS_CTE`'s parameters, for a statement that writes them (and so
        they are no longer pending); None when there are none."""
        if not self.pending:
            return None
        events, self.pending = self.pending, []
        return {
            "e_ids": [e.id for e in events],
            "e_types": [e.type.value for e in events],
            "e_versions": [e.version for e in events],
            "e_members": [e.member_id for e in events],
            "e_ats": [e.occurred_at for e in events],
            "e_payloads": [json.dumps(e.payload) for e in events],
        }

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
