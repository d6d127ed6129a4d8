"""What a refused request must leave as it was: the row count of every table, the sums of the
balances and the journal, and the programme's settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from persistence.engine import Database
from persistence.tables import Base, journal_lines, member_balances, programme


def _figures() -> list[Any]:
    counts = [
        select(func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in Base.metadata.sorted_tables
    ]
    # Sums that change when points move, even where no row is added.
    balances = [
        select(func.coalesce(func.sum(member_balances.c[name]), 0))
        .scalar_subquery()
        .label(f"balances.{name}")
        for name in ("available", "pending", "held", "debt", "lifetime_earned", "lifetime_redeemed")
    ]
    journal = select(func.coalesce(func.sum(func.abs(journal_lines.c.amount)), 0)).scalar_subquery()
    return [*counts, *balances, journal.label("journal.moved")]


_SNAPSHOT = select(*_figures())


async def snapshot(database: Database) -> dict[str, object]:
    async with database.read_engine.connect() as conn:
        figures = (await conn.execute(_SNAPSHOT)).one()
        settings = (await conn.execute(select(programme))).one()
    return {
        **{name: int(value) for name, value in figures._mapping.items()},
        **{f"programme.{name}": value for name, value in settings._mapping.items()},
    }
