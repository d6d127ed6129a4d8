"""When an offer runs and whom it is for, at the edges (domain/offers/model.py, periods.py): hours
need both ends, birth-year bounds are inclusive, and a member cap period starts at the exact local
midnight (or the offer's start) whatever the moment's minutes and seconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.members import Profile
from domain.offers import (
    CapPeriod,
    Eligibility,
    Limits,
    Segment,
    Usage,
    Window,
    cap_period_start,
    open_to,
    period_start,
)
from tests.unit.test_offers import MEMBER, NOW, offer

SHANGHAI = "Asia/Shanghai"
# 20:41:27.5 in Shanghai on Wednesday 25 November 2026.
ODD_MOMENT = NOW + timedelta(minutes=41, seconds=27, microseconds=500_000)


def test_hours_apply_only_when_both_ends_are_given() -> None:
    starts_at = NOW - timedelta(days=1)
    ends_at = NOW + timedelta(days=1)
    from_only = Window(starts_at, ends_at, from_hour=9, time_zone=SHANGHAI)
    to_only = Window(starts_at, ends_at, to_hour=9, time_zone=SHANGHAI)

    # 20:00 in Shanghai: outside 09:00-, but a window with one end only runs all day.
    assert from_only.contains(NOW)
    assert to_only.contains(NOW)


@pytest.mark.parametrize(
    ("born", "matches"),
    [(1979, False), (1980, True), (1985, True), (1990, True), (1991, False), (None, False)],
)
def test_birth_year_bounds_are_inclusive_and_an_unknown_year_is_outside(
    born: int | None, matches: bool
) -> None:
    member = replace(MEMBER, profile=Profile(birth_year=born))

    assert Segment(born_from=1980, born_to=1990).matches(member) is matches


def test_an_unknown_birth_year_is_outside_an_upper_bound_alone() -> None:
    assert not Segment(born_to=1990).matches(replace(MEMBER, profile=Profile()))
    assert Segment(born_to=1990).matches(replace(MEMBER, profile=Profile(birth_year=1990)))
    assert not Segment(born_from=1990).matches(replace(MEMBER, profile=Profile()))


@pytest.mark.parametrize(
    ("period", "local_start"),
    [
        (CapPeriod.DAY, datetime(2026, 11, 25)),
        (CapPeriod.WEEK, datetime(2026, 11, 23)),  # the Monday
        (CapPeriod.MONTH, datetime(2026, 11, 1)),
    ],
)
def test_a_cap_period_starts_at_local_midnight_whatever_the_time_of_the_moment(
    period: CapPeriod, local_start: datetime
) -> None:
    start = period_start(period, ODD_MOMENT, SHANGHAI, NOW - timedelta(days=30))

    assert start == local_start.replace(tzinfo=ZoneInfo(SHANGHAI))
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)


def test_an_offer_s_cap_period_is_read_in_its_own_window_and_time_zone() -> None:
    opened = datetime(2026, 11, 1, 9, 15, tzinfo=UTC)
    window = Window(opened, NOW + timedelta(days=30), time_zone=SHANGHAI)
    daily = offer(1, window=window, limits=Limits(per_member=1, per_member_period=CapPeriod.DAY))
    lifelong = offer(2, window=window, limits=Limits(per_member=1, per_member_period=CapPeriod.OFFER))

    # 17:00 UTC on the 25th is 01:00 on the 26th in Shanghai.
    late = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert cap_period_start(daily, late) == datetime(2026, 11, 26, tzinfo=ZoneInfo(SHANGHAI))
    assert cap_period_start(lifelong, late) == opened


def test_the_wallet_reads_a_new_members_offer_at_the_moment_it_asks() -> None:
    # MEMBER enrolled 100 days before NOW.
    welcome = offer(1, eligibility=Eligibility(new_members_within_days=100))

    assert open_to(welcome, MEMBER, NOW, Usage())
    assert not open_to(welcome, MEMBER, NOW + timedelta(seconds=1), Usage())
