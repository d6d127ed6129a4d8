"""Settlement imports: stored files, the worker's lease and each batch's progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.settlement_imports import BatchProgress, ClaimedImport, Format, ImportStatus
from persistence.tables import settlement_import_errors, settlement_imports

_T = settlement_imports


class SqlSettlementImportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, merchant_id: int, fmt: Format, content: bytes, total_lines: int, at: datetime) -> int:
        statement = (
            insert(_T)
            .values(
                merchant_id=merchant_id,
                status=ImportStatus.QUEUED.value,
                format=fmt,
                content=content,
                size_bytes=len(content),
                total_lines=total_lines,
                cursor_line=0,
                lines_done=0,
                posted=0,
                duplicates=0,
                rejected=0,
                points=0,
                created_at=at,
            )
            .returning(_T.c.id)
        )
        return int((await self.conn.execute(statement)).scalar_one())

    async def claim(self, worker: str, now: datetime, lease_until: datetime) -> ClaimedImport | None:
        due = or_(
            _T.c.status == ImportStatus.QUEUED.value,
            and_(_T.c.status == ImportStatus.RUNNING.value, _T.c.lease_until < now),
        )
        # SKIP LOCKED: a second worker passes over the import the first is claiming (PostgreSQL;
        # SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
        found = (
            await self.conn.execute(
                select(_T.c.id).where(due).order_by(_T.c.id).limit(1).with_for_update(skip_locked=True)
            )
        ).scalar()
        if found is None:
            return None
        row = (
            await self.conn.execute(
                update(_T)
                .where(_T.c.id == found)
                .values(
                    status=ImportStatus.RUNNING.value,
                    worker=worker,
                    lease_until=lease_until,
                    started_at=func.coalesce(_T.c.started_at, now),
                )
                .returning(_T.c.id, _T.c.merchant_id, _T.c.format, _T.c.content, _T.c.cursor_line)
            )
        ).one()
        return ClaimedImport(
            id=row.id,
            merchant_id=row.merchant_id,
            format="csv" if row.format == "csv" else "jsonl",
            content=bytes(row.content),
            cursor=row.cursor_line,
        )

    def _held(self, import_id: int, worker: str) -> ColumnElement[bool]:
        return and_(_T.c.id == import_id, _T.c.worker == worker, _T.c.status == ImportStatus.RUNNING.value)

    async def record(
        self, import_id: int, worker: str, progress: BatchProgress, lease_until: datetime
    ) -> bool:
        result = await self.conn.execute(
            update(_T)
            .where(self._held(import_id, worker))
            .values(
                cursor_line=progress.cursor,
                lines_done=_T.c.lines_done + progress.lines,
                posted=_T.c.posted + progress.posted,
                duplicates=_T.c.duplicates + progress.duplicates,
                rejected=_T.c.rejected + len(progress.errors),
                points=_T.c.points + progress.points,
                lease_until=lease_until,
            )
        )
        if result.rowcount != 1:
            return False
        if progress.errors:
            await self.conn.execute(
                insert(settlement_import_errors),
                [
                    {
                        "import_id": import_id,
                        "line_no": bad.line_no,
                        "code": bad.code.value,
                        "message": bad.message,
                    }
                    for bad in progress.errors
                ],
            )
        return True

    async def finish(
        self, import_id: int, worker: str, status: ImportStatus, at: datetime, failure: str | None
    ) -> bool:
        result = await self.conn.execute(
            update(_T)
            .where(self._held(import_id, worker))
            .values(status=status.value, finished_at=at, failure=failure, worker=None, lease_until=None)
        )
        return result.rowcount == 1
