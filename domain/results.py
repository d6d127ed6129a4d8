"""What use cases that move points return. Plain data, so a result can be stored under its
idempotency key and replayed unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.members import Balance, Member
from domain.merchants import Channel
from domain.money import Money
from domain.offers import Award, Evaluation, FundedCost, FunderKind, Mechanic
from domain.purchases import Adjustment, Purchase, ReasonCode
from domain.refunds import Refund
from domain.rewards import Redemption, RedemptionKind, RedemptionStatus
from domain.risk import ReviewStatus, RiskReview, RuleOutcome

# A result field's metadata key: the field is part of the first answer only, never stored for replays.
ANSWER_ONLY = "answer_only"


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
    # Held by risk control: the review, and the rules and figures behind the hold.
    review_id: int | None = None
    risk_notice: str | None = None

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
class QualifyResult:
    """A dry run's answer, with the member it was for and that member's spendable points (which the
    API shows only to the member itself and to a merchant holding the member's one-time code)."""

    evaluation: Evaluation
    member_id: int
    available_points: int
    presented_by_code: bool


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
    # The redemption as the change left it (redemption_json), so the API answers from the result
    # instead of reading it back after the commit; None in answers stored before it was kept.
    redemption: dict[str, Any] | None = None
    # The member's spendable points after a POS hold (authorizeRedemption); None elsewhere.
    available_points: int | None = None
    # A redeemed reward's voucher (VoucherResult's fields), kept for replays; its code is in the
    # first answer only, since only the code's hash is stored anywhere.
    voucher: dict[str, Any] | None = None
    voucher_code: str | None = field(default=None, metadata={ANSWER_ONLY: True})

    @classmethod
    def of(cls, r: Redemption, points: int, available_points: int | None = None) -> RedemptionResult:
        return cls(r.id, r.member_id, points, redemption_json(r), available_points)

    def snapshot(self) -> Redemption | None:
        return None if self.redemption is None else redemption_from_json(self.redemption)


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def redemption_json(r: Redemption) -> dict[str, Any]:
    return {
        "id": r.id,
        "member_id": r.member_id,
        "reward_id": r.reward_id,
        "points": r.points,
        "status": r.status.value,
        "created_at": r.created_at.isoformat(),
        "kind": r.kind.value,
        "merchant_id": r.merchant_id,
        "captured_points": r.captured_points,
        "hold_expires_at": _time(r.hold_expires_at),
        "purchase_id": r.purchase_id,
        "points_returned": r.points_returned,
        "finalized_at": _time(r.finalized_at),
    }


def redemption_from_json(d: dict[str, Any]) -> Redemption:
    return Redemption(
        id=d["id"],
        member_id=d["member_id"],
        reward_id=d["reward_id"],
        points=d["points"],
        status=RedemptionStatus(d["status"]),
        created_at=datetime.fromisoformat(d["created_at"]),
        kind=RedemptionKind(d["kind"]),
        merchant_id=d["merchant_id"],
        captured_points=d["captured_points"],
        hold_expires_at=_parse_time(d["hold_expires_at"]),
        purchase_id=d["purchase_id"],
        points_returned=d["points_returned"],
        finalized_at=_parse_time(d["finalized_at"]),
    )


@dataclass(frozen=True, slots=True)
class AdjustmentResult:
    adjustment_id: int
    member_id: int
    points: int
    # The rest of the adjustment, so the API answers without reading it back; None (no time) in
    # answers stored before they were kept.
    reason_code: str | None = None
    note: str | None = None
    actor: str | None = None
    created_at: str | None = None
    # The member and its balance as the adjustment committed them, so the first answer reports the
    # member without a read after the commit; a replay reads the member as it now stands.
    member: Member | None = field(default=None, metadata={ANSWER_ONLY: True})
    balance: Balance | None = field(default=None, metadata={ANSWER_ONLY: True})

    @classmethod
    def of(
        cls, a: Adjustment, member: Member | None = None, balance: Balance | None = None
    ) -> AdjustmentResult:
        return cls(
            a.id,
            a.member_id,
            a.points,
            a.reason_code.value,
            a.note,
            a.actor,
            a.created_at.isoformat(),
            member,
            balance,
        )

    def adjustment(self) -> Adjustment | None:
        if self.created_at is None or self.reason_code is None or self.actor is None:
            return None
        return Adjustment(
            id=self.adjustment_id,
            member_id=self.member_id,
            points=self.points,
            reason_code=ReasonCode(self.reason_code),
            note=self.note,
            actor=self.actor,
            created_at=datetime.fromisoformat(self.created_at),
        )


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A one-time redemption code, shown once to the member; only its hash is kept."""

    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RiskReviewResult:
    """A risk review as decided, in plain JSON types so that a replay answers with exactly this."""

    review_id: int
    member_id: int
    purchase_id: int
    merchant_id: int
    points: int
    status: str
    outcomes: list[dict[str, Any]]
    created_at: str
    decided_at: str | None
    decided_by: str | None

    @classmethod
    def of(cls, r: RiskReview) -> RiskReviewResult:
        return cls(
            r.id,
            r.member_id,
            r.purchase_id,
            r.merchant_id,
            r.points,
            r.status.value,
            [o.to_json() for o in r.outcomes],
            r.created_at.isoformat(),
            None if r.decided_at is None else r.decided_at.isoformat(),
            r.decided_by,
        )

    def review(self) -> RiskReview:
        return RiskReview(
            id=self.review_id,
            member_id=self.member_id,
            purchase_id=self.purchase_id,
            merchant_id=self.merchant_id,
            points=self.points,
            status=ReviewStatus(self.status),
            outcomes=tuple(RuleOutcome.from_json(o) for o in self.outcomes),
            created_at=datetime.fromisoformat(self.created_at),
            decided_at=None if self.decided_at is None else datetime.fromisoformat(self.decided_at),
            decided_by=self.decided_by,
        )
