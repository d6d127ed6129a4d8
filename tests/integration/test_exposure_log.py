"""The exposure counters on both databases: one batched upsert adds listings to existing rows, keeps
the first listing and the last, and counts by UTC day; the app's buffer writes them in one batch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from api.exposure_buffer import ExposureBuffer
from domain.exposures import Exposure
from persistence.repositories.exposures import SqlExposureLog
from persistence.tables import offer_exposures
from tests.conftest import Backend

pytestmark = [pytest.mark.asyncio, pytest.mark.partial_ledger]

T0 = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)


async def rows(backend: Backend) -> list[tuple[int, int, date, int, datetime, datetime]]:
    c = offer_exposures.c
    query = select(c.offer_id, c.member_id, c.day, c.listings, c.first_at, c.last_at).order_by(
        c.offer_id, c.member_id, c.day
    )
    async with backend.database.read_engine.connect() as conn:
        found = (await conn.execute(query)).all()
    return [(r[0], r[1], r[2], r[3], r[4].replace(tzinfo=UTC), r[5].replace(tzinfo=UTC)) for r in found]


async def test_listings_add_up_per_offer_member_and_utc_day(backend: Backend) -> None:
    log = SqlExposureLog(backend.database.write_engine)

    await log.record(7, [1, 2, 2], T0)
    await log.record(7, [1], T0 + timedelta(minutes=10))
    await log.record(8, [1], T0 + timedelta(minutes=20))
    await log.record(7, [1], T0 + timedelta(hours=1))  # past midnight UTC: the next day's row

    assert await rows(backend) == [
        (1, 7, date(2026, 11, 27), 2, T0, T0 + timedelta(minutes=10)),
        (1, 7, date(2026, 11, 28), 1, T0 + timedelta(hours=1), T0 + timedelta(hours=1)),
        (1, 8, date(2026, 11, 27), 1, T0 + timedelta(minutes=20), T0 + timedelta(minutes=20)),
        (2, 7, date(2026, 11, 27), 1, T0, T0),
    ]


async def test_a_late_batch_keeps_the_first_listing_and_the_last(backend: Backend) -> None:
    log = SqlExposureLog(backend.database.write_engine)
    day = date(2026, 11, 27)
    later = T0 + timedelta(minutes=5)
    await log.add([Exposure(3, 9, day, 4, later, later + timedelta(minutes=1))])
    # Another process's batch, older, written after.
    await log.add([Exposure(3, 9, day, 2, T0, T0 + timedelta(minutes=2))])

    assert await rows(backend) == [(3, 9, day, 6, T0, later + timedelta(minutes=1))]


async def test_the_buffer_writes_what_it_holds_in_one_batch(backend: Backend) -> None:
    log = SqlExposureLog(backend.database.write_engine)
    buffer = ExposureBuffer(log, flush_seconds=60)
    for minute in range(30):
        await buffer.record(5, [10, 11], T0 + timedelta(minutes=minute))

    assert await rows(backend) == []  # held, not yet written
    await buffer.flush()
    await buffer.flush()  # nothing held: nothing written twice

    last = T0 + timedelta(minutes=29)
    assert await rows(backend) == [
        (10, 5, date(2026, 11, 27), 30, T0, last),
        (11, 5, date(2026, 11, 27), 30, T0, last),
    ]
