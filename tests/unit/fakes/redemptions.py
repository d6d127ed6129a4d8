"""Redemptions and the one-time codes members present."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.rewards import Redemption, RedemptionKind, RedemptionStatus
from tests.unit.fakes.database import RedemptionCodeRow, Repository


class FakeRedemptionRepository(Repository):
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
    ) -> Redemption:
        redemption = Redemption(
            self.db.next_id(),
            member_id,
            reward_id,
            points,
            status,
            at,
            kind=kind,
            merchant_id=merchant_id,
            hold_expires_at=hold_expires_at,
        )
        self.t.redemptions[redemption.id] = redemption
        return redemption

    async def get(self, redemption_id: int) -> Redemption | None:
        return self.t.redemptions.get(redemption_id)

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
        redemption = self.t.redemptions.get(redemption_id)
        if redemption is None or redemption.status is not from_status:
            return False
        self.t.redemptions[redemption_id] = replace(
            redemption,
            status=to_status,
            captured_points=captured_points,
            purchase_id=purchase_id,
            points_returned=redemption.points_returned + points_returned,
            finalized_at=at,
        )
        return True

    async def count_towards_limit(self, member_id: int, reward_id: int, since: datetime | None) -> int:
        return sum(
            1
            for r in self.t.redemptions.values()
            if (r.member_id, r.reward_id) == (member_id, reward_id)
            and r.status.counts_towards_limit
            and (since is None or r.created_at >= since)
        )

    async def open_rewards(self, member_id: int) -> int:
        return sum(
            1
            for r in self.t.redemptions.values()
            if r.member_id == member_id
            and r.kind is RedemptionKind.REWARD
            and r.status is RedemptionStatus.REQUESTED
        )

    async def holds_due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        due = [
            (r.id, r.member_id)
            for r in self.t.redemptions.values()
            if r.status is RedemptionStatus.AUTHORIZED and r.hold_lapsed(now) and r.id > after
        ]
        return sorted(due)[:limit]

    async def paid_for(self, purchase_id: int) -> list[Redemption]:
        return [
            r
            for _, r in sorted(self.t.redemptions.items())
            if r.purchase_id == purchase_id and r.status is RedemptionStatus.CAPTURED
        ]

    async def add_returned(self, redemption_id: int, points: int, returned_before: int) -> bool:
        redemption = self.t.redemptions.get(redemption_id)
        if (
            redemption is None
            or redemption.points_returned != returned_before
            or redemption.captured_points is None  # NULL: the SQL comparison matches no row
            or redemption.points_returned + points > redemption.captured_points
        ):
            return False
        self.t.redemptions[redemption_id] = replace(
            redemption, points_returned=redemption.points_returned + points
        )
        return True


class FakeRedemptionCodeRepository(Repository):
    async def add(self, member_id: int, code_hash: str, expires_at: datetime, at: datetime) -> bool:
        if code_hash in self.t.redemption_codes:
            return False
        self.t.redemption_codes[code_hash] = RedemptionCodeRow(member_id, expires_at, at)
        return True

    async def use(self, code_hash: str, now: datetime) -> int | None:
        found = self.t.redemption_codes.get(code_hash)
        if found is None or found.used_at is not None or found.expires_at <= now:
            return None
        self.t.redemption_codes[code_hash] = replace(found, used_at=now)
        return found.member_id

    async def use_for_purchase(self, code_hash: str, now: datetime) -> int | None:
        member_id = await self.holder(code_hash, now)
        if member_id is not None:
            self.t.codes_earned[code_hash] = now
        return member_id

    async def holder(self, code_hash: str, now: datetime) -> int | None:
        found = self.t.redemption_codes.get(code_hash)
        if found is None or code_hash in self.t.codes_earned or found.expires_at <= now:
            return None
        return found.member_id
