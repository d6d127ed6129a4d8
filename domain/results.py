"""What use cases that move points return. Plain data, so a result can be stored under its
idempotency key and replayed unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    purchase_id: int
    member_id: int
    points_earned: int
    points_pending: int


@dataclass(frozen=True, slots=True)
class RedemptionResult:
    redemption_id: int
    member_id: int
    points: int


@dataclass(frozen=True, slots=True)
class AdjustmentResult:
    adjustment_id: int
    member_id: int
    points: int
