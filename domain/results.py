"""What use cases that move points return. Plain data, so a result can be stored under its
idempotency key and replayed unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.merchants import Channel
from domain.money import Money
from domain.purchases import Purchase


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    """The purchase as first answered, times as ISO 8601 text so the result stores as JSON; a replay
    answers with exactly this, and the API needs no second read to show it."""

    purchase_id: int
    member_id: int
    merchant_id: int
    amount_minor: int
    currency: str
    channel: str
    occurred_at: str
    reference: str | None
    points_earned: int
    points_pending: int
    created_at: str

    @classmethod
    def of(cls, p: Purchase) -> PurchaseResult:
        return cls(
            purchase_id=p.id,
            member_id=p.member_id,
            merchant_id=p.merchant_id,
            amount_minor=p.amount.amount_minor,
            currency=p.amount.currency,
            channel=p.channel.value,
            occurred_at=p.occurred_at.isoformat(),
            reference=p.reference,
            points_earned=p.points_earned,
            points_pending=p.points_pending,
            created_at=p.created_at.isoformat(),
        )

    def purchase(self) -> Purchase:
        return Purchase(
            id=self.purchase_id,
            member_id=self.member_id,
            merchant_id=self.merchant_id,
            amount=Money(self.amount_minor, self.currency),
            channel=Channel(self.channel),
            occurred_at=datetime.fromisoformat(self.occurred_at),
            reference=self.reference,
            points_earned=self.points_earned,
            points_pending=self.points_pending,
            created_at=datetime.fromisoformat(self.created_at),
        )


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
