"""Members' standing links to merchants, and the merchant-scoped references they give."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from domain.member_links import MerchantLink
from domain.members import MemberStatus


class MemberLinkRepository(Protocol):
    async def link(
        self, merchant_id: int, member_id: int, member_ref: str, at: datetime
    ) -> MerchantLink | None:
        """The member's link to the merchant: the standing one if there is one, otherwise a new one
        with `member_ref` (a retired link comes back with the new reference); None, writing nothing,
        when `member_ref` is already taken (draw another)."""
        ...

    async def unlink(self, merchant_id: int, member_id: int, at: datetime) -> bool:
        """Retire the member's link to the merchant, and its reference for good; False if none stood."""
        ...

    async def unlink_all(self, member_id: int, at: datetime) -> int:
        """Retire every standing link of the member (its erasure); how many there were."""
        ...

    async def member_for_ref(self, merchant_id: int, member_ref: str) -> int | None:
        """The member a standing link of this merchant's gave this reference, or None."""
        ...

    async def statuses_by_refs(
        self, merchant_id: int, member_refs: Collection[str]
    ) -> dict[str, tuple[int, MemberStatus]]:
        """For the references of the merchant's standing links among `member_refs`: (member id, status)."""
        ...
