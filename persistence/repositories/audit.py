from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.audit import AuditEvent
from persistence.tables import audit_log


class SqlAuditLog:
    """Append-only: nothing in the code updates or deletes audit rows."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(self, event: AuditEvent) -> None:
        values = asdict(event)
        values["created_at"] = values.pop("at")
        await self.conn.execute(insert(audit_log).values(values))
