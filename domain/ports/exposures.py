"""The exposure log: which offers each member was shown (domain/exposures.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.exposures import Exposure


class ExposureLog(Protocol):
    async def record(self, member_id: int, offer_ids: Sequence[int], at: datetime) -> None:
        """One listing of these offers to the member at `at`. Independent of any unit of work: an
        implementation may write at once, in its own transaction, or later, in a batch."""
        ...


class ExposureStore(Protocol):
    async def add(self, exposures: Sequence[Exposure]) -> None:
        """Add each count to its row (made when missing), in one batched upsert and one transaction."""
        ...
