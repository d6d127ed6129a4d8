"""The reward catalogue, and redemptions of points: for catalogue rewards, and holds at a POS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
