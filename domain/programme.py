"""Programme settings: which currencies earn, at what base rate, and how long points live."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.merchants import Merchant
from domain.money import Money, points_for_spend


@dataclass(frozen=True, slots=True)
class Programme:
    name: str
    points_validity_months: int
    earn_rates: Mapping[str, Decimal]  # points per currency unit, one entry per accepted currency
    transfer_limit_per_month: int = 10_000  # points a member may give other members in a calendar month
    pending_days: int = 0  # a purchase's points stay pending this long (the return window); 0: at once

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
        return add_months(earned_at, self.points_validity_months)


def add_months(at: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = at.month - 1 + months
    year = at.year + month_index // 12
    month = month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)
