"""In-memory risk control for the unit tests' FakeUnitOfWork: rules, counters and reviews kept in
the fake database's tables (so they roll back with the rest)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.money import MAX_INT
from domain.risk import (
    Counted,
    CounterClaim,
    CounterKey,
    ReviewStatus,
    RiskReview,
    RiskRule,
    RuleOutcome,
    default_rules,
)

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase


@dataclass
class RiskTables:
    rules: dict[int, RiskRule] = field(default_factory=lambda: {r.id: r for r in default_rules()})
    counters: dict[CounterKey, Counted] = field(default_factory=dict)
    reviews: dict[int, RiskReview] = field(default_factory=dict)
    # (receiver, sender, at) for the fan-in rule; unit tests add them by hand
    transfers: list[tuple[int, int, datetime]] = field(default_factory=list)


class FakeRiskRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def r(self) -> RiskTables:
        return self.db.tables.risk

    async def rules(self) -> tuple[RiskRule, ...]:
        return tuple(self.r.rules[i] for i in sorted(self.r.rules))

    async def update_rule(self, rule: RiskRule) -> None:
        self.r.rules[rule.id] = rule

    async def claim(self, claims: Sequence[CounterClaim]) -> Mapping[CounterKey, Counted]:
        if list(claims) != sorted(claims, key=lambda c: c.key):
            raise AssertionError("claims must come in key order (the lock order)")
        before = {}
        for c in claims:
            old = self.r.counters.get(c.key, Counted())
            before[c.key] = old
            self.r.counters[c.key] = Counted(
                old.count + c.count, old.points + c.points, old.amount_minor + c.amount_minor
            )
        return before

    async def largest_earning(self, member_id: int, since: datetime) -> int:
        earned = [
            p.points_earned - p.points_refunded
            for p in self.db.tables.purchases.values()
            if p.member_id == member_id and p.created_at >= since
        ]
        return max(earned, default=0)

    async def other_senders(self, receiver_id: int, sender_id: int, since: datetime) -> int:
        return len(
            {s for r, s, at in self.r.transfers if r == receiver_id and s != sender_id and at >= since}
        )

    async def add_review(
        self,
        *,
        member_id: int,
        purchase_id: int,
        merchant_id: int,
        points: int,
        outcomes: Sequence[RuleOutcome],
        at: datetime,
    ) -> RiskReview:
        review = RiskReview(
            self.db.next_id(),
            member_id,
            purchase_id,
            merchant_id,
            points,
            ReviewStatus.OPEN,
            tuple(outcomes),
            at,
        )
        self.r.reviews[review.id] = review
        return review

    async def review(self, review_id: int) -> RiskReview | None:
        return self.r.reviews.get(review_id)

    async def review_of_purchase(self, purchase_id: int) -> RiskReview | None:
        return next((r for r in self.r.reviews.values() if r.purchase_id == purchase_id), None)

    async def decide(self, review_id: int, status: ReviewStatus, at: datetime, by: str) -> RiskReview | None:
        review = self.r.reviews.get(review_id)
        if review is None or review.status is not ReviewStatus.OPEN:
            return None
        review = self.r.reviews[review_id] = replace(review, status=status, decided_at=at, decided_by=by)
        return review

    async def hold_purchase(self, purchase_id: int) -> None:
        purchase = self.db.tables.purchases[purchase_id]
        self.db.tables.purchases[purchase_id] = replace(purchase, points_pending=0)
        self.db.tables.purchase_terms[purchase_id] = replace(
            self.db.tables.purchase_terms[purchase_id], matures_at=None
        )

    async def take_back_purchase_points(self, purchase_id: int) -> None:
        purchase = self.db.tables.purchases[purchase_id]
        self.db.tables.purchases[purchase_id] = replace(purchase, points_refunded=purchase.points_earned)

    async def review_page(
        self, status: ReviewStatus | None, before: int | None, limit: int, member_id: int | None = None
    ) -> list[RiskReview]:
        found = [
            r
            for r in sorted(self.r.reviews.values(), key=lambda r: -r.id)
            if (status is None or r.status is status)
            and (before is None or r.id < before)
            and (member_id is None or r.member_id == member_id)
        ]
        return found[:limit]


def raise_risk_limits(db: FakeDatabase) -> None:
    """Every rule's limit at its highest: for a test that posts amounts no default would let by."""
    risk = db.tables.risk
    risk.rules = {i: replace(rule, limit=MAX_INT) for i, rule in risk.rules.items()}
