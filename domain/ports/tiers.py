"""The tier ladder and members' qualification."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domain.members import Member
from domain.tiers import Qualification, Tier, TierDecision


class TierRepository(Protocol):
    async def ladder(self) -> Sequence[Tier]:
        """Every tier, lowest rank first (cached with the catalogue: no query while unchanged)."""
        ...

    async def add(self, tier: Tier, at: datetime) -> Tier:
        """Store a new tier (its id is assigned here); raises AlreadyExists on a taken code or rank."""
        ...

    async def update(self, tier: Tier, at: datetime) -> Tier: ...

    async def qualification(self, member_id: int, since: datetime, currency: str | None) -> Qualification:
        """The member's qualifying points and spend (in `currency`) over purchases since `since`."""
        ...

    async def apply(self, member: Member, decision: TierDecision, q: Qualification, at: datetime) -> bool:
        """Apply the decision and write its history line, only if the member still holds the tier and
        grace it was read with (`member`); False, changing nothing, when another change came first."""
        ...

    async def members_to_evaluate(
        self, since: datetime, after: int, limit: int, entry_tier_id: int | None
    ) -> list[int]:
        """Ids above `after`, in order, of members holding a tier other than the entry tier, or in
        grace, or with purchases since `since`."""
        ...

    async def member_tier_ids(self, member_ids: Collection[int]) -> dict[int, int | None]: ...
