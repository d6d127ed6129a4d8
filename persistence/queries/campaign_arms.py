"""campaignReport's arms: members' spend by arm for the statistics, exposures, costs by funder and the
time series, each one statement (domain/ports/campaigns.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.experiments.report import ArmCost, ArmQuery, Granularity, MemberSpend, SeriesRow
from domain.offers import FunderKind
from persistence.disconnects import read_retrying
from persistence.tables import (
    award_funding,
    experiment_assignments,
    merchants,
    offer_exposures,
    purchase_awards,
    purchases,
)

T = TypeVar("T")

_KEPT = purchases.c.amount_minor - purchases.c.refunded_minor  # net of refunds
_FORMATS = {
    ("postgresql", Granularity.DAY): "YYYY-MM-DD",
    ("postgresql", Granularity.HOUR): "YYYY-MM-DD HH24",
}
_PARSE = {Granularity.DAY: "%Y-%m-%d", Granularity.HOUR: "%Y-%m-%d %H"}


class SqlCampaignArmsReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _read(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.engine.connect() as conn:
                return await read(conn)

        return await read_retrying(attempt)

    async def assignment_page(
        self, offer_id: int, experiment_id: int, after_member_id: int | None, limit: int
    ) -> list[tuple[int, str, datetime]]:
        a = experiment_assignments.c
        statement = (
            select(a.member_id, a.arm, a.assigned_at)
            .where(a.offer_id == offer_id, a.experiment_id == experiment_id)
            .order_by(a.member_id)
            .limit(limit)
        )
        if after_member_id is not None:
            statement = statement.where(a.member_id > after_member_id)

        async def read(conn: AsyncConnection) -> list[tuple[int, str, datetime]]:
            return [(r.member_id, r.arm, r.assigned_at) for r in await conn.execute(statement)]

        return await self._read(read)

    async def member_spend(self, query: ArmQuery) -> list[MemberSpend]:
        return await self._read(lambda conn: member_spend(conn, query))

    async def exposed(self, query: ArmQuery) -> dict[str, int]:
        return await self._read(lambda conn: exposed(conn, query))

    async def costs(self, query: ArmQuery) -> list[ArmCost]:
        return await self._read(lambda conn: costs(conn, query))

    async def series(self, query: ArmQuery, granularity: Granularity) -> list[SeriesRow]:
        a, pa = experiment_assignments.c, purchase_awards.c

        async def read(conn: AsyncConnection) -> list[SeriesRow]:
            dialect = conn.dialect.name
            scoped = _scoped(query, query.since)
            at = _bucket(scoped.c.occurred_at, dialect, granularity)
            spend = (
                select(a.arm, at, func.sum(scoped.c.kept), func.count(func.distinct(scoped.c.member_id)))
                .select_from(experiment_assignments)
                .join(scoped, scoped.c.member_id == a.member_id)
                .where(*_assigned(query))
                .group_by(a.arm, at)
            )
            award_at = _bucket(purchases.c.occurred_at, dialect, granularity)
            cost = _awards(
                query,
                a.arm,
                award_at,
                func.sum(pa.points),
                func.sum(pa.discount_minor + pa.cashback_minor),
            ).group_by(a.arm, award_at)
            rows: dict[tuple[str, str], list[int]] = {}
            for r in await conn.execute(spend):
                rows[(r[0], r[1])] = [int(r[2]), int(r[3]), 0, 0]
            for r in await conn.execute(cost):
                found = rows.setdefault((r[0], r[1]), [0, 0, 0, 0])
                found[2], found[3] = int(r[2]), int(r[3])
            parse = _PARSE[granularity]
            return [
                SeriesRow(arm, _utc(datetime.strptime(bucket, parse)), *figures)
                for (arm, bucket), figures in sorted(rows.items())
            ]

        return await self._read(read)


async def member_spend(conn: AsyncConnection, query: ArmQuery) -> list[MemberSpend]:
    """One row per assigned member: the statistics need the member-level sample."""
    a = experiment_assignments.c
    scoped = _scoped(query, query.pre_since)
    in_period = scoped.c.occurred_at >= query.since
    statement = (
        select(
            a.arm,
            a.member_id,
            func.coalesce(func.sum(case((in_period, scoped.c.kept), else_=0)), 0),
            func.count(case((in_period, 1))),
            func.coalesce(func.sum(case((~in_period, scoped.c.kept), else_=0)), 0),
        )
        .select_from(experiment_assignments)
        .outerjoin(scoped, scoped.c.member_id == a.member_id)
        .where(*_assigned(query))
        .group_by(a.arm, a.member_id)
    )
    rows = await conn.execute(statement)
    return [MemberSpend(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def exposed(conn: AsyncConnection, query: ArmQuery) -> dict[str, int]:
    a, e = experiment_assignments.c, offer_exposures.c
    statement = (
        select(a.arm, func.count(func.distinct(e.member_id)))
        .select_from(experiment_assignments)
        .join(offer_exposures, and_(e.offer_id == a.offer_id, e.member_id == a.member_id))
        .where(*_assigned(query), e.last_at >= query.since, e.first_at < query.until)
        .group_by(a.arm)
    )
    return {r[0]: int(r[1]) for r in await conn.execute(statement)}


async def costs(conn: AsyncConnection, query: ArmQuery) -> list[ArmCost]:
    a, f = experiment_assignments.c, award_funding.c
    statement = (
        _awards(query, a.arm, f.funder_kind, f.funder_id, func.sum(f.points), func.sum(f.money_minor))
        .join(award_funding, f.award_id == purchase_awards.c.id)
        .group_by(a.arm, f.funder_kind, f.funder_id)
    )
    return [
        ArmCost(
            r[0],
            FunderKind(r[1]),
            None if r[1] == FunderKind.PROGRAMME.value else int(r[2]),
            int(r[3]),
            int(r[4]),
        )
        for r in await conn.execute(statement)
    ]


def _assigned(query: ArmQuery) -> list[ColumnElement[bool]]:
    a = experiment_assignments.c
    return [a.offer_id == query.offer_id, a.experiment_id == query.experiment_id, a.assigned_at < query.until]


def _scoped(query: ArmQuery, since: datetime) -> Subquery:
    """Purchases in the offer's scope and the report's currency, from `since` to the period's end."""
    p, m = purchases.c, merchants.c
    conditions: list[ColumnElement[bool]] = [
        p.currency == query.currency,
        p.occurred_at >= since,
        p.occurred_at < query.until,
        _KEPT > 0,
    ]
    if query.merchant_ids:
        conditions.append(p.merchant_id.in_(sorted(query.merchant_ids)))
    if query.categories:
        conditions.append(m.category.in_(sorted(c.value for c in query.categories)))
    if query.partner_ids:
        conditions.append(m.partner_id.in_(sorted(query.partner_ids)))
    statement = select(p.member_id, p.occurred_at, _KEPT.label("kept")).where(*conditions)
    if query.categories or query.partner_ids:
        statement = statement.join(merchants, m.id == p.merchant_id)
    return statement.subquery("scoped")


def _awards(query: ArmQuery, *columns: Any) -> Any:
    """The offer's awards in the period to members assigned to its experiment, with their arm."""
    a, pa, p = experiment_assignments.c, purchase_awards.c, purchases.c
    return (
        select(*columns)
        .select_from(purchase_awards)
        .join(purchases, p.id == pa.purchase_id)
        .join(
            experiment_assignments,
            and_(
                a.offer_id == pa.offer_id, a.member_id == pa.member_id, a.experiment_id == query.experiment_id
            ),
        )
        .where(
            pa.offer_id == query.offer_id,
            pa.currency == query.currency,
            p.occurred_at >= query.since,
            p.occurred_at < query.until,
        )
    )


def _bucket(column: Any, dialect: str, granularity: Granularity) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), _FORMATS[(dialect, granularity)])
    # SQLite keeps UTC instants as 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    return func.substr(column, 1, 10 if granularity is Granularity.DAY else 13)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC)
