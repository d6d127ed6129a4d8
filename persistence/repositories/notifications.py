"""The notifications record: one row per notice, sent or suppressed, unique by its key."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.notifications import Category, NotificationKind, SuppressReason
from domain.ports.notifications import ExpiringLots
from persistence.tables import notifications, points_lots


class SqlNotificationLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert

    async def record(
        self,
        member_id: int,
        kind: NotificationKind,
        template: str,
        key: str,
        reason: SuppressReason | None,
        at: datetime,
    ) -> int | None:
        # ON CONFLICT DO NOTHING: a concurrent run's insert of the same key waits for it, then adds nothing.
        statement = (
            self.insert(notifications)
            .values(
                member_id=member_id,
                kind=kind.value,
                category=kind.category.value,
                template=template,
                key=key,
                suppressed_reason=None if reason is None else reason.value,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(notifications.c.id)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def marketing_sent_since(self, member_id: int, since: datetime) -> int:
        n = notifications.c
        found = await self.conn.execute(
            select(func.count())
            .select_from(notifications)
            .where(
                n.member_id == member_id,
                n.category == Category.MARKETING.value,
                n.created_at > since,  # sent exactly a week ago: out of the window
                n.suppressed_reason.is_(None),
            )
        )
        return int(found.scalar_one())

    async def expiring(self, now: datetime, until: datetime, after: int, limit: int) -> list[ExpiringLots]:
        lot = points_lots.c
        window = (lot.remaining > 0, lot.expires_at > now, lot.expires_at <= until)
        member_ids = list(
            (
                await self.conn.execute(
                    select(lot.member_id)
                    .where(*window, lot.member_id > after)
                    .group_by(lot.member_id)
                    .order_by(lot.member_id)
                    .limit(limit)
                )
            ).scalars()
        )
        if not member_ids:
            return []
        rows = await self.conn.execute(
            select(lot.member_id, lot.expires_at, lot.remaining).where(*window, lot.member_id.in_(member_ids))
        )
        points: dict[tuple[int, date], int] = defaultdict(int)
        for row in rows:
            expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
            points[(row.member_id, expires_at.astimezone(UTC).date())] += row.remaining
        return [ExpiringLots(m, day, p) for (m, day), p in sorted(points.items())]

    async def suppressed_counts(self, since: datetime) -> dict[tuple[NotificationKind, SuppressReason], int]:
        n = notifications.c
        rows = await self.conn.execute(
            select(n.kind, n.suppressed_reason, func.count())
            .where(n.suppressed_reason.is_not(None), n.created_at >= since)
            .group_by(n.kind, n.suppressed_reason)
        )
        return {(NotificationKind(k), SuppressReason(r)): int(c) for k, r, c in rows}
