"""The profile's day counters and the lifecycle rules (domain/profiles.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.profiles import ActivityChange, LifecycleRules, merged
from persistence.tables import lifecycle_rules, member_activity_days

_KEY = ("member_id", "day", "merchant_id", "channel", "currency")


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(member_activity_days)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            "purchases": member_activity_days.c.purchases + statement.excluded.purchases,
            "spend_minor": member_activity_days.c.spend_minor + statement.excluded.spend_minor,
        },
    )


# Built once, by dialect (is it PostgreSQL?): every earn runs it, and building it costs more than running it.
_UPSERT = {False: _upsert(sqlite), True: _upsert(postgresql)}


async def add_activity(conn: AsyncConnection, changes: Sequence[ActivityChange]) -> None:
    """Add merged changes (`domain.profiles.merged`: one per key) to the day counters."""
    if not changes:
        return
    rows = [
        {
            "member_id": c.member_id,
            "day": c.day,
            "merchant_id": c.merchant_id,
            "channel": c.channel.value,
            "currency": c.currency,
            "purchases": c.purchases,
            "spend_minor": c.spend_minor,
        }
        for c in changes
    ]
    statement = _UPSERT[conn.dialect.name == "postgresql"]
    # One row (every earn) as a plain execute: the executemany path costs more on the hot path.
    await conn.execute(statement, rows[0] if len(rows) == 1 else rows)


class SqlProfileRepository:
    def __init__(self, conn: AsyncConnection, *, counting: bool = True) -> None:
        """`counting=False` (PROFILES=false): purchases and refunds leave the counters as they are."""
        self.conn = conn
        self.counting = counting

    async def add(self, changes: Sequence[ActivityChange]) -> None:
        if self.counting:
            await add_activity(self.conn, merged(changes))

    async def drop_oldest_day(self, before: date) -> int:
        c = member_activity_days.c
        oldest = (await self.conn.execute(select(func.min(c.day)).where(c.day < before))).scalar()
        if oldest is None:
            return 0
        return (await self.conn.execute(delete(member_activity_days).where(c.day == oldest))).rowcount

    async def lifecycle_rules(self) -> LifecycleRules:
        row = (await self.conn.execute(select(lifecycle_rules).where(lifecycle_rules.c.id == 1))).first()
        if row is None:
            return LifecycleRules()
        return LifecycleRules(
            row.new_member_days, row.at_risk_after_days, row.dormant_after_days, row.churned_after_days
        )

    async def set_lifecycle_rules(self, rules: LifecycleRules) -> None:
        values = {
            "new_member_days": rules.new_member_days,
            "at_risk_after_days": rules.at_risk_after_days,
            "dormant_after_days": rules.dormant_after_days,
            "churned_after_days": rules.churned_after_days,
        }
        changed = await self.conn.execute(
            update(lifecycle_rules).where(lifecycle_rules.c.id == 1).values(values)
        )
        if changed.rowcount == 0:  # no row yet: the defaults were in force
            await self.conn.execute(insert(lifecycle_rules).values(id=1, **values))
