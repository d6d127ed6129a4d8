"""Members: records, statuses and activity."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.members import Balance, Contact, Member, MemberStatus, Profile
from tests.unit.fakes.database import Repository


class FakeMemberRepository(Repository):
    async def get(self, member_id: int) -> Member | None:
        return self.t.members.get(member_id)

    async def get_by_external_ref(self, external_ref: str) -> Member | None:
        return next((m for m in self.t.members.values() if m.external_ref == external_ref), None)

    async def get_by_referral_code(self, referral_code: str) -> Member | None:
        return next((m for m in self.t.members.values() if m.referral_code == referral_code), None)

    async def add(
        self,
        *,
        external_ref: str,
        profile: Profile,
        contact: Contact,
        referral_code: str,
        referred_by: int | None,
        at: datetime,
    ) -> Member:
        member = Member(
            id=self.db.next_id(),
            external_ref=external_ref,
            status=MemberStatus.ACTIVE,
            referral_code=referral_code,
            enrolled_at=at,
            profile=profile,
            contact=contact,
            referred_by=referred_by,
        )
        self.t.members[member.id] = member
        self.t.balances[member.id] = Balance(member.id, 0, 0, 0, 0, 0)
        return member

    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None:
        self.t.members[member_id] = replace(self.t.members[member_id], status=status, status_reason=reason)

    async def record_activity(self, member_id: int, at: datetime) -> None:
        return None  # the fakes keep no activity times

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> int:
        return 0  # the fakes keep no activity times: the dormancy job is tested on the databases
