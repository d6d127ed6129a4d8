"""The member-link port in memory, like persistence/repositories/member_links.py."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from domain import member_links
from domain.commands import PresentedMember
from domain.member_links import MerchantLink
from domain.members import MemberStatus

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase


@dataclass(frozen=True, slots=True)
class MemberLinkRow:
    member_ref: str
    linked_at: datetime
    unlinked_at: datetime | None = None


class FakeMemberLinkRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def rows(self) -> dict[tuple[int, int], MemberLinkRow]:
        return self.db.tables.member_links

    async def link(
        self, merchant_id: int, member_id: int, member_ref: str, at: datetime
    ) -> MerchantLink | None:
        row = self.rows.get((merchant_id, member_id))
        if row is not None and row.unlinked_at is None:
            return MerchantLink(merchant_id, member_id, row.member_ref, row.linked_at)
        if any(r.member_ref == member_ref for r in self.rows.values()):
            return None
        self.rows[(merchant_id, member_id)] = MemberLinkRow(member_ref, at)
        return MerchantLink(merchant_id, member_id, member_ref, at)

    async def unlink(self, merchant_id: int, member_id: int, at: datetime) -> bool:
        row = self.rows.get((merchant_id, member_id))
        if row is None or row.unlinked_at is not None:
            return False
        self.rows[(merchant_id, member_id)] = replace(row, unlinked_at=at)
        return True

    async def unlink_all(self, member_id: int, at: datetime) -> int:
        standing = [key for key, row in self.rows.items() if key[1] == member_id and row.unlinked_at is None]
        for key in standing:
            self.rows[key] = replace(self.rows[key], unlinked_at=at)
        return len(standing)

    async def member_for_ref(self, merchant_id: int, member_ref: str) -> int | None:
        for (merchant, member), row in self.rows.items():
            if merchant == merchant_id and row.member_ref == member_ref and row.unlinked_at is None:
                return member
        return None

    async def statuses_by_refs(
        self, merchant_id: int, member_refs: Collection[str]
    ) -> dict[str, tuple[int, MemberStatus]]:
        found: dict[str, tuple[int, MemberStatus]] = {}
        for ref in member_refs:
            member_id = await self.member_for_ref(merchant_id, ref)
            if member_id is not None:
                found[ref] = (member_id, self.db.tables.members[member_id].status)
        return found


def linked(db: FakeDatabase, merchant_id: int, member_id: int) -> PresentedMember:
    """The member as a merchant it linked itself to names it: a link made now (if none stands)."""
    row = db.tables.member_links.get((merchant_id, member_id))
    if row is None or row.unlinked_at is not None:
        ref = member_links.new_member_ref()
        db.tables.member_links[(merchant_id, member_id)] = MemberLinkRow(
            ref, datetime(2020, 1, 1, tzinfo=UTC)
        )
        return PresentedMember(ref=ref)
    return PresentedMember(ref=row.member_ref)
