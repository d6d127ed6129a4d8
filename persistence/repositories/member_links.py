"""Members' standing links to merchants."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.member_links import MerchantLink
from domain.members import MemberStatus
from persistence import mapping
from persistence.tables import member_links, members

_STANDING = member_links.c.unlinked_at.is_(None)


class SqlMemberLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def link(
        self, merchant_id: int, member_id: int, member_ref: str, at: datetime
    ) -> MerchantLink | None:
        c = member_links.c
        row = (
            await self.conn.execute(
                select(member_links).where(c.merchant_id == merchant_id, c.member_id == member_id)
            )
        ).first()
        if row is not None and row.unlinked_at is None:
            return mapping.member_link(row)
        # At ~99 random bits a drawn reference is never taken in practice; checking first keeps even
        # that case from aborting the transaction with a unique violation.
        if (await self.conn.execute(select(c.id).where(c.member_ref == member_ref))).first() is not None:
            return None
        values = {"member_ref": member_ref, "linked_at": at, "unlinked_at": None}
        if row is None:
            await self.conn.execute(
                member_links.insert().values(merchant_id=merchant_id, member_id=member_id, **values)
            )
        else:
            await self.conn.execute(update(member_links).where(c.id == row.id).values(values))
        return MerchantLink(merchant_id, member_id, member_ref, at)

    async def unlink(self, merchant_id: int, member_id: int, at: datetime) -> bool:
        c = member_links.c
        result = await self.conn.execute(
            update(member_links)
            .where(c.merchant_id == merchant_id, c.member_id == member_id, _STANDING)
            .values(unlinked_at=at)
        )
        return result.rowcount == 1

    async def unlink_all(self, member_id: int, at: datetime) -> int:
        result = await self.conn.execute(
            update(member_links)
            .where(member_links.c.member_id == member_id, _STANDING)
            .values(unlinked_at=at)
        )
        return result.rowcount

    async def member_for_ref(self, merchant_id: int, member_ref: str) -> int | None:
        c = member_links.c
        found = await self.conn.execute(
            select(c.member_id).where(c.member_ref == member_ref, c.merchant_id == merchant_id, _STANDING)
        )
        return found.scalar()

    async def statuses_by_refs(
        self, merchant_id: int, member_refs: Collection[str]
    ) -> dict[str, tuple[int, MemberStatus]]:
        if not member_refs:
            return {}
        c = member_links.c
        rows = await self.conn.execute(
            select(c.member_ref, members.c.id, members.c.status)
            .join(members, members.c.id == c.member_id)
            .where(c.merchant_id == merchant_id, c.member_ref.in_(list(member_refs)), _STANDING)
        )
        return {row.member_ref: (row.id, MemberStatus(row.status)) for row in rows}
