"""The notification rules alone: which notices go out, when, and why the others do not."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from domain.notifications import (
    Category,
    Decision,
    NotificationKind,
    NotificationSettings,
    SuppressReason,
    decide,
    in_quiet_hours,
    is_time_zone,
    quiet_hours_end,
)

SETTINGS = NotificationSettings()  # quiet 22:00-08:00, 3 marketing a week
NOON_UTC = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def decision(
    kind: NotificationKind,
    now: datetime = NOON_UTC,
    *,
    consent: bool = True,
    zone: str | None = None,
    sent: int = 0,
    active: bool = True,
) -> Decision:
    return decide(
        kind,
        active=active,
        consent=consent,
        time_zone=zone,
        now=now,
        marketing_sent_this_week=sent,
        settings=SETTINGS,
    )


def test_kinds_are_service_or_marketing() -> None:
    assert NotificationKind.POINTS_EXPIRING.category is Category.SERVICE
    assert NotificationKind.TIER_CHANGED.category is Category.SERVICE
    assert NotificationKind.OFFER_RECOMMENDED.category is Category.MARKETING
    assert NotificationKind.CAMPAIGN.category is Category.MARKETING


def test_marketing_needs_consent_and_a_service_notice_does_not() -> None:
    assert decision(NotificationKind.OFFER_RECOMMENDED, consent=False) == Decision(
        False, SuppressReason.NO_CONSENT
    )
    assert decision(NotificationKind.POINTS_EXPIRING, consent=False) == Decision(True)
    assert decision(NotificationKind.OFFER_RECOMMENDED) == Decision(True)


def test_nothing_goes_to_a_member_that_is_not_active() -> None:
    assert decision(NotificationKind.TIER_CHANGED, active=False) == Decision(False, SuppressReason.NOT_ACTIVE)


def test_the_weekly_cap_stops_marketing_at_its_limit_only() -> None:
    assert decision(NotificationKind.CAMPAIGN, sent=2).send
    assert decision(NotificationKind.CAMPAIGN, sent=3) == Decision(False, SuppressReason.WEEKLY_CAP)
    assert decision(NotificationKind.POINTS_EXPIRING, sent=30).send


def test_quiet_hours_are_the_members_local_time() -> None:
    # 14:00 UTC is 22:00 in Shanghai (quiet) and 15:00 in London in winter (not quiet).
    at = datetime(2026, 1, 10, 14, 0, tzinfo=UTC)
    assert decision(NotificationKind.CAMPAIGN, at, zone="Asia/Shanghai") == Decision(
        False, SuppressReason.QUIET_HOURS
    )
    assert decision(NotificationKind.CAMPAIGN, at, zone="Europe/London").send
    assert decision(NotificationKind.CAMPAIGN, at).send  # no zone: UTC
    # 21:59:59 local is not quiet yet; 08:00 local is not quiet any more.
    assert decision(
        NotificationKind.CAMPAIGN, datetime(2026, 1, 10, 13, 59, 59, tzinfo=UTC), zone="Asia/Shanghai"
    ).send
    assert decision(
        NotificationKind.CAMPAIGN, datetime(2026, 1, 10, 0, 0, tzinfo=UTC), zone="Asia/Shanghai"
    ).send


def test_a_service_notice_in_quiet_hours_is_emitted_to_wait_until_they_end() -> None:
    at = datetime(2026, 1, 10, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai: the quiet hours end 08:00 local
    got = decision(NotificationKind.POINTS_EXPIRING, at, zone="Asia/Shanghai")
    assert got == Decision(True, not_before=datetime(2026, 1, 11, 0, 0, tzinfo=UTC))
    early = datetime(2026, 1, 10, 21, 30, tzinfo=UTC)  # 05:30 the next morning in Shanghai
    assert decision(NotificationKind.TIER_CHANGED, early, zone="Asia/Shanghai").not_before == datetime(
        2026, 1, 11, 0, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        # New York, spring forward (10 March 2024, 02:00 -> 03:00):
        # 23:00 EST on the 9th; 08:00 EDT = 12:00 UTC.
        (datetime(2024, 3, 10, 4, 0, tzinfo=UTC), datetime(2024, 3, 10, 12, 0, tzinfo=UTC)),
        # Fall back (3 November 2024): 23:00 EDT on the 2nd; 08:00 EST = 13:00 UTC.
        (datetime(2024, 11, 3, 3, 0, tzinfo=UTC), datetime(2024, 11, 3, 13, 0, tzinfo=UTC)),
        # An ordinary night: 23:00 EST; 08:00 EST = 13:00 UTC.
        (datetime(2024, 1, 10, 4, 0, tzinfo=UTC), datetime(2024, 1, 10, 13, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_follow_daylight_saving_changes(now: datetime, ends: datetime) -> None:
    assert quiet_hours_end(now, "America/New_York", SETTINGS) == ends


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    assert in_quiet_hours(time(13, 30), time(13, 0), time(14, 0))
    assert not in_quiet_hours(time(14, 0), time(13, 0), time(14, 0))
    assert not in_quiet_hours(time(23, 0), time(0, 0), time(0, 0))
    assert in_quiet_hours(time(23, 0), time(22, 0), time(8, 0))
    assert in_quiet_hours(time(7, 59), time(22, 0), time(8, 0))
    assert not in_quiet_hours(time(8, 0), time(22, 0), time(8, 0))


def test_time_zones_are_iana_names() -> None:
    assert is_time_zone("Asia/Shanghai")
    assert is_time_zone("UTC")
    assert not is_time_zone("Mars/Olympus")
    assert not is_time_zone("../etc/passwd")
