"""Segments, their materialised members and sizes, and the profile figures their rules read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    Row,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import AlreadyExists
from domain.ports.segments import RefreshMark
from domain.segments import Rule, RuleContext, Segment, SegmentKind, SegmentStatus
from persistence import segment_sql
from persistence.constraints import is_unique_violation
from persistence.segment_codec import rule_from_json, rule_json
from persistence.tables import (
    member_category_profiles,
    member_profiles,
    members,
    purchases,
    refunds,
    segment_members,
    segment_refresh,
    segment_sizes,
    segments,
)

s = segments.c

# A refresh's matching members, per connection (a temporary table), emptied after each segment.
_MATCHES = Table(
    "segment_matches",
    MetaData(),
    Column("member_id", BigInteger, primary_key=True, autoincrement=False),
    prefixes=["TEMPORARY"],
)


def segment(row: Row[Any]) -> Segment:
    return Segment(
        id=row.id,
        name=row.name,
        description=row.description,
        kind=SegmentKind(row.kind),
        rule=None if row.rules is None else rule_from_json(row.rules),
        status=SegmentStatus(row.status),
        version=row.version,
        size=row.size,
        refreshed_at=row.refreshed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlSegmentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _insert(self) -> Any:
        return (postgresql if self.conn.dialect.name == "postgresql" else sqlite).insert

    async def add(
        self, *, name: str, description: str | None, kind: SegmentKind, rule: Rule | None, at: datetime
    ) -> Segment:
        values = {
            "name": name,
            "description": description,
            "kind": kind.value,
            "rules": None if rule is None else rule_json(rule),
            "status": SegmentStatus.ACTIVE.value,
            "version": 1,
            "size": 0,
            "created_at": at,
            "updated_at": at,
        }
        try:
            row = (await self.conn.execute(insert(segments).values(values).returning(segments))).one()
        except IntegrityError as exc:
            if is_unique_violation(exc, s.name):
                raise AlreadyExists("a segment with this name exists", ("name",)) from exc
            raise
        return segment(row)

    async def get(self, segment_id: int, *, lock: bool = False) -> Segment | None:
        statement = select(segments).where(s.id == segment_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.conn.execute(statement)).first()
        return None if row is None else segment(row)

    async def update(self, found: Segment) -> Segment:
        values = {
            "name": found.name,
            "description": found.description,
            "rules": None if found.rule is None else rule_json(found.rule),
            "status": found.status.value,
            "version": found.version,
            "updated_at": found.updated_at,
        }
        try:
            row = (
                await self.conn.execute(
                    update(segments).where(s.id == found.id).values(values).returning(segments)
                )
            ).one()
        except IntegrityError as exc:
            if is_unique_violation(exc, s.name):
                raise AlreadyExists("a segment with this name exists", ("name",)) from exc
            raise
        return segment(row)

    async def active(self) -> list[Segment]:
        rows = await self.conn.execute(
            select(segments)
            .where(s.status == SegmentStatus.ACTIVE.value, s.kind == SegmentKind.RULES.value)
            .order_by(s.id)
        )
        return [segment(row) for row in rows]

    async def refresh_profiles(self, today: date, currency: str, member_ids: Sequence[int] | None) -> int:
        ids = None if member_ids is None else sorted(set(member_ids))
        if ids == []:
            return 0
        for table in (member_profiles, member_category_profiles):
            if ids is None and self.conn.dialect.name == "postgresql":
                # Every row goes: TRUNCATE frees the table at once (a DELETE would leave a million
                # dead rows for VACUUM); it waits for readers of the table, which are single queries.
                await self.conn.execute(text(f"TRUNCATE {table.name}"))
                continue
            statement = delete(table)
            if ids is not None:
                statement = statement.where(table.c.member_id.in_(ids))
            await self.conn.execute(statement)
        written = await self.conn.execute(
            insert(member_profiles).from_select(
                [
                    "member_id",
                    "purchases_30",
                    "purchases_90",
                    "purchases_365",
                    "spend_30",
                    "spend_90",
                    "spend_365",
                    "enrolled_on",
                    "idle_since",
                    "refreshed_on",
                ],
                segment_sql.profile_figures(today, currency, self.conn.dialect, ids),
            )
        )
        await self.conn.execute(
            insert(member_category_profiles).from_select(
                ["member_id", "category", "purchases_90", "spend_365"],
                segment_sql.category_figures(today, currency, ids),
            )
        )
        return written.rowcount

    async def refresh_members(
        self, segment_id: int, rule: Rule, ctx: RuleContext, member_ids: Sequence[int] | None
    ) -> int | None:
        ids = None if member_ids is None else sorted(set(member_ids))
        if ids == []:
            return None
        where = segment_sql.condition(rule, ctx)
        if ids is not None:
            where = and_(where, members.c.id.in_(ids))
        # The matching members are read once, into a temporary table, and only the difference is
        # written: leavers deleted, joiners inserted. Rewriting a segment whose members barely moved
        # would cost a write (and its index entries) per member, which a full refresh can't afford.
        await self.conn.run_sync(lambda sync: _MATCHES.create(sync, checkfirst=True))
        await self.conn.execute(delete(_MATCHES))
        found = select(members.c.id).select_from(segment_sql.facts(rule)).where(where)
        size = (await self.conn.execute(insert(_MATCHES).from_select(["member_id"], found))).rowcount
        if self.conn.dialect.name == "postgresql":
            # A temporary table has no statistics until analysed; with them the leavers' delete is a
            # hash anti-join (or probes the table's key), whatever the segment's size.
            await self.conn.execute(text(f"ANALYZE {_MATCHES.name}"))
        sm, matched = segment_members.c, _MATCHES.c.member_id
        gone = delete(segment_members).where(
            sm.segment_id == segment_id, ~select(matched).where(matched == sm.member_id).exists()
        )
        if ids is not None:
            gone = gone.where(sm.member_id.in_(ids))
        await self.conn.execute(gone)
        # Joiners by the primary key's conflict check, not by an anti-join: segment_members may have no
        # statistics yet (rows written in this transaction, or a new database), and PostgreSQL then
        # planned the anti-join as a nested loop over the whole table, for each member: over
        # 1,000,000 members it ran for more than ten minutes. A member already in is one index probe.
        joiners = select(literal(segment_id), matched).where(true())  # SQLite's upsert needs a WHERE
        await self.conn.execute(
            self._insert()(segment_members)
            .from_select(["segment_id", "member_id"], joiners)
            .on_conflict_do_nothing()
        )
        await self.conn.execute(delete(_MATCHES))
        return size if ids is None else None

    async def set_members(self, segment_id: int, member_ids: Sequence[int]) -> None:
        await self.conn.execute(delete(segment_members).where(segment_members.c.segment_id == segment_id))
        ids = sorted(set(member_ids))
        if ids:
            await self.conn.execute(
                insert(segment_members), [{"segment_id": segment_id, "member_id": m} for m in ids]
            )

    async def record_size(self, segment_id: int, day: date, at: datetime, size: int | None = None) -> int:
        if size is None:
            size = (
                await self.conn.execute(
                    select(func.count())
                    .select_from(segment_members)
                    .where(segment_members.c.segment_id == segment_id)
                )
            ).scalar_one()
        await self.conn.execute(update(segments).where(s.id == segment_id).values(size=size, refreshed_at=at))
        upsert = self._insert()(segment_sizes).values(segment_id=segment_id, day=day, size=size)
        await self.conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["segment_id", "day"], set_={"size": upsert.excluded.size}
            )
        )
        return int(size)

    async def member_ids_by_external_ref(self, refs: Sequence[str]) -> dict[str, int]:
        if not refs:
            return {}
        rows = await self.conn.execute(
            select(members.c.external_ref, members.c.id).where(members.c.external_ref.in_(sorted(set(refs))))
        )
        return {row.external_ref: row.id for row in rows}

    async def member_segments(self, member_id: int) -> frozenset[int]:
        rows = await self.conn.execute(
            select(segment_members.c.segment_id)
            .join(segments, segments.c.id == segment_members.c.segment_id)
            .where(segment_members.c.member_id == member_id, s.status == SegmentStatus.ACTIVE.value)
        )
        return frozenset(rows.scalars())

    async def member_refs(self, segment_id: int, limit: int) -> list[tuple[int, str]]:
        rows = await self.conn.execute(
            select(members.c.id, members.c.external_ref)
            .join(segment_members, segment_members.c.member_id == members.c.id)
            .where(segment_members.c.segment_id == segment_id)
            .order_by(members.c.id)
            .limit(limit)
        )
        return [(row.id, row.external_ref) for row in rows]

    async def refresh_mark(self) -> RefreshMark:
        row = (await self.conn.execute(select(segment_refresh).where(segment_refresh.c.id == 1))).first()
        if row is None:
            return RefreshMark(0, 0, None)
        return RefreshMark(row.last_purchase_id, row.last_refund_id, row.full_refresh_on)

    async def latest_mark(self) -> RefreshMark:
        last_purchase = (await self.conn.execute(select(func.max(purchases.c.id)))).scalar()
        last_refund = (await self.conn.execute(select(func.max(refunds.c.id)))).scalar()
        return RefreshMark(last_purchase or 0, last_refund or 0, None)

    async def set_refresh_mark(self, mark: RefreshMark) -> None:
        values = {
            "last_purchase_id": mark.last_purchase_id,
            "last_refund_id": mark.last_refund_id,
            "full_refresh_on": mark.full_refresh_on,
        }
        upsert = self._insert()(segment_refresh).values(id=1, **values)
        await self.conn.execute(upsert.on_conflict_do_update(index_elements=["id"], set_=values))

    async def acted_since(self, mark: RefreshMark, limit: int) -> tuple[list[int], RefreshMark]:
        bought = (
            await self.conn.execute(
                select(purchases.c.id, purchases.c.member_id)
                .where(purchases.c.id > mark.last_purchase_id)
                .order_by(purchases.c.id)
                .limit(limit)
            )
        ).all()
        refunded = (
            await self.conn.execute(
                select(refunds.c.id, refunds.c.member_id)
                .where(refunds.c.id > mark.last_refund_id)
                .order_by(refunds.c.id)
                .limit(limit)
            )
        ).all()
        members_seen = sorted({row.member_id for row in (*bought, *refunded)})
        moved = RefreshMark(
            bought[-1].id if bought else mark.last_purchase_id,
            refunded[-1].id if refunded else mark.last_refund_id,
            mark.full_refresh_on,
        )
        return members_seen, moved
