"""Redemptions of rewards and at a POS, and the one-time codes members present."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.rewards import Redemption, RedemptionKind, RedemptionStatus


class RedemptionRepository(Protocol):
    async def add(
        self,
        *,
        member_id: int,
        reward_id: int | None,
        points: int,
        status: RedemptionStatus,
        at: datetime,
        kind: RedemptionKind = RedemptionKind.REWARD,
        merchant_id: int | None = None,
        hold_expires_at: datetime | None = None,
    ) -> Redemption: ...
    async def get(self, redemption_id: int) -> Redemption | None: ...
    async def finish(
        self,
        redemption_id: int,
        *,
        from_status: RedemptionStatus,
        to_status: RedemptionStatus,
        at: datetime,
        captured_points: int | None = None,
        purchase_id: int | None = None,
        points_returned: int = 0,
    ) -> bool:
        """Move the redemption on from `from_status`, only if it is still there (a conditional
        UPDATE: of racing changes exactly one wins). Call with the member's balance row locked,
        then this locks the redemption row, as the lock order in `domain.services.posting` says.
        False, changing nothing, when it had already moved on."""
        ...

    async def count_towards_limit(self, member_id: int, reward_id: int, since: datetime | None) -> int:
        """The member's redemptions of the reward since `since` (None: ever) that still count:
        all but cancelled, voided and expired ones. Call with the member's balance row locked."""
        ...

    async def open_rewards(self, member_id: int) -> int:
        """The member's reward redemptions still REQUESTED (not yet handed over or cancelled)."""
        ...

    async def holds_due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        """(redemption id, member id) of AUTHORIZED holds whose time has passed, by id after `after`."""
        ...

    async def paid_for(self, purchase_id: int) -> list[Redemption]:
        """The captured POS redemptions that paid for the purchase, by id."""
        ...

    async def add_returned(self, redemption_id: int, points: int, returned_before: int) -> bool:
        """Raise points_returned by `points` if it is still `returned_before` (and stays within what
        was captured); False, changing nothing, otherwise."""
        ...


class RedemptionCodeRepository(Protocol):
    async def add(self, member_id: int, code_hash: str, expires_at: datetime, at: datetime) -> bool:
        """Store a new code's hash; False (storing nothing) if that hash is already taken."""
        ...

    async def use(self, code_hash: str, now: datetime) -> int | None:
        """Mark the code used for a payment if it has paid nothing yet and is unexpired, atomically (a
        conditional UPDATE, so of two racing uses one wins); the member it belongs to, or None."""
        ...

    async def use_for_purchase(self, code_hash: str, now: datetime) -> int | None:
        """Mark the code used for the earning of its checkout if it has earned nothing yet and is
        unexpired, atomically; the member it belongs to, or None. Independent of `use`: one code
        serves the earning and the payment of one checkout, once each."""
        ...

    async def holder(self, code_hash: str, now: datetime) -> int | None:
        """The member whose unexpired code this is and that has earned nothing yet, or None; changes
        nothing (a dry run's check)."""
        ...
