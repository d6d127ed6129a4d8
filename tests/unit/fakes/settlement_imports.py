"""Settlement imports in memory: the stored files, their leases and progress."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.settlement import BadLine
from domain.settlement_imports import BatchProgress, ClaimedImport, Format, ImportStatus

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase


@dataclass(frozen=True, slots=True)
class ImportRow:
    merchant_id: int
    format: Format
    content: bytes
    total_lines: int
    created_at: datetime
    status: ImportStatus = ImportStatus.QUEUED
    cursor: int = 0
    lines_done: int = 0
    posted: int = 0
    duplicates: int = 0
    points: int = 0
    worker: str | None = None
    lease_until: datetime | None = None
    finished_at: datetime | None = None
    failure: str | None = None
    errors: tuple[BadLine, ...] = ()


@dataclass
class SettlementImportTables:
    rows: dict[int, ImportRow] = field(default_factory=dict)


class FakeSettlementImportRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def _rows(self) -> dict[int, ImportRow]:
        return self.db.tables.settlement_imports.rows

    async def add(self, merchant_id: int, fmt: Format, content: bytes, total_lines: int, at: datetime) -> int:
        import_id = self.db.next_id()
        self._rows[import_id] = ImportRow(merchant_id, fmt, content, total_lines, at)
        return import_id

    async def claim(self, worker: str, now: datetime, lease_until: datetime) -> ClaimedImport | None:
        for import_id, row in sorted(self._rows.items()):
            lapsed = (
                row.status is ImportStatus.RUNNING and row.lease_until is not None and row.lease_until < now
            )
            if row.status is ImportStatus.QUEUED or lapsed:
                self._rows[import_id] = replace(
                    row, status=ImportStatus.RUNNING, worker=worker, lease_until=lease_until
                )
                return ClaimedImport(import_id, row.merchant_id, row.format, row.content, row.cursor)
        return None

    def _held(self, import_id: int, worker: str) -> ImportRow | None:
        row = self._rows.get(import_id)
        if row is None or row.worker != worker or row.status is not ImportStatus.RUNNING:
            return None
        return row

    async def record(
        self, import_id: int, worker: str, progress: BatchProgress, lease_until: datetime
    ) -> bool:
        row = self._held(import_id, worker)
        if row is None:
            return False
        self._rows[import_id] = replace(
            row,
            cursor=progress.cursor,
            lines_done=row.lines_done + progress.lines,
            posted=row.posted + progress.posted,
            duplicates=row.duplicates + progress.duplicates,
            points=row.points + progress.points,
            lease_until=lease_until,
            errors=row.errors + progress.errors,
        )
        return True

    async def finish(
        self, import_id: int, worker: str, status: ImportStatus, at: datetime, failure: str | None
    ) -> bool:
        row = self._held(import_id, worker)
        if row is None:
            return False
        self._rows[import_id] = replace(
            row, status=status, finished_at=at, failure=failure, worker=None, lease_until=None
        )
        return True
