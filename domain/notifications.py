"""Notifications to members, handed to a push gateway as `notification.requested` events.

Two categories, with different rules, applied before anything is emitted:

- SERVICE (points about to expire, a tier change): the member's account, told whatever its
  marketing consent and however many messages it had this week. In its quiet hours the notice is
  still emitted, with `notBefore` set to the end of the quiet hours (the gateway holds it).
- MARKETING (a recommended offer, a triggered campaign's message): only with the member's marketing
  consent, never in its quiet hours, and at most `marketing_per_week` in any 7 days. A notice one of
  these rules stops is not emitted; it is recorded as suppressed, with the rule as its reason.

Quiet hours are local times in the member's own time zone (an IANA name; UTC when it set none), so
they follow its daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "UTC"
CAP_WINDOW = timedelta(days=7)


class Category(StrEnum):
    SERVICE = "SERVICE"
    MARKETING = "MARKETING"


class NotificationKind(StrEnum):
    POINTS_EXPIRING = "POINTS_EXPIRING"  # N days before a member's points expire
    TIER_CHANGED = "TIER_CHANGED"  # the member moved up or down a tier
    OFFER_RECOMMENDED = "OFFER_RECOMMENDED"  # an offer suggested to the member (a trigger's action)
    CAMPAIGN = "CAMPAIGN"  # any other message a triggered campaign sends

    @property
    def category(self) -> Category:
        if self in (NotificationKind.POINTS_EXPIRING, NotificationKind.TIER_CHANGED):
            return Category.SERVICE
        return Category.MARKETING


class SuppressReason(StrEnum):
    NO_CONSENT = "NO_CONSENT"  # marketing to a member that has not consented
    QUIET_HOURS = "QUIET_HOURS"  # marketing inside the member's quiet hours
    WEEKLY_CAP = "WEEKLY_CAP"  # marketing past the weekly cap
    NOT_ACTIVE = "NOT_ACTIVE"  # the member is locked, closed or erased


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """The programme's notification settings."""

    expiry_notice_days: int = 7  # a notice this many days before points expire
    marketing_per_week: int = 3  # at most this many marketing messages in any 7 days
    quiet_start: time = time(22, 0)  # local time the quiet hours start
    quiet_end: time = time(8, 0)  # local time they end (before the start: they span midnight)


@dataclass(frozen=True, slots=True)
class Decision:
    send: bool
    reason: SuppressReason | None = None
    not_before: datetime | None = None  # a service notice held until the quiet hours end


def zone(name: str | None) -> ZoneInfo:
    """The member's zone; an unknown name (it is validated when set) falls back to UTC."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False  # no quiet hours
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def quiet_hours_end(now: datetime, time_zone: str | None, settings: NotificationSettings) -> datetime | None:
    """When the quiet hours `now` falls in end, in UTC; None outside them."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time().replace(tzinfo=None), settings.quiet_start, settings.quiet_end):
        return None
    day: date = local.date()
    if local.time().replace(tzinfo=None) >= settings.quiet_end and settings.quiet_start > settings.quiet_end:
        day = day + timedelta(days=1)  # in the evening part: they end tomorrow morning
    # Wall-clock arithmetic in the zone, then to UTC: a DST change overnight moves the instant.
    return datetime.combine(day, settings.quiet_end, tzinfo=tz).astimezone(UTC)


def decide(
    kind: NotificationKind,
    *,
    active: bool,
    consent: bool,
    time_zone: str | None,
    now: datetime,
    marketing_sent_this_week: int,
    settings: NotificationSettings,
) -> Decision:
    """Whether a notice is emitted now, and if not, why not."""
    if not active:
        return Decision(False, SuppressReason.NOT_ACTIVE)
    quiet_until = quiet_hours_end(now, time_zone, settings)
    if kind.category is Category.SERVICE:
        return Decision(True, not_before=quiet_until)
    if not consent:
        return Decision(False, SuppressReason.NO_CONSENT)
    if quiet_until is not None:
        return Decision(False, SuppressReason.QUIET_HOURS)
    if marketing_sent_this_week >= settings.marketing_per_week:
        return Decision(False, SuppressReason.WEEKLY_CAP)
    return Decision(True)
