"""The tier ladder (cached with the catalogue), members' tier changes and their history, and the
aggregate that qualifies a member: one indexed range over its purchases in the window."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import AlreadyExists
from domain.members import Member
from domain.tiers import Qualification, Tier, TierDecision
from persistence import mapping
from persistence.catalogue import Catalogue
from persistence.constraints import is_unique_violation
from persistence.tables import members, purchases, tier_changes, tiers

_LADDER = select(tiers).order_by(tiers.c.rank)


def qualification_statement(*, by_member: bool) -> Select[Any]:
    """Qualifying points (earned less refunded) and spend in `:currency` (paid less refunded) over
    purchases since `:since`, along the (member_id, occurred_at) index."""
    spend = case(
        (
            purchases.c.currency == bindparam("currency"),
            purchases.c.amount_minor - purchases.c.refunded_minor,
        ),
        else_=0,
    )
    columns = (
        func.coalesce(func.sum(purchases.c.points_earned - purchases.c.points_refunded), 0).label("points"),
        func.coalesce(func.sum(spend), 0).label("spend_minor"),
    )
    if by_member:
        return (
            select(purchases.c.member_id, *columns)
            .where(
                purchases.c.member_id.in_(bindparam("ids", expanding=True)),
                purchases.c.occurred_at >= bindparam("since"),
            )
            .group_by(purchases.c.member_id)
        )
    return select(*columns).where(
        purchases.c.member_id == bindparam("member_id"), purchases.c.occurred_at >= bindparam("since")
    )


_QUALIFICATION = qualification_statement(by_member=False)
NO_CURRENCY = "---"  # matches no purchase: a ladder without spend thresholds counts no spend


async def load_ladder(conn: AsyncConnection) -> list[Tier]:
    return [mapping.tier(row) for row in await conn.execute(_LADDER)]


def _taken(error: IntegrityError) -> Exception:
    if is_unique_violation(error, tiers.c.rank):
        return AlreadyExists("a tier with this rank exists", ("rank",))
    if is_unique_violation(error, tiers.c.code):
        return AlreadyExists("a tier with this code exists", ("code",))
    return error


class SqlTierRepository:
    def __init__(self, conn: AsyncConnection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue

    async def ladder(self) -> Sequence[Tier]:
        return await self.catalogue.tiers(lambda: load_ladder(self.conn))

    async def add(self, tier: Tier, at: datetime) -> Tier:
        try:
            row = (
                await self.conn.execute(
                    insert(tiers)
                    .values(mapping.tier_values(tier) | {"created_at": at, "updated_at": at})
                    .returning(*tiers.c)
                )
            ).one()
        except IntegrityError as exc:  # a concurrent createTier took the code or rank
            raise _taken(exc) from exc
        await self.catalogue.changed()
        return mapping.tier(row)

    async def update(self, tier: Tier, at: datetime) -> Tier:
        try:
            row = (
                await self.conn.execute(
                    update(tiers)
                    .where(tiers.c.id == tier.id)
                    .values(mapping.tier_values(tier) | {"updated_at": at})
                    .returning(*tiers.c)
                )
            ).one()
        except IntegrityError as exc:
            raise _taken(exc) from exc
        await self.catalogue.changed()
        return mapping.tier(row)

    async def qualification(self, member_id: int, since: datetime, currency: str | None) -> Qualification:
        row = (
            await self.conn.execute(
                _QUALIFICATION,
                {"member_id": member_id, "since": since, "currency": currency or NO_CURRENCY},
            )
        ).one()
        return Qualification(int(row.points), int(row.spend_minor))

    async def apply(self, member: Member, decision: TierDecision, q: Qualification, at: datetime) -> bool:
        values: dict[str, Any] = {"tier_grace_until": decision.grace_until}
        if decision.moves:
            values |= {"tier_id": None if decision.to_tier is None else decision.to_tier.id, "tier_since": at}
        # Only if nothing moved the member since it was read: a stale decision is dropped, not applied.
        result = await self.conn.execute(
            update(members)
            .where(
                members.c.id == member.id,
                members.c.tier_id.is_not_distinct_from(member.tier_id),
                members.c.tier_grace_until.is_not_distinct_from(member.tier_grace_until),
            )
            .values(values)
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(
            insert(tier_changes).values(
                member_id=member.id,
                from_tier_id=None if decision.from_tier is None else decision.from_tier.id,
                to_tier_id=None if decision.to_tier is None else decision.to_tier.id,
                reason=decision.reason.value,
                qualifying_points=q.points,
                qualifying_spend_minor=q.spend_minor,
                created_at=at,
            )
        )
        return True

    async def members_to_evaluate(
        self, since: datetime, after: int, limit: int, entry_tier_id: int | None
    ) -> list[int]:
        above_entry: ColumnElement[bool] = members.c.tier_id.is_not(None)
        if entry_tier_id is not None:
            above_entry = and_(above_entry, members.c.tier_id != entry_tier_id)
        bought = exists().where(purchases.c.member_id == members.c.id, purchases.c.occurred_at >= since)
        statement = (
            select(members.c.id)
            .where(members.c.id > after, or_(above_entry, members.c.tier_grace_until.is_not(None), bought))
            .order_by(members.c.id)
            .limit(limit)
        )
        return list((await self.conn.execute(statement)).scalars())

    async def member_tier_ids(self, member_ids: Collection[int]) -> dict[int, int | None]:
        if not member_ids:
            return {}
        rows = await self.conn.execute(
            select(members.c.id, members.c.tier_id).where(members.c.id.in_(sorted(member_ids)))
        )
        return {row.id: row.tier_id for row in rows}
