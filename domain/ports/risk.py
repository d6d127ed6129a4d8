"""Risk control: the rules, the counters they read and the review queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.risk import Counted, CounterClaim, CounterKey, ReviewStatus, RiskReview, RiskRule, RuleOutcome


class RiskRepository(Protocol):
    async def rules(self) -> tuple[RiskRule, ...]:
        """The rules, by id; cheap on the hot path (a store may cache them with the catalogue)."""
        ...

    async def update_rule(self, rule: RiskRule) -> None: ...

    async def claim(self, claims: Sequence[CounterClaim]) -> Mapping[CounterKey, Counted]:
        """Add each claim to its counter (created at zero) under the counter row's lock, held to the
        end of the transaction, and return the counters as they stood before: two transactions
        claiming one counter see each other's additions. Claims come sorted by key (the lock order)."""
        ...

    async def largest_earning(self, member_id: int, since: datetime) -> int:
        """The most points one of the member's purchases earned since `since` (0: none); call with the
        member's balance row locked."""
        ...

    async def other_senders(self, receiver_id: int, sender_id: int, since: datetime) -> int:
        """How many members other than `sender_id` gave `receiver_id` points since `since`; call with
        the receiver's balance row locked."""
        ...

    async def add_review(
        self,
        *,
        member_id: int,
        purchase_id: int,
        merchant_id: int,
        points: int,
        outcomes: Sequence[RuleOutcome],
        at: datetime,
    ) -> RiskReview: ...

    async def review(self, review_id: int) -> RiskReview | None: ...
    async def review_of_purchase(self, purchase_id: int) -> RiskReview | None: ...

    async def decide(self, review_id: int, status: ReviewStatus, at: datetime, by: str) -> RiskReview | None:
        """Move an OPEN review to `status` with one conditional update; None when it was not OPEN."""
        ...

    async def hold_purchase(self, purchase_id: int) -> None:
        """A held purchase's points are not pending: they wait in the review balance instead."""
        ...

    async def take_back_purchase_points(self, purchase_id: int) -> None:
        """A rejected purchase's points count as taken back (points_refunded = points_earned)."""
        ...

    async def review_page(
        self, status: ReviewStatus | None, before: int | None, limit: int, member_id: int | None = None
    ) -> list[RiskReview]:
        """Newest first; one member's only when `member_id` is given."""
        ...
