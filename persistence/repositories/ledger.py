"""The journal, the stored member balances and the points lots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import MAX_BALANCE, EntryKind, JournalEntry, OriginType, Posting
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance
from domain.posting import PostingDecision, RowChange, net_rows
from persistence import bulk, mapping
from persistence.tables import (
    expirations,
    journal_entries,
    journal_lines,
    lot_draws,
    member_balances,
    points_lots,
)

# PostgreSQL, an entry touching one member (nearly all of them): the balance update, the entry, its
# lines and the new lot in one statement, one round trip. The conditional UPDATE checks the funds
# and takes the member's row lock; when it matches no row, nothing after it is written. A zero delta
# leaves its column and its check unchanged, so one statement serves every kind of entry. An
# earning is refused while the member owes points (`debt <= :debt_allowed`), to be booked again
# as repaying the debt: rare, and it keeps the common case to one round trip.
_POST_ONE_MEMBER = """
WITH balance AS (
    UPDATE member_balances
    SET available = available + :available, pending = pending + :pending, held = held + :held,
        lifetime_earned = lifetime_earned + :earned, lifetime_redeemed = lifetime_redeemed + :redeemed,
        debt = debt + :debt, under_review = under_review + :review,
        last_activity_at = CASE WHEN :active THEN CAST(:created_at AS TIMESTAMPTZ) ELSE last_activity_at END,
        dormant_since = CASE WHEN :active THEN NULL ELSE dormant_since END
    WHERE member_id = :member_id
      AND available + :available BETWEEN 0 AND :max AND pending + :pending BETWEEN 0 AND :max
      AND held + :held BETWEEN 0 AND :max AND debt + :debt BETWEEN 0 AND :max AND debt <= :debt_allowed
      AND under_review + :review BETWEEN 0 AND :max
      AND lifetime_earned + :earned <= :max AND lifetime_redeemed + :redeemed <= :max
    RETURNING member_id
), entry AS (
    INSERT INTO journal_entries (member_id, kind, origin_type, origin_id, description, created_at)
    SELECT member_id, CAST(:kind AS VARCHAR), CAST(:origin_type AS VARCHAR), CAST(:origin_id AS BIGINT),
           CAST(:description AS VARCHAR), CAST(:created_at AS TIMESTAMPTZ)
    FROM balance
    RETURNING id
), lines AS (
    INSERT INTO journal_lines (entry_id, account_kind, member_id, owner_id, amount)
    SELECT entry.id, line.account_kind, line.member_id, line.owner_id, line.amount
    FROM entry, unnest(CAST(:kinds AS VARCHAR[]), CAST(:members AS BIGINT[]), CAST(:owners AS BIGINT[]),
                       CAST(:amounts AS BIGINT[])) AS line(account_kind, member_id, owner_id, amount)
){lot}
SELECT id FROM entry
"""
_NEW_LOT = """, lot AS (
    INSERT INTO points_lots (member_id, entry_id, points, remaining, earned_at, expires_at)
    SELECT :member_id, entry.id, :lot_points, :lot_points, CAST(:lot_earned_at AS TIMESTAMPTZ),
           CAST(:lot_expires_at AS TIMESTAMPTZ)
    FROM entry
)
"""
_POST_WITHOUT_LOT = text(_POST_ONE_MEMBER.format(lot="\n"))
_POST_WITH_LOT = text(_POST_ONE_MEMBER.format(lot=_NEW_LOT))


_LOCK_BALANCES = (
    select(member_balances)
    .where(member_balances.c.member_id.in_(bindparam("ids", expanding=True)))
    .order_by(member_balances.c.member_id)
    .with_for_update()
)
_LOCK_BALANCES_SKIP_LOCKED = _LOCK_BALANCES.with_for_update(skip_locked=True)

# A decided row change: the new figures, only while the row holds the figures decided from.
_FIGURES = ("available", "pending", "held", "lifetime_earned", "lifetime_redeemed", "debt", "under_review")
_b = member_balances.c
_WRITE_ROW = (
    update(member_balances)
    .where(_b.member_id == bindparam("m"), *(_b[f] == bindparam(f"old_{f}") for f in _FIGURES))
    .values({f: bindparam(f"new_{f}") for f in _FIGURES})
)
_WRITE_ACTIVE_ROW = _WRITE_ROW.values(last_activity_at=bindparam("at"), dormant_since=None)
# PostgreSQL, a batch's rows in one statement: the same guard, row by row.
_WRITE_ROWS_PG = text(
    "UPDATE member_balances AS b SET "
    + ", ".join(f"{f} = d.new_{f}" for f in _FIGURES)
    + ", last_activity_at = CASE WHEN d.active THEN CAST(:at AS TIMESTAMPTZ) ELSE b.last_activity_at END"
    + ", dormant_since = CASE WHEN d.active THEN NULL ELSE b.dormant_since END"
    + " FROM unnest(CAST(:m AS BIGINT[]), CAST(:active AS BOOLEAN[]), "
    + ", ".join(f"CAST(:old_{f} AS BIGINT[]), CAST(:new_{f} AS BIGINT[])" for f in _FIGURES)
    + ") AS d(member_id, active, "
    + ", ".join(f"old_{f}, new_{f}" for f in _FIGURES)
    + ") WHERE b.member_id = d.member_id AND "
    + " AND ".join(f"b.{f} = d.old_{f}" for f in _FIGURES)
)


class RowChangedUnderLock(RuntimeError):
    """A balance row no longer held what was decided from, though it was locked: a broken invariant."""


class SqlLedgerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        # Entries written in this transaction, by kind: the unit of work counts them once committed.
        self.posted: Counter[str] = Counter()

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        if not member_ids:
            return {}
        statement = _LOCK_BALANCES_SKIP_LOCKED if skip_locked else _LOCK_BALANCES
        rows = await self.conn.execute(statement, {"ids": sorted(member_ids)})
        return {row.member_id: mapping.balance(row) for row in rows}

    async def apply(self, decision: PostingDecision, at: datetime) -> int:
        for row in decision.rows:
            params = _row_params(row) | {"m": row.member_id}
            written = await self.conn.execute(
                _WRITE_ACTIVE_ROW if row.active else _WRITE_ROW, params | {"at": at}
            )
            if written.rowcount != 1:
                raise RowChangedUnderLock(f"member {row.member_id}'s balance changed under its lock")
        entry = decision.entry
        entry_id = (
            await self.conn.execute(
                insert(journal_entries)
                .values(
                    member_id=entry.member_id,
                    kind=entry.kind.value,
                    origin_type=entry.origin_type.value,
                    origin_id=entry.origin_id,
                    description=entry.description[:200],
                    created_at=at,
                )
                .returning(journal_entries.c.id)
            )
        ).scalar_one()
        await self.conn.execute(insert(journal_lines), [_line(entry_id, p) for p in entry.postings])
        if decision.lots:
            await self.conn.execute(insert(points_lots), [_lot_row(lot, entry_id) for lot in decision.lots])
        self.posted[entry.kind.value] += 1
        return int(entry_id)

    async def apply_many(self, decisions: Sequence[PostingDecision], at: datetime) -> list[int]:
        if not decisions:
            return []
        await self._write_rows(net_rows(decisions), at)
        entry_ids = await bulk.insert_returning_ids(
            self.conn,
            journal_entries,
            ("member_id", "kind", "origin_type", "origin_id", "description", "created_at"),
            [
                (e.member_id, e.kind.value, e.origin_type.value, e.origin_id, e.description[:200], at)
                for e in (d.entry for d in decisions)
            ],
        )
        pairs = list(zip(entry_ids, decisions, strict=True))
        await bulk.insert_rows(
            self.conn,
            journal_lines,
            ("entry_id", "account_kind", "member_id", "owner_id", "amount"),
            [
                (
                    entry_id,
                    p.account.kind.value,
                    p.account.owner_id if p.account.kind.is_member else None,
                    None if p.account.kind.is_member else p.account.owner_id,
                    p.amount,
                )
                for entry_id, decision in pairs
                for p in decision.entry.postings
            ],
        )
        await bulk.insert_rows(
            self.conn,
            points_lots,
            ("member_id", "entry_id", "points", "remaining", "earned_at", "expires_at"),
            [
                (lot.member_id, entry_id, lot.points, lot.points, lot.earned_at, lot.expires_at)
                for entry_id, decision in pairs
                for lot in decision.lots
            ],
        )
        self.posted.update(d.entry.kind.value for d in decisions)
        return entry_ids

    async def _write_rows(self, rows: Sequence[RowChange], at: datetime) -> None:
        """Each row's decided figures; on PostgreSQL all rows in one statement, each row guarded."""
        if bulk.is_postgres(self.conn):
            params: dict[str, object] = {
                "at": at,
                "m": [r.member_id for r in rows],
                "active": [r.active for r in rows],
            }
            for name in (f"{age}_{f}" for f in _FIGURES for age in ("old", "new")):
                params[name] = [_row_params(r)[name] for r in rows]
            written = (await self.conn.execute(_WRITE_ROWS_PG, params)).rowcount
            if written != len(rows):
                raise RowChangedUnderLock(f"{len(rows) - written} balances changed under their locks")
            return
        for row in rows:
            params = _row_params(row) | {"m": row.member_id, "at": at}
            if (
                await self.conn.execute(_WRITE_ACTIVE_ROW if row.active else _WRITE_ROW, params)
            ).rowcount != 1:
                raise RowChangedUnderLock(f"member {row.member_id}'s balance changed under its lock")

    async def post_at_once(self, entry: JournalEntry, at: datetime, lots: Sequence[NewLot]) -> int | None:
        """PostgreSQL, an entry touching one member (nearly all of them): the decision `decide_posting`
        would make, taken by the balance row's own conditional UPDATE in the statement that writes the
        entry, its lines and its lot (`_POST_ONE_MEMBER`). A credit to a member who owes points is
        left to the general path, which books its repayment."""
        members = entry.member_ids()
        if not bulk.is_postgres(self.conn) or len(members) != 1:
            return None
        [member_id] = members
        if any(lot.member_id != member_id for lot in lots):
            raise ValueError("a lot belongs to the member whose entry creates it")
        change = entry.balance_changes()[member_id]
        lines = [_line(0, p) for p in entry.postings]
        params = {
            "member_id": member_id,
            "available": change.available,
            "pending": change.pending,
            "held": change.held,
            "earned": change.earned,
            "redeemed": change.redeemed,
            "debt": change.debt,
            "review": change.review,
            "debt_allowed": 0 if entry.credits_available(member_id) else MAX_BALANCE,
            "active": entry.is_activity and member_id == entry.member_id,
            "max": MAX_BALANCE,
            "kind": entry.kind.value,
            "origin_type": entry.origin_type.value,
            "origin_id": entry.origin_id,
            "description": entry.description[:200],
            "created_at": at,
            "kinds": [line["account_kind"] for line in lines],
            "members": [line["member_id"] for line in lines],
            "owners": [line["owner_id"] for line in lines],
            "amounts": [line["amount"] for line in lines],
        }
        if len(lots) == 1:
            [lot] = lots
            params |= {
                "lot_points": lot.points,
                "lot_earned_at": lot.earned_at,
                "lot_expires_at": lot.expires_at,
            }
        statement = _POST_WITH_LOT if len(lots) == 1 else _POST_WITHOUT_LOT
        entry_id = (await self.conn.execute(statement, params)).scalar()
        if entry_id is None:
            return None
        self.posted[entry.kind.value] += 1
        if len(lots) > 1:
            await self.conn.execute(insert(points_lots), [_lot_row(lot, int(entry_id)) for lot in lots])
        return int(entry_id)

    async def balance(self, member_id: int) -> Balance | None:
        row = (
            await self.conn.execute(select(member_balances).where(member_balances.c.member_id == member_id))
        ).first()
        return mapping.balance(row) if row else None


class SqlLotRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def expired(self, member_id: int, now: datetime) -> list[PointsLot]:
        rows = await self.conn.execute(
            select(points_lots)
            .where(
                points_lots.c.member_id == member_id,
                points_lots.c.remaining > 0,
                points_lots.c.expires_at <= now,
            )
            .order_by(points_lots.c.expires_at, points_lots.c.id)
        )
        return [mapping.lot(row) for row in rows]

    async def members_with_expired(self, now: datetime, after: int, limit: int) -> list[int]:
        """Members (by id, after `after`) holding lots past their date with points left."""
        rows = await self.conn.execute(
            select(points_lots.c.member_id)
            .where(
                points_lots.c.expires_at <= now, points_lots.c.remaining > 0, points_lots.c.member_id > after
            )
            .group_by(points_lots.c.member_id)
            .order_by(points_lots.c.member_id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def add_expiration(self, member_id: int, points: int, at: datetime) -> int:
        return (
            await self.conn.execute(
                insert(expirations)
                .values(member_id=member_id, points=points, created_at=at)
                .returning(expirations.c.id)
            )
        ).scalar_one()

    async def spendable(self, member_id: int) -> list[PointsLot]:
        rows = await self.conn.execute(
            select(points_lots)
            .where(points_lots.c.member_id == member_id, points_lots.c.remaining > 0)
            .order_by(points_lots.c.expires_at, points_lots.c.id)
        )
        return [mapping.lot(row) for row in rows]

    async def consume(self, entry_id: int, member_id: int, draws: Sequence[LotDraw], at: datetime) -> None:
        for draw in draws:
            result = await self.conn.execute(
                update(points_lots)
                .where(points_lots.c.id == draw.lot_id, points_lots.c.remaining >= draw.points)
                .values(remaining=points_lots.c.remaining - draw.points)
            )
            if result.rowcount != 1:
                # The member row is locked, so lots cannot move under us; this is a broken invariant.
                raise RuntimeError(f"lot {draw.lot_id} has less than {draw.points} points left")
        await self.conn.execute(
            insert(lot_draws),
            [
                {
                    "entry_id": entry_id,
                    "lot_id": d.lot_id,
                    "member_id": member_id,
                    "points": d.points,
                    "created_at": at,
                }
                for d in draws
            ],
        )

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        rows = await self.conn.execute(
            select(lot_draws.c.lot_id, lot_draws.c.points, points_lots.c.expires_at)
            .join(journal_entries, journal_entries.c.id == lot_draws.c.entry_id)
            .join(points_lots, points_lots.c.id == lot_draws.c.lot_id)
            .where(
                journal_entries.c.origin_type == origin_type.value,
                journal_entries.c.origin_id == origin_id,
                journal_entries.c.kind == kind.value,
            )
            .order_by(lot_draws.c.id)
        )
        return [DrawnPoints(row.lot_id, row.points, row.expires_at) for row in rows]


def _line(entry_id: int, posting: Posting) -> dict[str, object]:
    member = posting.account.kind.is_member
    return {
        "entry_id": entry_id,
        "account_kind": posting.account.kind.value,
        "member_id": posting.account.owner_id if member else None,
        "owner_id": None if member else posting.account.owner_id,
        "amount": posting.amount,
    }


def _row_params(row: RowChange) -> dict[str, object]:
    """The row's guard and new figures, named as `_WRITE_ROW` and `_WRITE_ROWS_PG` bind them."""
    old, new = row.before, row.after
    return (
        {"m": row.member_id, "active": row.active}
        | {f"old_{f}": getattr(old, f) for f in _FIGURES}
        | {f"new_{f}": getattr(new, f) for f in _FIGURES}
    )


def _lot_row(lot: NewLot, entry_id: int) -> dict[str, object]:
    return {
        "member_id": lot.member_id,
        "entry_id": entry_id,
        "points": lot.points,
        "remaining": lot.points,
        "earned_at": lot.earned_at,
        "expires_at": lot.expires_at,
    }
