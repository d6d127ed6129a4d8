"""The exposure counters (domain/exposures.py): one batched upsert per write, in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.exposures import Exposure, exposures_of, merged
from persistence.tables import offer_exposures


class SqlExposureLog:
    """Both ports: `record` writes one listing at once (EXPOSURE_FLUSH_SECONDS=0); `add` takes the
    exposure buffer's batches (api/exposure_buffer.py)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, member_id: int, offer_ids: Sequence[int], at: datetime) -> None:
        await self.add(exposures_of(member_id, offer_ids, at))

    async def add(self, exposures: Sequence[Exposure]) -> None:
        rows = [
            {
                "offer_id": e.offer_id,
                "member_id": e.member_id,
                "day": e.day,
                "listings": e.listings,
                "first_at": e.first_at,
                "last_at": e.last_at,
            }
            for e in merged(exposures)  # one row per key: an upsert cannot touch a row twice
        ]
        if not rows:
            return
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(offer_exposures)
        c = offer_exposures.c
        statement = statement.on_conflict_do_update(
            index_elements=["offer_id", "member_id", "day"],
            set_={
                "listings": c.listings + statement.excluded.listings,
                # Two processes' batches may arrive out of order; the first listing written stays.
                "first_at": case(
                    (statement.excluded.first_at < c.first_at, statement.excluded.first_at),
                    else_=c.first_at,
                ),
                "last_at": case(
                    (statement.excluded.last_at > c.last_at, statement.excluded.last_at),
                    else_=c.last_at,
                ),
            },
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement, rows)
