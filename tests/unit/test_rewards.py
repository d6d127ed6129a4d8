"""Reward rules without a database: limit periods, tier restrictions, the hold's time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.rewards import LimitPeriod, Redemption, RedemptionStatus, Reward, period_start

# A Thursday afternoon in UTC.
NOW = datetime(2026, 11, 26, 15, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "start"),
    [
        (LimitPeriod.DAY, datetime(2026, 11, 26, tzinfo=UTC)),
        (LimitPeriod.WEEK, datetime(2026, 11, 23, tzinfo=UTC)),  # the Monday
        (LimitPeriod.MONTH, datetime(2026, 11, 1, tzinfo=UTC)),
        (LimitPeriod.YEAR, datetime(2026, 1, 1, tzinfo=UTC)),
        (LimitPeriod.EVER, None),
    ],
)
def test_a_limit_counts_from_the_start_of_the_calendar_period(
    period: LimitPeriod, start: datetime | None
) -> None:
    assert period_start(period, NOW) == start


def test_periods_are_read_in_utc_whatever_the_clock_s_zone() -> None:
    # 01:00 on 1 December in UTC+8 is still 30 November in UTC
    shanghai = datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=8)))

    assert period_start(LimitPeriod.MONTH, shanghai) == datetime(2026, 11, 1, tzinfo=UTC)
    assert period_start(LimitPeriod.DAY, shanghai) == datetime(2026, 11, 30, tzinfo=UTC)


def test_a_period_starts_at_midnight_whatever_the_microseconds_of_the_moment() -> None:
    assert period_start(LimitPeriod.DAY, NOW.replace(microsecond=999_999)) == datetime(
        2026, 11, 26, tzinfo=UTC
    )


def test_periods_are_read_in_utc_whatever_the_server_s_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The server's local zone is UTC+8: 20:00 UTC on the 26th is already the 27th there.
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert period_start(LimitPeriod.DAY, datetime(2026, 11, 26, 20, 0, tzinfo=UTC)) == datetime(
            2026, 11, 26, tzinfo=UTC
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_monday_starts_its_own_week() -> None:
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert period_start(LimitPeriod.WEEK, monday) == monday


def reward(**fields: object) -> Reward:
    return Reward(1, "Lounge", 100, None, True, NOW, **fields)  # type: ignore[arg-type]


def test_a_limit_without_a_period_counts_since_ever() -> None:
    assert reward(per_member_limit=2).limit_window_start(NOW) is None
    assert reward(per_member_limit=2, limit_period=LimitPeriod.DAY).limit_window_start(NOW) == datetime(
        2026, 11, 26, tzinfo=UTC
    )


def test_a_reward_without_tiers_is_open_to_all_and_the_entry_tier_is_in_no_list() -> None:
    assert reward().open_to(None)
    assert reward().open_to(3)
    assert reward(tier_ids=frozenset({2, 3})).open_to(3)
    assert not reward(tier_ids=frozenset({2, 3})).open_to(1)
    assert not reward(tier_ids=frozenset({2, 3})).open_to(None)


def test_only_cancelled_voided_and_expired_redemptions_stop_counting() -> None:
    counted = {s for s in RedemptionStatus if s.counts_towards_limit}
    assert counted == {
        RedemptionStatus.REQUESTED,
        RedemptionStatus.FULFILLED,
        RedemptionStatus.AUTHORIZED,
        RedemptionStatus.CAPTURED,
    }


def test_a_hold_lapses_at_its_time() -> None:
    hold = Redemption(1, 1, None, 100, RedemptionStatus.AUTHORIZED, NOW, hold_expires_at=NOW)
    assert not hold.hold_lapsed(NOW - timedelta(microseconds=1))
    assert hold.hold_lapsed(NOW)
