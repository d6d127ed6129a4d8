"""Exposures recorded without a write per listing: listings are counted in this process's memory and
written in batches by a background task the app's lifespan starts, and once more at shutdown.

A listing costs the request a dict update, never a database write: on SQLite, whose one writer the
members' own writes (purchases, redemptions) queue for, a wallet refreshing its offers adds one
short transaction a second at most instead of one per listing. The trade-off: a process that dies
without shutting down loses the listings of its last interval (at most once, never twice); a batch
the database refuses is kept and tried again with the next one, up to MAX_PENDING counters, past
which listings are dropped and logged. Evaluations count members exposed, so a lost second of
listings shifts a rate by a few members at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import date, datetime

from domain.exposures import Exposure, combined, exposures_of
from domain.ports import ExposureStore

logger = logging.getLogger("loyalty.exposures")

MAX_PENDING = 200_000  # counters held while the database refuses them (a few tens of MB)
BATCH_SIZE = 5_000  # counters that wake the writer before its interval is over


class ExposureBuffer:
    def __init__(self, store: ExposureStore, flush_seconds: float) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.pending: dict[tuple[int, int, date], Exposure] = {}
        self.dropped = 0
        self._full = asyncio.Event()
        self._writing = asyncio.Lock()
        self._stopping = False

    async def record(self, member_id: int, offer_ids: Sequence[int], at: datetime) -> None:
        self._hold(exposures_of(member_id, offer_ids, at))
        if len(self.pending) >= BATCH_SIZE:
            self._full.set()

    async def run(self) -> None:
        """Until `stop`: writes what is held every `flush_seconds`, or sooner when a batch is full.
        Stopped rather than cancelled, so that a batch being written is never cut off half way."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.flush_seconds)
            self._full.clear()
            await self.flush()
            if self._stopping:
                return

    def stop(self) -> None:
        """`run` writes what is held and returns."""
        self._stopping = True
        self._full.set()

    async def flush(self) -> None:
        """Write everything held now (at shutdown, and in tests). A failed batch is held again."""
        async with self._writing:
            batch, self.pending = list(self.pending.values()), {}
            if not batch:
                return
            try:
                await self.store.add(batch)
            except Exception:
                logger.exception(
                    "could not write %d exposure counter(s); held for the next batch", len(batch)
                )
                self._hold(batch)

    def _hold(self, exposures: Sequence[Exposure]) -> None:
        for e in exposures:
            seen = self.pending.get(e.key)
            if seen is not None:
                self.pending[e.key] = combined(seen, e)
            elif len(self.pending) < MAX_PENDING:
                self.pending[e.key] = e
            else:
                self.dropped += e.listings
                if self.dropped == e.listings or self.dropped % 10_000 < e.listings:
                    logger.warning("exposure buffer full: %d listing(s) dropped so far", self.dropped)
