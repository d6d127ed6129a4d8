"""Programme settings: which currencies earn, at what base rate, how long points live, and the
windows of the points lifecycle (return window, POS holds, tiers, dormancy)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.merchants import Merchant
from domain.money import Money, points_for_spend
from domain.notifications import NotificationSettings


class ExpiryPolicy(StrEnum):
    """When a lot earned on a day expires, `points_validity_months` after it."""

    FIXED_MONTHS = "FIXED_MONTHS"  # the same day, that many months later
    END_OF_MONTH = "END_OF_MONTH"  # the end of the month that day falls in
    END_OF_YEAR = "END_OF_YEAR"  # the end of the year that day falls in


class ClosurePolicy(StrEnum):
    """What becomes of a member's available points when it closes its account."""

    FORFEIT = "FORFEIT"  # they go to the expiry (breakage) account at once
    KEEP = "KEEP"  # they stay for `closure_grace_days`, while an admin may reopen; then forfeited


@dataclass(frozen=True, slots=True)
class Programme:
    name: str
    points_validity_months: int
    earn_rates: Mapping[str, Decimal]  # points per currency unit, one entry per accepted currency
    transfer_limit_per_month: int = 10_000  # points a member may give other members in a calendar month
    pending_days: int = 0  # a purchase's points stay pending this long (the return window); 0: at once
    expiry_policy: ExpiryPolicy = ExpiryPolicy.FIXED_MONTHS
    hold_minutes: int = 30  # how long a POS authorization holds points before the job releases them
    dormant_after_days: int = 365  # a member with no activity this long is DORMANT
    tier_window_months: int = 12  # tiers qualify on points or spend over this rolling window
    tier_grace_days: int = 30  # below its tier at an evaluation, a member keeps it this long
    voucher_valid_days: int = 30  # a redeemed reward's voucher may be used this long
    closure_policy: ClosurePolicy = ClosurePolicy.FORFEIT
    closure_grace_days: int = 30  # how long a closed member's points wait under the KEEP policy
    # What one point is worth, in currency units (CNY 0.01: a fen), per currency; statements value
    # points with it (domain/statements.py). A currency without one values points at nothing.
    point_values: Mapping[str, Decimal] = field(default_factory=dict)
    # Notifications (domain/notifications.py) and the sign-up nudge (domain/triggers.py).
    expiry_notice_days: int = 7
    marketing_per_week: int = 3
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(8, 0)
    sign_up_nudge_days: int = 14  # a member with no purchase this long after enrolling is nudged

    @property
    def notification_settings(self) -> NotificationSettings:
        return NotificationSettings(
            expiry_notice_days=self.expiry_notice_days,
            marketing_per_week=self.marketing_per_week,
            quiet_start=self.quiet_hours_start,
            quiet_end=self.quiet_hours_end,
        )

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(self.earn_rates)

    def base_rate(self, currency: str, merchant: Merchant) -> Decimal:
        """Points per currency unit: the merchant's override if it has one, else the programme's rate."""
        rate = merchant.earn_rate_override
        return self.earn_rates[currency] if rate is None else rate

    def base_points(self, amount: Money, merchant: Merchant) -> int:
        """Base earn, rounded down."""
        return points_for_spend(amount, self.base_rate(amount.currency, merchant))

    def expiry_for(self, earned_at: datetime) -> datetime:
        at = add_months(earned_at, self.points_validity_months)
        if self.expiry_policy is ExpiryPolicy.END_OF_MONTH:
            return _start_of_month(at, 1) - _INSTANT
        if self.expiry_policy is ExpiryPolicy.END_OF_YEAR:
            return _start_of_month(at.replace(month=1), 12) - _INSTANT
        return at

    def pending_days_at(self, merchant: Merchant) -> int:
        """The return window at this merchant: its own where it sets one, else the programme's."""
        return self.pending_days if merchant.pending_days is None else merchant.pending_days


# End of a period: its last microsecond, so a lot dated then has expired once the period is over.
_INSTANT = timedelta(microseconds=1)


def _start_of_month(at: datetime, months_later: int) -> datetime:
    return add_months(at.replace(day=1, hour=0, minute=0, second=0, microsecond=0), months_later)


def add_months(at: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = at.month - 1 + months
    year = at.year + month_index // 12
    month = month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)
