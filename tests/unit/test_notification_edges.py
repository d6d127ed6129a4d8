"""The notification rules at their edges: the zone a name falls back to, each bound of the quiet
hours (within a day, across midnight), when they end from their evening and their morning part, and
the order the rules are applied in."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.notifications import (
    Decision,
    NotificationKind,
    NotificationSettings,
    SuppressReason,
    decide,
    in_quiet_hours,
    quiet_hours_end,
    zone,
)

NIGHT = NotificationSettings()  # 22:00-08:00
LUNCH = NotificationSettings(quiet_start=time(13, 0), quiet_end=time(14, 0))
NONE = NotificationSettings(quiet_start=time(9, 0), quiet_end=time(9, 0))


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Asia/Shanghai", "Asia/Shanghai"),
        (None, "UTC"),
        ("", "UTC"),
        ("Mars/Olympus", "UTC"),  # no such zone
        ("../etc/passwd", "UTC"),  # not a zone name at all (ValueError)
    ],
)
def test_a_members_zone_falls_back_to_utc(name: str | None, key: str) -> None:
    assert zone(name) == ZoneInfo(key)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(12, 59, 59), False),
        (time(13, 0), True),
        (time(13, 59, 59), True),
        (time(14, 0), False),
    ],
)
def test_quiet_hours_within_a_day_include_their_start_not_their_end(local: time, quiet: bool) -> None:
    assert in_quiet_hours(local, time(13, 0), time(14, 0)) is quiet


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(21, 59, 59), False),
        (time(22, 0), True),
        (time(0, 0), True),
        (time(7, 59, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_across_midnight_include_their_start_not_their_end(local: time, quiet: bool) -> None:
    assert in_quiet_hours(local, time(22, 0), time(8, 0)) is quiet


def test_equal_start_and_end_are_no_quiet_hours() -> None:
    assert not in_quiet_hours(time(9, 0), time(9, 0), time(9, 0))
    assert not in_quiet_hours(time(3, 0), time(9, 0), time(9, 0))
    assert quiet_hours_end(datetime(2026, 1, 10, 9, 0, tzinfo=UTC), None, NONE) is None


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        # Evening part: they end tomorrow at 08:00.
        (datetime(2026, 1, 10, 22, 0, tzinfo=UTC), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)),
        (datetime(2026, 1, 10, 23, 59, tzinfo=UTC), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)),
        # Morning part: they end today at 08:00.
        (datetime(2026, 1, 11, 0, 0, tzinfo=UTC), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)),
        (datetime(2026, 1, 11, 7, 59, tzinfo=UTC), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)),
        # Outside them: nothing to wait for.
        (datetime(2026, 1, 11, 8, 0, tzinfo=UTC), None),
        (datetime(2026, 1, 11, 21, 59, tzinfo=UTC), None),
    ],
)
def test_quiet_hours_across_midnight_end_the_next_morning(now: datetime, ends: datetime | None) -> None:
    assert quiet_hours_end(now, "UTC", NIGHT) == ends


def test_quiet_hours_within_a_day_end_the_same_day() -> None:
    assert quiet_hours_end(datetime(2026, 1, 10, 13, 30, tzinfo=UTC), None, LUNCH) == datetime(
        2026, 1, 10, 14, 0, tzinfo=UTC
    )
    assert quiet_hours_end(datetime(2026, 1, 10, 14, 0, tzinfo=UTC), None, LUNCH) is None


def test_the_end_is_the_members_local_time_given_in_utc() -> None:
    # 05:30 in Shanghai (UTC+8) on the 11th: the quiet hours end at 08:00 there, 00:00 UTC.
    ends = quiet_hours_end(datetime(2026, 1, 10, 21, 30, tzinfo=UTC), "Asia/Shanghai", NIGHT)
    assert ends == datetime(2026, 1, 11, 0, 0, tzinfo=UTC)
    assert ends is not None
    assert ends.tzinfo is UTC
    # 23:00 in Shanghai on the 10th: they end at 08:00 on the 11th, still 00:00 UTC.
    assert quiet_hours_end(datetime(2026, 1, 10, 15, 0, tzinfo=UTC), "Asia/Shanghai", NIGHT) == datetime(
        2026, 1, 11, 0, 0, tzinfo=UTC
    )


def decision(kind: NotificationKind, now: datetime, **given: object) -> Decision:
    values: dict[str, object] = {
        "active": True,
        "consent": True,
        "time_zone": None,
        "marketing_sent_this_week": 0,
        **given,
    }
    return decide(kind, now=now, settings=NIGHT, **values)  # type: ignore[arg-type]


QUIET = datetime(2026, 1, 10, 23, 0, tzinfo=UTC)


def test_an_inactive_member_is_told_nothing_even_of_its_account() -> None:
    assert decision(NotificationKind.POINTS_EXPIRING, QUIET, active=False) == Decision(
        False, SuppressReason.NOT_ACTIVE
    )
    assert decision(NotificationKind.CAMPAIGN, QUIET, active=False, consent=False) == Decision(
        False, SuppressReason.NOT_ACTIVE
    )


def test_a_service_notice_goes_past_every_marketing_rule_and_waits_out_the_quiet_hours() -> None:
    assert decision(
        NotificationKind.TIER_CHANGED, QUIET, consent=False, marketing_sent_this_week=99
    ) == Decision(True, None, datetime(2026, 1, 11, 8, 0, tzinfo=UTC))


def test_marketing_rules_in_order_consent_then_quiet_hours_then_the_cap() -> None:
    kind = NotificationKind.OFFER_RECOMMENDED
    assert decision(kind, QUIET, consent=False, marketing_sent_this_week=3) == Decision(
        False, SuppressReason.NO_CONSENT
    )
    assert decision(kind, QUIET, marketing_sent_this_week=3) == Decision(False, SuppressReason.QUIET_HOURS)
    noon = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert decision(kind, noon, marketing_sent_this_week=3) == Decision(False, SuppressReason.WEEKLY_CAP)
    assert decision(kind, noon, marketing_sent_this_week=2) == Decision(True, None, None)
