"""Members: records, statuses and activity."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import AlreadyExists
from domain.members import Balance, Contact, Member, MemberStatus, Profile
from tests.unit.fakes.database import Repository


class FakeMemberRepository(Repository):
    """Activity (last_activity_at, dormant_since) is kept on the member here; the SQL repository keeps
    it on the balance row and reads it back with the member."""

    async def get(self, member_id: int) -> Member | None:
        if member_id is not None and not isinstance(member_id, int):
            # PostgreSQL's driver refuses anything but an integer (or NULL) for an integer id
            raise TypeError(f"a member id is an integer, not {member_id!r}")
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
        # The unique constraints of the members table.
        if await self.get_by_external_ref(external_ref) is not None:
            raise AlreadyExists("a member with this externalRef is already enrolled", ("externalRef",))
        if await self.get_by_referral_code(referral_code) is not None:
            raise RuntimeError(f"referral code {referral_code} is taken (a unique violation)")
        member = Member(
            id=self.db.next_id(),
            external_ref=external_ref,
            status=MemberStatus.ACTIVE,
            referral_code=referral_code,
            enrolled_at=at,
            profile=profile,
            contact=contact,
            referred_by=referred_by,
            last_activity_at=at,  # enrolment starts the dormancy clock
        )
        self.t.members[member.id] = member
        self.t.balances[member.id] = Balance(member.id, 0, 0, 0, 0, 0)
        return member

    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None:
        if member_id in self.t.members:  # an UPDATE that matches no row changes nothing
            self.t.members[member_id] = replace(
                self.t.members[member_id], status=status, status_reason=reason
            )

    async def erase(self, member_id: int, *, pseudonym: str, referral_code: str) -> None:
        self.t.members[member_id] = replace(
            self.t.members[member_id],
            external_ref=pseudonym,
            referral_code=referral_code,
            status=MemberStatus.ERASED,
            status_reason="personal data erased",
            profile=Profile(),
            contact=Contact(),
        )

    async def update_profile(
        self,
        member_id: int,
        *,
        profile: Profile,
        contact: Contact,
        marketing_consent: bool,
        marketing_consent_at: datetime | None,
    ) -> None:
        self.t.members[member_id] = replace(
            self.t.members[member_id],
            profile=profile,
            contact=contact,
            marketing_consent=marketing_consent,
            marketing_consent_at=marketing_consent_at,
        )

    async def close(
        self, member_id: int, *, reason: str, at: datetime, points_forfeit_at: datetime | None
    ) -> None:
        self.t.members[member_id] = replace(
            self.t.members[member_id],
            status=MemberStatus.CLOSED,
            status_reason=reason,
            closed_at=at,
            points_forfeit_at=points_forfeit_at,
        )

    async def reopen(self, member_id: int, reason: str) -> None:
        self.t.members[member_id] = replace(
            self.t.members[member_id],
            status=MemberStatus.ACTIVE,
            status_reason=reason,
            closed_at=None,
            points_forfeit_at=None,
        )

    async def forfeit_due(self, now: datetime, after: int, limit: int) -> list[int]:
        due = [
            m.id
            for m in self.t.members.values()
            if m.status is MemberStatus.CLOSED
            and m.points_forfeit_at is not None
            and m.points_forfeit_at <= now
            and m.id > after
        ]
        return sorted(due)[:limit]

    async def points_forfeited(self, member_id: int) -> None:
        self.t.members[member_id] = replace(self.t.members[member_id], points_forfeit_at=None)

    async def record_activity(self, member_id: int, at: datetime) -> None:
        self.t.touch(member_id, at)

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> list[int]:
        # No row is ever held by another transaction here, so none is skipped.
        due = [
            m
            for m in self.t.members.values()
            if m.status is MemberStatus.ACTIVE
            and m.dormant_since is None
            and m.last_activity_at is not None
            and m.last_activity_at <= inactive_since
        ][:limit]
        for member in due:
            self.t.members[member.id] = replace(member, dormant_since=now)
        return [m.id for m in due]
