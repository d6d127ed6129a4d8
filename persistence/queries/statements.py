"""The reads behind merchants' and partners' statements, each from one snapshot of the database.

A funder's awards given in the period come straight from award_funding (its part of each). Only the
purchases that a refund or a rejection touched in the period are read whole (their awards with every
funder, their refunds in order, and what each refund's journal entry gave back to the funder's
account), since what a refund takes back depends on the refunds before it (domain/statements.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, case, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.ledger import AccountKind, EntryKind, OriginType
from domain.offers import FundedCost, FunderKind
from domain.rewards import RedemptionKind, RedemptionStatus
from domain.risk import ReviewStatus
from domain.statements import (
    Event,
    FundedPurchase,
    GivenAward,
    MerchantFigures,
    Period,
    RefundStep,
    taken_back_events,
)
from persistence.disconnects import read_retrying
from persistence.tables import (
    award_funding,
    journal_entries,
    journal_lines,
    member_awards,
    purchase_awards,
    purchases,
    redemptions,
    refunds,
    risk_reviews,
)

_ACCOUNT = {
    FunderKind.MERCHANT: AccountKind.MERCHANT_FUNDING,
    FunderKind.PARTNER: AccountKind.PARTNER_FUNDING,
}


def _between(column: ColumnElement[datetime], within: Period) -> ColumnElement[bool]:
    return (column >= within.start) & (column < within.end)


class SqlStatementReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def funder_events(
        self, funder: tuple[FunderKind, int], within: Period, currency: str
    ) -> list[Event]:
        async def read() -> list[Event]:
            async with _snapshot(self.engine) as conn:
                return await _funder_events(conn, funder, within, currency)

        return await read_retrying(read)

    async def merchant_figures(self, merchant_id: int, within: Period) -> MerchantFigures:
        async def read() -> MerchantFigures:
            async with _snapshot(self.engine) as conn:
                return await _merchant_figures(conn, merchant_id, within)

        return await read_retrying(read)


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One read transaction: PostgreSQL's read pool autocommits each statement, so ask for one
    REPEATABLE READ snapshot; SQLite's read connections already read in one transaction."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        await conn.begin()
        try:
            yield conn
        finally:
            await conn.rollback()  # read only


def _funded_by(funder: tuple[FunderKind, int]) -> ColumnElement[bool]:
    return (award_funding.c.funder_kind == funder[0].value) & (award_funding.c.funder_id == funder[1])


async def _funder_events(
    conn: AsyncConnection, funder: tuple[FunderKind, int], within: Period, currency: str
) -> list[Event]:
    events = await _given_events(conn, funder, within)
    events += await _bonus_events(conn, funder, within, currency)
    for purchase in await _touched_purchases(conn, funder, within):
        events += taken_back_events(purchase, funder)
    return events


async def _given_events(conn: AsyncConnection, funder: tuple[FunderKind, int], within: Period) -> list[Event]:
    """The awards given in the period, added up per UTC day, offer and currency in the database (a
    month of a busy merchant is 100,000 awards: they never become Python objects one by one). Each
    award's cashback part is statements._cashback written in SQL: its money split between discount
    and cashback by apportion (D'Hondt), which for two parts is the parts rounded down and the one
    left over to the cashback when cashback / (its part + 1) > discount / (its part + 1)."""
    a, f = purchase_awards.c, award_funding.c
    cashback = cashback_part(a.discount_minor, a.cashback_minor, f.money_minor)
    day = _utc_day(conn, a.created_at)
    rows = await conn.execute(
        select(day, a.offer_id, a.currency, func.count(), func.sum(f.points), func.sum(f.money_minor))
        .add_columns(func.sum(cashback))
        .join(award_funding, f.award_id == a.id)
        .where(_funded_by(funder), _between(a.created_at, within))
        .group_by(day, a.offer_id, a.currency)
    )
    events = []
    for on, offer_id, award_currency, given, points, money, back in rows:
        # Dated at the day's first instant within the period: the event falls on its day and in it.
        at = max(datetime.combine(date.fromisoformat(str(on)), time(), UTC), within.start)
        events.append(Event(at, offer_id, award_currency, int(given), 0, int(points), int(money), int(back)))
    return events


def cashback_part(
    discount: ColumnElement[int], cashback: ColumnElement[int], money: ColumnElement[int]
) -> ColumnElement[int]:
    """apportion([discount, cashback], money)[1] in SQL (integer division on both databases)."""
    whole = func.nullif(discount + cashback, 0, type_=BigInteger)  # typed: `//` stays integer division
    d_part, c_part = (discount * money) // whole, (cashback * money) // whole
    left = (money - d_part - c_part > 0) & (cashback * (d_part + 1) > discount * (c_part + 1))
    return func.coalesce(c_part + case((left, 1), else_=0), 0)


def _utc_day(conn: AsyncConnection, column: ColumnElement[datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a time column (SQLite stores UTC as naive text)."""
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


async def _bonus_events(
    conn: AsyncConnection, funder: tuple[FunderKind, int], within: Period, currency: str
) -> list[Event]:
    """Sign-up, referral and red-packet bonuses the funder paid for: the points its account gave in
    each bonus's EARN entry (they have no award_funding rows: no purchase, no money)."""
    m, e, j = member_awards.c, journal_entries.c, journal_lines.c
    rows = await conn.execute(
        select(m.offer_id, m.created_at, j.amount)
        .join(journal_entries, (e.origin_type == OriginType.AWARD.value) & (e.origin_id == m.id))
        .join(journal_lines, j.entry_id == e.id)
        .where(
            _between(m.created_at, within),
            e.kind == EntryKind.EARN.value,
            j.account_kind == _ACCOUNT[funder[0]].value,
            j.owner_id == funder[1],
        )
    )
    return [Event(row.created_at, row.offer_id, currency, given=1, points=-row.amount) for row in rows]


async def _touched_purchases(
    conn: AsyncConnection, funder: tuple[FunderKind, int], within: Period
) -> list[FundedPurchase]:
    """The purchases with the funder's awards that a refund or a rejection touched in the period,
    read whole."""
    a, r, v = purchase_awards.c, refunds.c, risk_reviews.c
    funded = (
        select(a.purchase_id).join(award_funding, award_funding.c.award_id == a.id).where(_funded_by(funder))
    )
    refunded: Select[Any] = select(r.purchase_id).where(
        _between(r.created_at, within), r.purchase_id.in_(funded.scalar_subquery())
    )
    rejected: Select[Any] = select(v.purchase_id).where(
        v.status == ReviewStatus.REJECTED.value,
        _between(v.decided_at, within),
        v.purchase_id.in_(funded.scalar_subquery()),
    )
    ids = sorted({row[0] for row in await conn.execute(union(refunded, rejected))})
    if not ids:
        return []
    amounts = dict(
        (
            await conn.execute(
                select(purchases.c.id, purchases.c.amount_minor).where(purchases.c.id.in_(ids))
            )
        ).all()
    )
    awards = await _awards(conn, ids)
    steps = await _steps(conn, funder, ids)
    return [FundedPurchase(amounts[i], tuple(awards.get(i, ())), tuple(steps.get(i, ()))) for i in ids]


async def _awards(conn: AsyncConnection, purchase_ids: list[int]) -> dict[int, list[GivenAward]]:
    a, f = purchase_awards.c, award_funding.c
    rows = await conn.execute(
        select(a.id, a.purchase_id, a.offer_id, a.currency, a.created_at, a.discount_minor, a.cashback_minor)
        .add_columns(f.funder_kind, f.funder_id, f.points, f.money_minor)
        .join(award_funding, f.award_id == a.id)
        .where(a.purchase_id.in_(purchase_ids))
        .order_by(a.id, f.funder_kind, f.funder_id)  # the order campaignReport splits refunds in
    )
    by_award: dict[int, tuple[Any, list[FundedCost]]] = {}
    for row in rows:
        cost = FundedCost(FunderKind(row.funder_kind), row.funder_id, row.points, row.money_minor)
        by_award.setdefault(row.id, (row, []))[1].append(cost)
    found: dict[int, list[GivenAward]] = defaultdict(list)
    for row, costs in by_award.values():
        found[row.purchase_id].append(
            GivenAward(
                row.id,
                row.offer_id,
                row.currency,
                row.created_at,
                row.discount_minor,
                row.cashback_minor,
                tuple(costs),
            )
        )
    return found


async def _steps(
    conn: AsyncConnection, funder: tuple[FunderKind, int], purchase_ids: list[int]
) -> dict[int, list[RefundStep]]:
    """Each purchase's refunds and rejections in the order they were recorded, with what each one's
    journal entry credited to the funder's account."""
    r, e, j = refunds.c, journal_entries.c, journal_lines.c
    account = (j.account_kind == _ACCOUNT[funder[0]].value) & (j.owner_id == funder[1])
    credited = (
        select(func.coalesce(func.sum(j.amount), 0))
        .join(journal_entries, e.id == j.entry_id)
        .where(
            account,
            e.kind == EntryKind.REFUND.value,
            e.origin_type == OriginType.REFUND.value,
            e.origin_id == r.id,
        )
        .scalar_subquery()
    )
    refund_rows = await conn.execute(
        select(r.purchase_id, r.id, r.created_at, r.amount_minor, credited.label("credited"))
        .where(r.purchase_id.in_(purchase_ids))
        .order_by(r.id)
    )
    reject_rows = await conn.execute(
        select(e.origin_id, e.id, e.created_at, j.amount)
        .join(journal_lines, j.entry_id == e.id)
        .where(
            e.kind == EntryKind.REJECT.value,
            e.origin_type == OriginType.PURCHASE.value,
            e.origin_id.in_(purchase_ids),
            account,
        )
    )
    # (time, order within the time) so a refund and a rejection recorded together keep their order.
    ordered: dict[int, list[tuple[datetime, int, RefundStep]]] = defaultdict(list)
    for row in refund_rows:
        step = RefundStep(row.created_at, row.amount_minor, int(row.credited))
        ordered[row.purchase_id].append((row.created_at, 1, step))
    for reject in reject_rows:
        step = RefundStep(reject.created_at, 0, reject.amount, rejected=True)
        ordered[reject.origin_id].append((reject.created_at, 0, step))
    return {i: [step for *_, step in sorted(steps, key=lambda s: s[:2])] for i, steps in ordered.items()}


async def _merchant_figures(conn: AsyncConnection, merchant_id: int, within: Period) -> MerchantFigures:
    p, r, d, v = purchases.c, refunds.c, redemptions.c, risk_reviews.c

    def total(column: ColumnElement[int]) -> ColumnElement[int]:
        return func.coalesce(func.sum(column), 0)

    parts: Iterable[Select[Any]] = (
        select(total(p.points_earned)).where(p.merchant_id == merchant_id, _between(p.created_at, within)),
        select(total(r.points_reversed)).where(r.merchant_id == merchant_id, _between(r.created_at, within)),
        select(total(v.points)).where(
            v.merchant_id == merchant_id,
            v.status == ReviewStatus.REJECTED.value,
            _between(v.decided_at, within),
        ),
        select(total(d.captured_points)).where(
            d.merchant_id == merchant_id,
            d.kind == RedemptionKind.POS.value,
            d.status == RedemptionStatus.CAPTURED.value,
            _between(d.finalized_at, within),
        ),
        select(total(r.points_returned)).where(r.merchant_id == merchant_id, _between(r.created_at, within)),
    )
    row = (await conn.execute(select(*(part.scalar_subquery() for part in parts)))).one()
    return MerchantFigures(*(int(value) for value in row))
