"""The exposure log in memory, as `persistence/repositories/exposures.py` keeps it: written at once,
outside any unit of work (so a fake unit of work's rollback does not touch it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.exposures import Exposure, combined, exposures_of, merged


class FakeExposureLog:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, int, date], Exposure] = {}
        self.writes = 0  # batches written, as the SQL log's transactions

    async def record(self, member_id: int, offer_ids: Sequence[int], at: datetime) -> None:
        await self.add(exposures_of(member_id, offer_ids, at))

    async def add(self, exposures: Sequence[Exposure]) -> None:
        batch = merged(exposures)
        if not batch:
            return
        self.writes += 1
        for e in batch:
            seen = self.rows.get(e.key)
            self.rows[e.key] = e if seen is None else combined(seen, e)

    def listings(self, offer_id: int, member_id: int) -> int:
        """All days' listings of the offer to the member."""
        return sum(
            e.listings for e in self.rows.values() if (e.offer_id, e.member_id) == (offer_id, member_id)
        )
