"""The system clock answers in UTC, so every stored and compared time is time-zone aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock, SystemClock


def test_the_system_clock_tells_the_time_in_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= before + timedelta(seconds=5)


def test_a_fixed_clock_stands_still() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FixedClock(at)
    assert (clock.now(), clock.now()) == (at, at)
