"""Bulk writes for batches (the settlement import): COPY on PostgreSQL, insertmanyvalues on SQLite.

SQLAlchemy's bulk INSERT sends each batch as a parametrized statement, which PostgreSQL parses
and plans and then checks value by value; COPY streams binary rows and writes about five times
as many per second here. SQLAlchemy has no COPY, so this goes through asyncpg's
`copy_records_to_table` on the unit of work's own connection, inside its transaction.
COPY cannot return generated ids, so ids are reserved from the table's sequence first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

_RESERVE = "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"


def is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


async def reserve_ids(conn: AsyncConnection, table: Table, count: int) -> list[int]:
    """`count` fresh ids from the table's sequence (PostgreSQL)."""
    rows = await conn.execute(text(_RESERVE), {"table": table.name, "count": count})
    return [int(value) for value in rows.scalars()]


async def copy_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY `rows` (tuples in `columns` order, values of the columns' Python types) into `table`."""
    if not rows:
        return
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None, "COPY needs a live asyncpg connection"
    await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))


async def insert_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL; elsewhere one executemany INSERT."""
    if not rows:
        return
    if is_postgres(conn):
        await copy_rows(conn, table, columns, rows)
        return
    await conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


async def insert_returning_ids(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """Insert `rows` and return their new ids in order."""
    if not rows:
        return []
    if is_postgres(conn):
        ids = await reserve_ids(conn, table, len(rows))
        await copy_rows(conn, table, ["id", *columns], [(i, *row) for i, row in zip(ids, rows, strict=True)])
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    result = await conn.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
    return list(result.scalars())
