"""What a merchant reads of its settlement imports: progress and the lines not posted (never the file)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.settlement_imports import ImportStatus, SettlementImport
from persistence.disconnects import read_retrying
from persistence.tables import settlement_import_errors, settlement_imports

T = TypeVar("T")
_T = settlement_imports
_E = settlement_import_errors
_IMPORT = select(*(c for c in _T.c if c.key not in {"content", "worker", "lease_until", "cursor_line"}))


class SqlSettlementImportReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _read(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.engine.connect() as conn:
                return await read(conn)

        return await read_retrying(attempt)

    async def settlement_import(self, import_id: int) -> SettlementImport | None:
        async def one(conn: AsyncConnection) -> SettlementImport | None:
            row = (await conn.execute(_IMPORT.where(_T.c.id == import_id))).one_or_none()
            if row is None:
                return None
            return SettlementImport(
                id=row.id,
                merchant_id=row.merchant_id,
                status=ImportStatus(row.status),
                format="csv" if row.format == "csv" else "jsonl",
                size_bytes=row.size_bytes,
                total_lines=row.total_lines,
                lines_done=row.lines_done,
                posted=row.posted,
                duplicates=row.duplicates,
                rejected=row.rejected,
                points=row.points,
                created_at=row.created_at,
                started_at=row.started_at,
                finished_at=row.finished_at,
                failure=row.failure,
            )

        return await self._read(one)

    async def settlement_import_errors(
        self, import_id: int, after_line: int | None, limit: int
    ) -> list[tuple[int, str, str]]:
        statement = (
            select(_E.c.line_no, _E.c.code, _E.c.message)
            .where(_E.c.import_id == import_id)
            .order_by(_E.c.line_no)
            .limit(limit)
        )
        if after_line is not None:
            statement = statement.where(_E.c.line_no > after_line)

        async def page(conn: AsyncConnection) -> list[tuple[int, str, str]]:
            return [(r.line_no, r.code, r.message) for r in await conn.execute(statement)]

        return await self._read(page)
