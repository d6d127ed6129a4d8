"""Purchases posted by merchants, and admin adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.merchants import Channel
from domain.money import Money


@dataclass(frozen=True, slots=True)
class Purchase:
    id: int
    member_id: int
    merchant_id: int
    amount: Money
    channel: Channel
    occurred_at: datetime
    reference: str | None
    points_earned: int
    points_pending: int
    created_at: datetime
    refunded_minor: int = 0  # money refunds gave back so far
    points_refunded: int = 0  # of points_earned, what refunds took back


@dataclass(frozen=True, slots=True)
class NewPurchase:
    """A purchase to be written in a batch (the settlement import)."""

    member_id: int
    merchant_id: int
    amount: Money
    channel: Channel
    occurred_at: datetime
    reference: str | None
    points_earned: int
    points_pending: int
    matures_at: datetime | None = None


class ReasonCode(StrEnum):
    GOODWILL = "GOODWILL"
    CORRECTION = "CORRECTION"
    MIGRATION = "MIGRATION"
    FRAUD_REVERSAL = "FRAUD_REVERSAL"
    SERVICE_RECOVERY = "SERVICE_RECOVERY"
    PROMOTION = "PROMOTION"


@dataclass(frozen=True, slots=True)
class Adjustment:
    id: int
    member_id: int
    points: int  # signed
    reason_code: ReasonCode
    note: str | None
    actor: str
    created_at: datetime
