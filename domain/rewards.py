"""The reward catalogue, and redemptions of points: for catalogue rewards, and holds at a POS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class LimitPeriod(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
    EVER = "EVER"


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    name: str
    cost_points: int
    stock: int | None  # None: unlimited
    active: bool
    created_at: datetime
    per_member_limit: int | None = None  # redemptions per member per `limit_period`
    limit_period: LimitPeriod | None = None
    tier_ids: frozenset[int] | None = None  # None: members of every tier may redeem it

    def open_to(self, tier_id: int | None) -> bool:
        """Whether a member of this tier may redeem it. A member with no tier (the entry tier) is in
        no restricted list."""
        return self.tier_ids is None or (tier_id is not None and tier_id in self.tier_ids)

    def limit_window_start(self, now: datetime) -> datetime | None:
        """Since when earlier redemptions count against the per-member limit (None: since ever)."""
        return period_start(self.limit_period or LimitPeriod.EVER, now)


def period_start(period: LimitPeriod, now: datetime) -> datetime | None:
    """The start of the calendar period (in UTC) that `now` falls in; None for EVER. Weeks start on
    Monday (ISO 8601)."""
    at = now.astimezone(UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is LimitPeriod.DAY:
        return day
    if period is LimitPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is LimitPeriod.MONTH:
        return day.replace(day=1)
    if period is LimitPeriod.YEAR:
        return day.replace(month=1, day=1)
    return None


class RedemptionKind(StrEnum):
    REWARD = "REWARD"  # a catalogue reward the member redeemed
    POS = "POS"  # points a merchant held at its POS with the member's one-time code


class RedemptionStatus(StrEnum):
    # A reward's fulfilment
    REQUESTED = "REQUESTED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"  # the points and the stock went back
    # A POS hold: AUTHORIZED resolves exactly once, to one of the three after it
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"  # the hold lapsed and the job released it

    @property
    def final(self) -> bool:
        return self not in (RedemptionStatus.REQUESTED, RedemptionStatus.AUTHORIZED)

    @property
    def counts_towards_limit(self) -> bool:
        """Whether a redemption in this status uses up one of the member's redemptions of the
        reward: all but those whose points and stock went back."""
        return self not in (RedemptionStatus.CANCELLED, RedemptionStatus.VOIDED, RedemptionStatus.EXPIRED)


# Redemptions in these statuses gave their points and stock back: they no longer count.
NOT_COUNTED = frozenset(s for s in RedemptionStatus if not s.counts_towards_limit)


@dataclass(frozen=True, slots=True)
class Redemption:
    id: int
    member_id: int
    reward_id: int | None
    points: int  # the reward's cost, or the points a POS authorized
    status: RedemptionStatus
    created_at: datetime
    kind: RedemptionKind = RedemptionKind.REWARD
    merchant_id: int | None = None
    captured_points: int | None = None
    hold_expires_at: datetime | None = None
    purchase_id: int | None = None  # the purchase a captured hold paid for
    points_returned: int = 0  # given back by cancellation or by refunds of that purchase
    finalized_at: datetime | None = None

    def hold_lapsed(self, now: datetime) -> bool:
        """A POS hold past its time: the job releases it; it can no longer be captured."""
        return self.hold_expires_at is not None and self.hold_expires_at <= now
