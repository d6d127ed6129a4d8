"""Settlement imports: the stored files and their progress (write side), and what the merchant reads."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.settlement_imports import (
    BatchProgress,
    ClaimedImport,
    Format,
    ImportStatus,
    SettlementImport,
)


class SettlementImportRepository(Protocol):
    async def add(
        self, merchant_id: int, fmt: Format, content: bytes, total_lines: int, at: datetime
    ) -> int: ...
    async def claim(self, worker: str, now: datetime, lease_until: datetime) -> ClaimedImport | None:
        """The oldest import that is QUEUED, or RUNNING with a lapsed lease (its worker died), now
        RUNNING under `worker`'s lease; None when there is none. Two workers never get one import."""
        ...

    async def record(
        self, import_id: int, worker: str, progress: BatchProgress, lease_until: datetime
    ) -> bool:
        """Add a batch to the import's totals and errors and renew the lease, if `worker` still holds
        it; False when it does not (the batch must then roll back)."""
        ...

    async def finish(
        self, import_id: int, worker: str, status: ImportStatus, at: datetime, failure: str | None
    ) -> bool:
        """End the import, if `worker` still holds its lease."""
        ...


class SettlementImportReader(Protocol):
    """Reads for the API, each in its own short session."""

    async def settlement_import(self, import_id: int) -> SettlementImport | None: ...
    async def settlement_import_errors(
        self, import_id: int, after_line: int | None, limit: int
    ) -> list[tuple[int, str, str]]:
        """(line number, error code, message), by line number."""
        ...
