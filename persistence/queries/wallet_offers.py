"""The reads behind the wallet's offer list: typical baskets by category, and where a member bought."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.merchants import Merchant, MerchantCategory
from domain.offers import Bought, Spend
from persistence import mapping
from persistence.disconnects import read_retrying
from persistence.tables import merchants, partner_brands, purchases

T = TypeVar("T")

# What a purchase still counts for: its amount less what was refunded (wholly refunded: nothing).
_KEPT = purchases.c.amount_minor - purchases.c.refunded_minor


class SqlOfferWalletReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _read(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.engine.connect() as conn:
                return await read(conn)

        return await read_retrying(attempt)

    async def spending(self, member_id: int, since: datetime) -> list[Spend]:
        """One aggregate over the member's purchases since then (index member_id, occurred_at)."""
        chosen = (
            select(purchases.c.merchant_id, purchases.c.currency, _KEPT.label("kept"))
            .where(purchases.c.member_id == member_id, purchases.c.occurred_at >= since, _KEPT > 0)
            .subquery()
        )
        return await self._spends(_by_category(chosen))

    async def recent_spending(self, latest: int) -> list[Spend]:
        """The latest purchases by id (the primary key's order), so the read stays small."""
        chosen = (
            select(purchases.c.merchant_id, purchases.c.currency, _KEPT.label("kept"))
            .where(_KEPT > 0)
            .order_by(purchases.c.id.desc())
            .limit(latest)
            .subquery()
        )
        return await self._spends(_by_category(chosen))

    async def bought(
        self, member_id: int, merchant_ids: Collection[int], partner_ids: Collection[int]
    ) -> Bought:
        """Whether the member bought at all, and at which of the merchants and partner brands named."""
        mine = purchases.c.member_id == member_id

        async def read(conn: AsyncConnection) -> Bought:
            anything = (await conn.execute(select(exists().where(mine)))).scalar_one()
            if not anything or not (merchant_ids or partner_ids):
                return Bought(anything=bool(anything))
            rows = await conn.execute(
                select(merchants.c.id, merchants.c.partner_id).where(
                    (merchants.c.id.in_(list(merchant_ids)) | merchants.c.partner_id.in_(list(partner_ids))),
                    exists().where(mine, purchases.c.merchant_id == merchants.c.id),
                )
            )
            found = rows.all()
            return Bought(
                True,
                frozenset(r.id for r in found if r.id in merchant_ids),
                frozenset(r.partner_id for r in found if r.partner_id in partner_ids),
            )

        return await self._read(read)

    async def merchants(self, ids: Collection[int]) -> list[Merchant]:
        if not ids:
            return []
        statement = select(merchants).where(merchants.c.id.in_(sorted(ids))).order_by(merchants.c.id)

        async def read(conn: AsyncConnection) -> list[Merchant]:
            return [mapping.merchant(row) for row in await conn.execute(statement)]

        return await self._read(read)

    async def partner_names(self, ids: Collection[int]) -> dict[int, str]:
        if not ids:
            return {}
        statement = select(partner_brands.c.id, partner_brands.c.name).where(
            partner_brands.c.id.in_(sorted(ids))
        )

        async def read(conn: AsyncConnection) -> dict[int, str]:
            return {row.id: row.name for row in await conn.execute(statement)}

        return await self._read(read)

    async def _spends(self, statement: Select[Any]) -> list[Spend]:
        async def read(conn: AsyncConnection) -> list[Spend]:
            rows = await conn.execute(statement)
            return [Spend(MerchantCategory(r.category), r.currency, int(r.total), int(r.count)) for r in rows]

        return await self._read(read)


def _by_category(chosen: Any) -> Select[Any]:
    return (
        select(
            merchants.c.category,
            chosen.c.currency,
            func.sum(chosen.c.kept).label("total"),
            func.count().label("count"),
        )
        .select_from(chosen.join(merchants, merchants.c.id == chosen.c.merchant_id))
        .group_by(merchants.c.category, chosen.c.currency)
        .order_by(merchants.c.category, chosen.c.currency)
    )
