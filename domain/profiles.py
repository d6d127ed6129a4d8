"""A member's behavioural profile (用戶畫像): how often, how much, where and how it buys, and where it
stands in its lifecycle, read from day counters rather than from its purchases.

Each purchase adds one to a counter row keyed by (member, UTC day of the purchase, merchant, channel,
currency) and its amount to that row's spend, in the transaction that records the purchase. A refund
takes its amount off the same row, the purchase's own day, and a refund that completes the purchase's
refund takes the purchase off the count: every window then reads as if the refunded money had never
been spent. A job drops rows older than RETENTION_DAYS, so a window never rescans purchases.

Invariants, for a member, the profile currency C and a window of N days ending on day T (today and
the N - 1 days before it, in UTC):
- purchases(N) = the member's purchases not fully refunded whose UTC day is in (T - N, T];
- spend(N) = the sum over those purchases in C of amount - refunded (minor units, exact);
- per category, channel and merchant the same sums split by the merchant's category (as it is now),
  the purchase's channel and merchant; the category shares are basis points summing to exactly 10,000
  (largest remainder) whenever spend(365) > 0;
- purchases in another currency count in purchases(N) and the channel mix, never in any spend.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.errors import Validation
from domain.merchants import Channel, MerchantCategory
from domain.programme import Programme
from domain.tiers import Tier, ladder_currency

WINDOWS = (30, 90, 365)
LONGEST_WINDOW = WINDOWS[-1]
# Rows are kept past the longest window by a margin, so a late job run never loses a day still needed.
RETENTION_DAYS = LONGEST_WINDOW + 35
TOP_MERCHANTS = 5
MONTHS_SHOWN = 12
BASIS_POINTS = 10_000

K = TypeVar("K")


class LifecycleStage(StrEnum):
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    AT_RISK = "AT_RISK"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """Days since enrolment or since the last purchase that move a member between stages:
    NEW while enrolled fewer than `new_member_days` ago; then, by days since the last purchase (or since
    enrolment, for a member who never bought), AT_RISK from `at_risk_after_days`, DORMANT from
    `dormant_after_days` (or while the dormancy job has the member marked), CHURNED from
    `churned_after_days`; ACTIVE before any of them."""

    new_member_days: int = 30
    at_risk_after_days: int = 60
    dormant_after_days: int = 120
    churned_after_days: int = 365

    def validated(self) -> LifecycleRules:
        if not 0 <= self.new_member_days <= LONGEST_WINDOW:
            raise Validation(f"must be between 0 and {LONGEST_WINDOW} days", ("newMemberDays",))
        if not 0 < self.at_risk_after_days < self.dormant_after_days < self.churned_after_days:
            raise Validation(
                "must be 0 < atRiskAfterDays < dormantAfterDays < churnedAfterDays", ("atRiskAfterDays",)
            )
        if self.churned_after_days > LONGEST_WINDOW:
            # The last purchase is known from the day counters, which reach back a year.
            raise Validation(f"must be at most {LONGEST_WINDOW} days", ("churnedAfterDays",))
        return self


@dataclass(frozen=True, slots=True)
class ActivityChange:
    """What one purchase or refund adds to its counter row (negative for refunds)."""

    member_id: int
    day: date
    merchant_id: int
    channel: Channel
    currency: str
    purchases: int
    spend_minor: int


@dataclass(frozen=True, slots=True)
class DayActivity:
    """One counter row as read, with the merchant's category."""

    day: date
    merchant_id: int
    category: MerchantCategory
    channel: Channel
    currency: str
    purchases: int
    spend_minor: int


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    purchases: int
    spend_minor: int


@dataclass(frozen=True, slots=True)
class CategorySpend:
    category: MerchantCategory
    purchases: int
    spend_minor: int
    share_basis_points: int


@dataclass(frozen=True, slots=True)
class ChannelUse:
    channel: Channel
    purchases: int


@dataclass(frozen=True, slots=True)
class MerchantSpend:
    merchant_id: int
    purchases: int
    spend_minor: int


@dataclass(frozen=True, slots=True)
class MonthCategorySpend:
    month: str  # YYYY-MM
    category: MerchantCategory
    spend_minor: int


@dataclass(frozen=True, slots=True)
class Insights:
    currency: str
    last_purchase_day: date | None
    windows: tuple[Window, ...]  # one per WINDOWS entry, shortest first
    average_ticket_minor: int | None  # spend(365) / purchases(365), half to even; None without any
    categories: tuple[CategorySpend, ...]  # over 365 days, most spend first
    channels: tuple[ChannelUse, ...]  # over 365 days, most used first
    top_merchants: tuple[MerchantSpend, ...]  # over 365 days, most spend first, at most TOP_MERCHANTS
    months: tuple[MonthCategorySpend, ...]  # the last MONTHS_SHOWN calendar months, oldest first
    stage: LifecycleStage


def profile_currency(programme: Programme, ladder: Sequence[Tier]) -> str:
    """Spend is counted in the tier ladder's spend currency, else the programme's first currency in
    alphabetical order."""
    return ladder_currency(ladder) or min(programme.currencies)


def utc_day(at: datetime) -> date:
    """The UTC day of a time; a time without a zone is taken as UTC (as SQLite returns them)."""
    return at.date() if at.tzinfo is None else at.astimezone(UTC).date()


def purchase_activity(
    member_id: int,
    merchant_id: int,
    channel: Channel,
    currency: str,
    amount_minor: int,
    occurred_at: datetime,
) -> ActivityChange:
    return ActivityChange(member_id, utc_day(occurred_at), merchant_id, channel, currency, 1, amount_minor)


def refund_activity(
    member_id: int,
    merchant_id: int,
    channel: Channel,
    currency: str,
    occurred_at: datetime,
    refunded_minor: int,
    *,
    completes_refund: bool,
) -> ActivityChange:
    """The refund's change to the purchase's own row: its amount off the spend, and the purchase off
    the count once nothing of it is left."""
    return ActivityChange(
        member_id,
        utc_day(occurred_at),
        merchant_id,
        channel,
        currency,
        -1 if completes_refund else 0,
        -refunded_minor,
    )


def merged(changes: Iterable[ActivityChange]) -> list[ActivityChange]:
    """Changes to the same row added up (a batch writes each row once), in key order."""
    sums: dict[tuple[int, date, int, Channel, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in changes:
        figures = sums[(c.member_id, c.day, c.merchant_id, c.channel, c.currency)]
        figures[0] += c.purchases
        figures[1] += c.spend_minor
    return [ActivityChange(*key, purchases, spend) for key, (purchases, spend) in sorted(sums.items())]


def window_start(today: date, days: int) -> date:
    """The first day a window of `days` days ending today contains."""
    return today - timedelta(days=days - 1)


def insights(
    rows: Sequence[DayActivity],
    *,
    currency: str,
    today: date,
    enrolled_on: date,
    marked_dormant: bool,
    rules: LifecycleRules,
) -> Insights:
    """The profile from the member's counter rows (any rows outside the windows are ignored)."""
    year = [r for r in rows if window_start(today, LONGEST_WINDOW) <= r.day <= today]
    spent = [r for r in year if r.currency == currency]
    windows = tuple(
        Window(
            days,
            sum(r.purchases for r in year if r.day >= window_start(today, days)),
            sum(r.spend_minor for r in spent if r.day >= window_start(today, days)),
        )
        for days in WINDOWS
    )
    last = max((r.day for r in year if r.purchases > 0), default=None)
    return Insights(
        currency=currency,
        last_purchase_day=last,
        windows=windows,
        average_ticket_minor=_half_even(windows[-1].spend_minor, windows[-1].purchases),
        categories=_categories(spent),
        channels=_channels(year),
        top_merchants=_top_merchants(spent),
        months=_months(spent, today),
        stage=stage(
            rules, today=today, enrolled_on=enrolled_on, last_purchase=last, marked_dormant=marked_dormant
        ),
    )


def stage(
    rules: LifecycleRules, *, today: date, enrolled_on: date, last_purchase: date | None, marked_dormant: bool
) -> LifecycleStage:
    if (today - enrolled_on).days < rules.new_member_days:
        return LifecycleStage.NEW
    idle = (today - (last_purchase or enrolled_on)).days
    if idle >= rules.churned_after_days:
        return LifecycleStage.CHURNED
    if idle >= rules.dormant_after_days or marked_dormant:
        return LifecycleStage.DORMANT
    if idle >= rules.at_risk_after_days:
        return LifecycleStage.AT_RISK
    return LifecycleStage.ACTIVE


def shares(amounts: Sequence[int], whole: int = BASIS_POINTS) -> list[int]:
    """Each amount's share of their total in parts of `whole`, floored, with the parts left over given
    to the largest remainders (ties to the earlier amount): the shares always sum to `whole`."""
    total = sum(amounts)
    if total <= 0:
        return [0 for _ in amounts]
    floors = [a * whole // total for a in amounts]
    left = whole - sum(floors)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] * whole % total), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return floors


def _half_even(numerator: int, denominator: int) -> int | None:
    if denominator <= 0:
        return None
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _categories(rows: Sequence[DayActivity]) -> tuple[CategorySpend, ...]:
    totals = _sum_by(rows, lambda r: r.category)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0].value))
    parts = shares([max(spend, 0) for _, (_, spend) in ordered])
    return tuple(
        CategorySpend(category, count, spend, part)
        for (category, (count, spend)), part in zip(ordered, parts, strict=True)
    )


def _channels(rows: Sequence[DayActivity]) -> tuple[ChannelUse, ...]:
    totals = _sum_by(rows, lambda r: r.channel)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0].value))
    return tuple(ChannelUse(channel, count) for channel, (count, _) in ordered if count > 0)


def _top_merchants(rows: Sequence[DayActivity]) -> tuple[MerchantSpend, ...]:
    totals = _sum_by(rows, lambda r: r.merchant_id)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return tuple(MerchantSpend(m, count, spend) for m, (count, spend) in ordered[:TOP_MERCHANTS] if count > 0)


def _months(rows: Sequence[DayActivity], today: date) -> tuple[MonthCategorySpend, ...]:
    first = _month_start(today, MONTHS_SHOWN - 1)
    totals = _sum_by((r for r in rows if r.day >= first), lambda r: (f"{r.day:%Y-%m}", r.category))
    return tuple(
        MonthCategorySpend(month, category, spend)
        for (month, category), (_, spend) in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1].value))
    )


def _month_start(today: date, months_back: int) -> date:
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _sum_by(rows: Iterable[DayActivity], key: Callable[[DayActivity], K]) -> Mapping[K, tuple[int, int]]:
    sums: dict[K, tuple[int, int]] = {}
    for r in rows:
        count, spend = sums.get(key(r), (0, 0))
        sums[key(r)] = (count + r.purchases, spend + r.spend_minor)
    return sums
