"""Exposure counting (domain/exposures.py) and the app's exposure buffer over the fake log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from api.exposure_buffer import ExposureBuffer
from domain.exposures import Exposure, exposures_of, merged
from tests.unit.fakes import FakeExposureLog

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
DAY = date(2026, 11, 28)


def test_a_listing_is_one_exposure_of_each_offer_on_its_utc_day() -> None:
    late_in_shanghai = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert exposures_of(4, [3, 1, 3], late_in_shanghai) == [
        Exposure(3, 4, DAY, 1, late_in_shanghai, late_in_shanghai),
        Exposure(1, 4, DAY, 1, late_in_shanghai, late_in_shanghai),
    ]


@pytest.fixture
def eight_hours_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone at UTC+8 (a POSIX rule: no zone database needed)."""
    monkeypatch.setenv("TZ", "XST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("eight_hours_east")
def test_the_day_is_the_utc_one_not_the_servers() -> None:
    evening = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # already 29 November at UTC+8
    assert [e.day for e in exposures_of(4, [3], evening)] == [DAY]


def test_merged_sums_listings_and_keeps_first_and_last_in_key_order() -> None:
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    got = merged(
        [
            Exposure(2, 1, DAY, 1, t1, t1),
            Exposure(1, 1, DAY, 3, T0, t1),
            Exposure(2, 1, DAY, 2, T0, t2),
        ]
    )
    assert got == [Exposure(1, 1, DAY, 3, T0, t1), Exposure(2, 1, DAY, 3, T0, t2)]


async def test_the_buffer_writes_nothing_until_flushed_then_one_batch() -> None:
    log = FakeExposureLog()
    buffer = ExposureBuffer(log, flush_seconds=60)
    await buffer.record(1, [5, 6], T0)
    await buffer.record(1, [5], T0 + timedelta(seconds=1))
    await buffer.record(2, [5], T0)
    assert log.rows == {}

    await buffer.flush()

    assert log.writes == 1
    assert (log.listings(5, 1), log.listings(6, 1), log.listings(5, 2)) == (2, 1, 1)


class RefusingOnce(FakeExposureLog):
    def __init__(self) -> None:
        super().__init__()
        self.refuse = True

    async def add(self, exposures: Sequence[Exposure]) -> None:
        if self.refuse:
            self.refuse = False
            raise ConnectionError("database gone")
        await super().add(exposures)


async def test_a_refused_batch_is_held_and_written_with_the_next() -> None:
    log = RefusingOnce()
    buffer = ExposureBuffer(log, flush_seconds=60)
    await buffer.record(1, [5], T0)
    await buffer.flush()  # refused: held again
    await buffer.record(1, [5], T0 + timedelta(seconds=3))
    await buffer.flush()

    assert log.writes == 1
    assert log.rows[(5, 1, DAY)] == Exposure(5, 1, DAY, 2, T0, T0 + timedelta(seconds=3))


async def test_stopping_the_writer_writes_what_it_held() -> None:
    log = FakeExposureLog()
    buffer = ExposureBuffer(log, flush_seconds=3600)
    writer = asyncio.create_task(buffer.run())
    await buffer.record(1, [5, 6, 7], T0)
    buffer.stop()
    await asyncio.wait_for(writer, 5)

    assert sorted(log.rows) == [(5, 1, DAY), (6, 1, DAY), (7, 1, DAY)]
