"""Members: their records, statuses and activity."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.members import Contact, Member, MemberStatus, Profile


class MemberRepository(Protocol):
    async def get(self, member_id: int) -> Member | None: ...
    async def get_by_external_ref(self, external_ref: str) -> Member | None: ...
    async def get_by_referral_code(self, referral_code: str) -> Member | None: ...
    async def add(
        self,
        *,
        external_ref: str,
        profile: Profile,
        contact: Contact,
        referral_code: str,
        referred_by: int | None,
        at: datetime,
    ) -> Member: ...
    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None: ...
    async def erase(self, member_id: int, *, pseudonym: str, referral_code: str) -> None:
        """Pseudonymise: contact and profile emptied, externalRef and referral code replaced, status
        ERASED. The member's ledger, lots and history stay as they are."""
        ...

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> list[int]:
        """Mark up to `limit` ACTIVE members not yet dormant whose last activity is at or before
        `inactive_since` as dormant since `now`; returns their ids. Rows another transaction holds
        (a member acting right now) are skipped, not waited for."""
        ...

    async def update_profile(
        self,
        member_id: int,
        *,
        profile: Profile,
        contact: Contact,
        marketing_consent: bool,
        marketing_consent_at: datetime | None,
    ) -> None: ...
    async def close(
        self, member_id: int, *, reason: str, at: datetime, points_forfeit_at: datetime | None
    ) -> None:
        """Status CLOSED since `at`; its points wait until `points_forfeit_at` (None: nothing waits)."""
        ...

    async def reopen(self, member_id: int, reason: str) -> None:
        """Status ACTIVE again, no longer closed, nothing waiting to be forfeited."""
        ...

    async def forfeit_due(self, now: datetime, after: int, limit: int) -> list[int]:
        """Closed members whose points' wait ended at or before `now`, by id after `after`."""
        ...

    async def points_forfeited(self, member_id: int) -> None:
        """Nothing waits any more: the closed member's points were forfeited."""
        ...

    async def record_activity(self, member_id: int, at: datetime) -> None:
        """The member acted without moving points (a purchase that earned none): it is awake."""
        ...
