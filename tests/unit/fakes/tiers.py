"""The tier ladder and members' qualification."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from domain.errors import AlreadyExists
from domain.members import Member
from domain.tiers import Qualification, Tier, TierChange, TierDecision
from tests.unit.fakes.database import Repository


class FakeTierRepository(Repository):
    """The ladder, members' tier changes and qualification as the SQL repository computes them."""

    async def ladder(self) -> list[Tier]:
        return sorted(self.t.tiers.values(), key=lambda t: t.rank)

    def _refuse_taken(self, tier: Tier) -> None:
        """The unique code and rank of the tiers table."""
        others = [t for t in self.t.tiers.values() if t.id != tier.id]
        if any(t.rank == tier.rank for t in others):
            raise AlreadyExists("a tier with this rank exists", ("rank",))
        if any(t.code == tier.code for t in others):
            raise AlreadyExists("a tier with this code exists", ("code",))

    async def add(self, tier: Tier, at: datetime) -> Tier:
        self._refuse_taken(replace(tier, id=0))
        stored = replace(tier, id=self.db.next_id(), created_at=at, updated_at=at)
        self.t.tiers[stored.id] = stored
        return stored

    async def update(self, tier: Tier, at: datetime) -> Tier:
        self._refuse_taken(tier)
        self.t.tiers[tier.id] = replace(tier, updated_at=at)
        return self.t.tiers[tier.id]

    async def qualification(self, member_id: int, since: datetime, currency: str | None) -> Qualification:
        mine = [p for p in self.t.purchases.values() if p.member_id == member_id and p.occurred_at >= since]
        # Earned less refunded, and paid less refunded in `currency` (None: no spend counts).
        return Qualification(
            sum(p.points_earned - p.points_refunded for p in mine),
            sum(p.amount.amount_minor - p.refunded_minor for p in mine if p.amount.currency == currency),
        )

    async def apply(self, member: Member, decision: TierDecision, q: Qualification, at: datetime) -> bool:
        held = self.t.members[member.id]
        if (held.tier_id, held.tier_grace_until) != (member.tier_id, member.tier_grace_until):
            return False
        changed = replace(held, tier_grace_until=decision.grace_until)
        if decision.moves:
            to_id = None if decision.to_tier is None else decision.to_tier.id
            changed = replace(changed, tier_id=to_id, tier_since=at)
        self.t.members[member.id] = changed
        self.t.tier_changes.append(
            TierChange(
                self.db.next_id(),
                member.id,
                None if decision.from_tier is None else decision.from_tier.id,
                None if decision.to_tier is None else decision.to_tier.id,
                decision.reason,
                q,
                at,
            )
        )
        return True

    async def members_to_evaluate(
        self, since: datetime, after: int, limit: int, entry_tier_id: int | None
    ) -> list[int]:
        bought = {p.member_id for p in self.t.purchases.values() if p.occurred_at >= since}
        found = [
            m.id
            for m in self.t.members.values()
            if m.id > after
            and (m.tier_id not in (None, entry_tier_id) or m.tier_grace_until is not None or m.id in bought)
        ]
        return sorted(found)[:limit]

    async def member_tier_ids(self, member_ids: Collection[int]) -> dict[int, int | None]:
        return {m: self.t.members[m].tier_id for m in member_ids if m in self.t.members}
