"""Member cap periods: where the day, week, month or offer life a moment falls in began."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.offers.model import CapPeriod, Offer


def cap_period_start(offer: Offer, at: datetime) -> datetime:
    """The start of the member cap period `at` falls in, for this offer."""
    return period_start(offer.limits.per_member_period, at, offer.window.time_zone, offer.window.starts_at)


def period_start(period: CapPeriod, at: datetime, time_zone: str, offer_start: datetime) -> datetime:
    """Where the member cap's current period began (local midnight, Monday, first of the month)."""
    if period is CapPeriod.OFFER:
        return offer_start
    local = at.astimezone(ZoneInfo(time_zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is CapPeriod.WEEK:
        local -= timedelta(days=local.isoweekday() - 1)
    elif period is CapPeriod.MONTH:
        local = local.replace(day=1)
    return local
