"""Purchase and refund lists, newest first, and their totals (domain/ports/purchase_lists.py).

Each page is one range scan of an index on (owner, time DESC, id DESC): the member's history on
`ix_purchases_member_history`, a merchant's on `ix_purchases_merchant_history` and
`ix_refunds_merchant_history`. The position is compared as a row value, `(time, id) < (:at, :id)`,
which both databases turn into the index range itself, so page 1,000 costs what page 1 does and no
query counts or skips the rows before it. A reference is looked up on its own (merchant, reference)
index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.money import Money
from domain.purchase_lists import (
    Position,
    PurchaseFilter,
    PurchaseStatus,
    PurchaseTotals,
    RefundFilter,
    RefundTotals,
)
from domain.purchases import Purchase
from domain.refunds import Refund
from persistence import mapping
from persistence.disconnects import read_retrying
from persistence.tables import UtcDateTime, purchases, refunds

p = purchases.c
r = refunds.c

# The same rule as domain.purchase_lists.purchase_status, as a condition on the row.
_STATUS: dict[PurchaseStatus, ColumnElement[bool]] = {
    PurchaseStatus.REFUNDED: and_(p.refunded_minor >= p.amount_minor, p.amount_minor > 0),
    PurchaseStatus.PARTIALLY_REFUNDED: and_(p.refunded_minor > 0, p.refunded_minor < p.amount_minor),
    PurchaseStatus.PENDING: and_(p.refunded_minor == 0, p.points_pending > 0),
    PurchaseStatus.SETTLED: and_(p.refunded_minor == 0, p.points_pending == 0),
}


def _purchase_conditions(where: PurchaseFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.member_id is not None:
        conditions.append(p.member_id == where.member_id)
    if where.merchant_id is not None:
        conditions.append(p.merchant_id == where.merchant_id)
    if where.since is not None:
        conditions.append(p.occurred_at >= where.since)
    if where.until is not None:
        conditions.append(p.occurred_at < where.until)
    if where.reference is not None:
        conditions.append(p.reference == where.reference)
    if where.status is not None:
        conditions.append(_STATUS[where.status])
    return conditions


def _refund_conditions(where: RefundFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.merchant_id is not None:
        conditions.append(r.merchant_id == where.merchant_id)
    if where.since is not None:
        conditions.append(r.created_at >= where.since)
    if where.until is not None:
        conditions.append(r.created_at < where.until)
    if where.reference is not None:
        conditions.append(r.reference == where.reference)
    return conditions


def _before(at: Any, id_: Any, position: Position) -> ColumnElement[bool]:
    return tuple_(at, id_) < tuple_(literal(position[0], UtcDateTime()), literal(position[1]))


def _by_currency(rows: Sequence[Row[Any]], column: str) -> tuple[Money, ...]:
    return tuple(Money(int(getattr(row, column)), row.currency) for row in rows)


class SqlPurchaseLists:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _rows(self, statement: Select[Any]) -> Sequence[Row[Any]]:
        async def attempt() -> Sequence[Row[Any]]:
            async with self.engine.connect() as conn:
                return await _all(conn, statement)

        return await read_retrying(attempt)

    async def purchase_page(
        self, where: PurchaseFilter, before: Position | None, limit: int
    ) -> list[Purchase]:
        statement = (
            select(purchases)
            .where(*_purchase_conditions(where))
            .order_by(p.occurred_at.desc(), p.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(_before(p.occurred_at, p.id, before))
        return [mapping.purchase(row) for row in await self._rows(statement)]

    async def purchase_totals(self, where: PurchaseFilter) -> PurchaseTotals:
        rows = await self._rows(
            select(
                p.currency,
                func.count().label("rows"),
                func.sum(p.amount_minor).label("amount"),
                func.sum(p.refunded_minor).label("refunded"),
                func.sum(p.points_earned).label("points_earned"),
                func.sum(p.points_refunded).label("points_refunded"),
            )
            .where(*_purchase_conditions(where))
            .group_by(p.currency)
            .order_by(p.currency)
        )
        return PurchaseTotals(
            count=sum(int(row.rows) for row in rows),
            amount=_by_currency(rows, "amount"),
            refunded=_by_currency(rows, "refunded"),
            points_earned=sum(int(row.points_earned) for row in rows),
            points_refunded=sum(int(row.points_refunded) for row in rows),
        )

    async def refund_page(self, where: RefundFilter, before: Position | None, limit: int) -> list[Refund]:
        statement = (
            select(refunds)
            .where(*_refund_conditions(where))
            .order_by(r.created_at.desc(), r.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(_before(r.created_at, r.id, before))
        return [mapping.refund(row) for row in await self._rows(statement)]

    async def refund_totals(self, where: RefundFilter) -> RefundTotals:
        rows = await self._rows(
            select(
                r.currency,
                func.count().label("rows"),
                func.sum(r.amount_minor).label("amount"),
                func.sum(r.points_reversed).label("points_reversed"),
                func.sum(r.points_returned).label("points_returned"),
            )
            .where(*_refund_conditions(where))
            .group_by(r.currency)
            .order_by(r.currency)
        )
        return RefundTotals(
            count=sum(int(row.rows) for row in rows),
            amount=_by_currency(rows, "amount"),
            points_reversed=sum(int(row.points_reversed) for row in rows),
            points_returned=sum(int(row.points_returned) for row in rows),
        )


async def _all(conn: AsyncConnection, statement: Select[Any]) -> Sequence[Row[Any]]:
    return (await conn.execute(statement)).all()
