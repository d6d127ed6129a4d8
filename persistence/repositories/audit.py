from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.audit import AuditEvent
from persistence.audit_chain import row_hash
from persistence.tables import audit_chain, audit_log

_HEAD_ID = 1
# The head row is the chain's lock: on PostgreSQL FOR UPDATE makes concurrent appends queue here, so
# each reads the hash the previous one wrote (SQLite already runs one writer at a time).
_LOCK_HEAD = (
    select(audit_chain.c.last_hash, audit_chain.c.length)
    .where(audit_chain.c.id == _HEAD_ID)
    .with_for_update()
)


class SqlAuditLog:
    """Append-only (triggers refuse UPDATE and DELETE) and hash-chained.

    Events are kept until the unit of work commits and written just before COMMIT (`flush`): the
    chain's head is then the last lock a transaction takes and is held only for the insert and the
    commit, so appends never wait on anything while holding it (no deadlock with member rows) and
    never serialise more than the end of each audited transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.pending: list[AuditEvent] = []

    async def record(self, event: AuditEvent) -> None:
        self.pending.append(event)

    async def flush(self) -> None:
        if not self.pending:
            return
        events, self.pending = self.pending, []
        head = (await self.conn.execute(_LOCK_HEAD)).one()
        prev, length = head.last_hash, head.length
        rows: list[dict[str, Any]] = []
        for event in events:
            content = values_of(event)
            digest = row_hash(prev, content)
            rows.append({**content, "prev_hash": prev, "hash": digest})
            prev = digest
        await self.conn.execute(insert(audit_log), rows)
        await self.conn.execute(
            update(audit_chain)
            .where(audit_chain.c.id == _HEAD_ID)
            .values(last_hash=prev, length=length + len(rows))
        )


def values_of(event: AuditEvent) -> dict[str, Any]:
    member_id = event.member_id
    if member_id is None and event.target_type == "Member":
        member_id = event.target_id
    return {
        "actor": event.actor,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "member_id": member_id,
        "before": _as_stored(event.before),
        "after": _as_stored(event.after),
        "request_id": event.request_id,
        "created_at": event.at,
    }


def _as_stored(value: dict[str, object] | None) -> Any:
    """The JSON as the database gives it back (keys as strings, tuples as lists), so the hash made
    now is the hash verify-ledger recomputes from the row."""
    return None if value is None else json.loads(json.dumps(value))
