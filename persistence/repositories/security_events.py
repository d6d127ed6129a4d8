from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.security import SecurityEvent
from persistence.tables import security_events


class SqlSecurityEventLog:
    """Append-only, like the audit log."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(self, event: SecurityEvent) -> None:
        await self.conn.execute(
            insert(security_events).values(
                kind=event.kind.value,
                secret=event.secret.value if event.secret else None,
                principal=event.principal,
                client_address=event.client_address,
                failures=event.failures,
                cooldown_seconds=event.cooldown_seconds,
                request_id=event.request_id,
                created_at=event.at,
            )
        )
