"""What use cases that move points return. Plain data, so a result can be stored under its
idempotency key and replayed unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.merchants import Channel
from domain.money import Money
from domain.offers import Award, FundedCost, FunderKind, Mechanic
from domain.purchases import Purchase
from domain.refunds import Refund


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
    # What each offer gave (see award_json); plain JSON so a replay answers with exactly this.
    awards: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, p: Purchase, awards: Sequence[Award] = ()) -> PurchaseResult:
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
            awards=[award_json(a) for a in awards],
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


def award_json(a: Award) -> dict[str, Any]:
    return {
        "offer_id": a.offer_id,
        "version": a.version,
        "mechanic": a.mechanic.value,
        "points": a.points,
        "discount_minor": a.discount_minor,
        "cashback_minor": a.cashback_minor,
        "funding": [
            {"kind": f.kind.value, "funder_id": f.funder_id, "points": f.points, "money_minor": f.money_minor}
            for f in a.funding
        ],
    }


def award_from_json(d: dict[str, Any]) -> Award:
    return Award(
        offer_id=d["offer_id"],
        version=d["version"],
        mechanic=Mechanic(d["mechanic"]),
        points=d["points"],
        discount_minor=d["discount_minor"],
        cashback_minor=d["cashback_minor"],
        funding=tuple(
            FundedCost(FunderKind(f["kind"]), f["funder_id"], f["points"], f["money_minor"])
            for f in d["funding"]
        ),
    )


@dataclass(frozen=True, slots=True)
class RefundResult:
    """The refund as first answered (plain data, stored under its idempotency key)."""

    refund_id: int
    purchase_id: int
    member_id: int
    merchant_id: int
    amount_minor: int
    currency: str
    points_reversed: int
    debt_created: int
    points_returned: int
    reference: str | None
    created_at: str

    @classmethod
    def of(cls, r: Refund) -> RefundResult:
        return cls(
            refund_id=r.id,
            purchase_id=r.purchase_id,
            member_id=r.member_id,
            merchant_id=r.merchant_id,
            amount_minor=r.amount.amount_minor,
            currency=r.amount.currency,
            points_reversed=r.points_reversed,
            debt_created=r.debt_created,
            points_returned=r.points_returned,
            reference=r.reference,
            created_at=r.created_at.isoformat(),
        )

    def refund(self) -> Refund:
        return Refund(
            id=self.refund_id,
            member_id=self.member_id,
            purchase_id=self.purchase_id,
            merchant_id=self.merchant_id,
            amount=Money(self.amount_minor, self.currency),
            points_reversed=self.points_reversed,
            debt_created=self.debt_created,
            points_returned=self.points_returned,
            reference=self.reference,
            created_at=datetime.fromisoformat(self.created_at),
        )


@dataclass(frozen=True, slots=True)
class TransferResult:
    transfer_id: int
    member_id: int
    to_member_id: int
    points: int


@dataclass(frozen=True, slots=True)
class RedPacketResult:
    member_id: int
    offer_id: int
    points: int


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


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A one-time redemption code, shown once to the member; only its hash is kept."""

    code: str
    expires_at: datetime
