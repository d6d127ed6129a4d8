"""The journal, the stored member balances and the points lots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import (
    MAX_BALANCE,
    EntryKind,
    JournalEntry,
    OriginType,
    Posting,
    apply_change,
    balance_refusal,
    with_debt_repaid,
    within_limits,
)
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance
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
        debt = debt + :debt,
        last_activity_at = CASE WHEN :active THEN CAST(:created_at AS TIMESTAMPTZ) ELSE last_activity_at END,
        dormant_since = CASE WHEN :active THEN NULL ELSE dormant_since END
    WHERE member_id = :member_id
      AND available + :available BETWEEN 0 AND :max AND pending + :pending BETWEEN 0 AND :max
      AND held + :held BETWEEN 0 AND :max AND debt + :debt BETWEEN 0 AND :max AND debt <= :debt_allowed
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
# For batches, after lock_balances: the new values were checked against the locked rows.
_ADD_TO_BALANCE = (
    update(member_balances)
    .where(member_balances.c.member_id == bindparam("b_member_id"))
    .values(
        available=member_balances.c.available + bindparam("d_available"),
        pending=member_balances.c.pending + bindparam("d_pending"),
        held=member_balances.c.held + bindparam("d_held"),
        lifetime_earned=member_balances.c.lifetime_earned + bindparam("d_earned"),
        lifetime_redeemed=member_balances.c.lifetime_redeemed + bindparam("d_redeemed"),
        debt=member_balances.c.debt + bindparam("d_debt"),
    )
)
_DELTA_PARAMS = ("b_member_id", "d_available", "d_pending", "d_held", "d_earned", "d_redeemed", "d_debt")
_ADD_TO_BALANCES_PG = text(
    """
    UPDATE member_balances AS b
    SET available = b.available + d.available, pending = b.pending + d.pending, held = b.held + d.held,
        lifetime_earned = b.lifetime_earned + d.earned, lifetime_redeemed = b.lifetime_redeemed + d.redeemed,
        debt = b.debt + d.debt
    FROM unnest(CAST(:members AS BIGINT[]), CAST(:available AS BIGINT[]), CAST(:pending AS BIGINT[]),
                CAST(:held AS BIGINT[]), CAST(:earned AS BIGINT[]), CAST(:redeemed AS BIGINT[]),
                CAST(:debt AS BIGINT[]))
         AS d(member_id, available, pending, held, earned, redeemed, debt)
    WHERE b.member_id = d.member_id
    """
)
_TOUCH = (
    update(member_balances)
    .where(member_balances.c.member_id.in_(bindparam("ids", expanding=True)))
    .values(last_activity_at=bindparam("at"), dormant_since=None)
)


class SqlLedgerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._locked: dict[int, Balance] = {}

    async def post(
        self, entry: JournalEntry, at: datetime, lots: NewLot | Sequence[NewLot] | None = None
    ) -> int:
        new_lots = _as_lots(lots)
        members = entry.member_ids()
        if self.conn.dialect.name == "postgresql" and len(members) == 1:
            return await self._post_one_member(entry, members[0], at, new_lots)
        # An entry that credits a member who may owe points: lock first (members in id order), so
        # the debt it repays is read under the lock that keeps it.
        debtors = entry.debtors()
        if debtors:
            locked = await self.lock_balances(members)
            for member_id in debtors:
                entry, new_lots = with_debt_repaid(entry, new_lots, member_id, locked[member_id].debt)
        # Balances first, members in id order: the conditional UPDATE both checks the funds and
        # takes the row lock that serializes all work for the member, in one global order.
        for member_id in members:
            if not await self._apply(entry, member_id, at):
                raise balance_refusal(entry, await self.balance(member_id))
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
        if new_lots:
            await self.conn.execute(insert(points_lots), [_lot_row(lot, entry_id) for lot in new_lots])
        return entry_id

    async def _post_one_member(
        self, entry: JournalEntry, member_id: int, at: datetime, lots: tuple[NewLot, ...]
    ) -> int:
        """PostgreSQL, one member: optimistic, in one statement that refuses to credit a member who
        owes points. Refused, the member's row is locked and the entry, repaying any debt now, is
        tried once more: only then is a refusal final (the lock keeps what was read true)."""
        entry_id = await self._post_in_one_statement(entry, member_id, at, lots, debt_free=True)
        if entry_id is not None:
            return entry_id
        current = (await self.lock_balances([member_id]))[member_id]
        entry, lots = with_debt_repaid(entry, lots, member_id, current.debt)
        entry_id = await self._post_in_one_statement(entry, member_id, at, lots, debt_free=False)
        if entry_id is None:
            raise balance_refusal(entry, current)
        return entry_id

    async def _post_in_one_statement(
        self, entry: JournalEntry, member_id: int, at: datetime, lots: tuple[NewLot, ...], *, debt_free: bool
    ) -> int | None:
        """The entry id, or None when the member's balance row refused the change."""
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
            "debt_allowed": 0 if debt_free and entry.credits_available(member_id) else MAX_BALANCE,
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
        if any(lot.member_id != member_id for lot in lots):
            raise ValueError("a lot belongs to the member whose entry creates it")
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
        if len(lots) > 1:
            await self.conn.execute(insert(points_lots), [_lot_row(lot, int(entry_id)) for lot in lots])
        return int(entry_id)

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        if not member_ids:
            return {}
        statement = _LOCK_BALANCES_SKIP_LOCKED if skip_locked else _LOCK_BALANCES
        rows = await self.conn.execute(statement, {"ids": sorted(member_ids)})
        locked = {row.member_id: mapping.balance(row) for row in rows}
        self._locked |= locked
        return locked

    async def post_many(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]], at: datetime
    ) -> list[int]:
        if not entries:
            return []
        entries = self._repaying_debts(entries)
        after = self._balances_after(entries)
        await self._add_to_balances(after)
        self._locked |= {member_id: new for member_id, (_, new) in after.items()}
        active = sorted({e.member_id for e, _ in entries if e.is_activity})
        if active:
            await self.conn.execute(_TOUCH, {"ids": active, "at": at})
        entry_ids = await bulk.insert_returning_ids(
            self.conn,
            journal_entries,
            ("member_id", "kind", "origin_type", "origin_id", "description", "created_at"),
            [
                (e.member_id, e.kind.value, e.origin_type.value, e.origin_id, e.description[:200], at)
                for e, _ in entries
            ],
        )
        pairs = list(zip(entry_ids, entries, strict=True))
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
                for entry_id, (entry, _) in pairs
                for p in entry.postings
            ],
        )
        await bulk.insert_rows(
            self.conn,
            points_lots,
            ("member_id", "entry_id", "points", "remaining", "earned_at", "expires_at"),
            [
                (lot.member_id, entry_id, lot.points, lot.points, lot.earned_at, lot.expires_at)
                for entry_id, (_, lot) in pairs
                if lot is not None
            ],
        )
        return entry_ids

    def _repaying_debts(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]]
    ) -> list[tuple[JournalEntry, NewLot | None]]:
        """The batch as booked: what comes to members who owe points repays their debts first."""
        owed = {member_id: b.debt for member_id, b in self._locked.items() if b.debt > 0}
        if not owed:
            return list(entries)
        booked: list[tuple[JournalEntry, NewLot | None]] = []
        for entry, lot in entries:
            lots = _as_lots(lot)
            for member_id in entry.debtors():
                debt = owed.get(member_id, 0)
                if debt:
                    entry, lots = with_debt_repaid(entry, lots, member_id, debt)
                    owed[member_id] = debt + entry.balance_changes()[member_id].debt
            if len(lots) > 1:
                raise ValueError("post_many books at most one lot per entry")
            booked.append((entry, lots[0] if lots else None))
        return booked

    async def _add_to_balances(self, after: dict[int, tuple[Balance, Balance]]) -> None:
        changes = [
            (
                member_id,
                new.available - old.available,
                new.pending - old.pending,
                new.held - old.held,
                new.lifetime_earned - old.lifetime_earned,
                new.lifetime_redeemed - old.lifetime_redeemed,
                new.debt - old.debt,
            )
            for member_id, (old, new) in sorted(after.items())
        ]
        if bulk.is_postgres(self.conn):
            columns = zip(*changes, strict=True)
            names = ("members", "available", "pending", "held", "earned", "redeemed", "debt")
            await self.conn.execute(_ADD_TO_BALANCES_PG, dict(zip(names, map(list, columns), strict=True)))
            return
        await self.conn.execute(_ADD_TO_BALANCE, [dict(zip(_DELTA_PARAMS, c, strict=True)) for c in changes])

    def _balances_after(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]]
    ) -> dict[int, tuple[Balance, Balance]]:
        """(locked, new) balance per member. Refuses, before anything is written, a balance that
        would leave its limits."""
        after: dict[int, tuple[Balance, Balance]] = {}
        for entry, _ in entries:
            for member_id, change in entry.balance_changes().items():
                if member_id not in self._locked:
                    raise RuntimeError(f"post_many needs lock_balances first (member {member_id})")
                old, current = after.get(member_id, (self._locked[member_id],) * 2)
                new = apply_change(current, change)
                if not within_limits(new):
                    raise balance_refusal(entry, current)
                after[member_id] = (old, new)
        return after

    async def _apply(self, entry: JournalEntry, member_id: int, at: datetime) -> bool:
        """The entry's change to one member's row, if the row allows it; False when it does not."""
        change = entry.balance_changes()[member_id]
        b = member_balances.c
        values: dict[str, object] = {}
        conditions = [b.member_id == member_id]
        for column, delta in (
            (b.available, change.available),
            (b.pending, change.pending),
            (b.held, change.held),
            (b.lifetime_earned, change.earned),
            (b.lifetime_redeemed, change.redeemed),
            (b.debt, change.debt),
        ):
            if delta:
                values[column.key] = column + delta
                conditions.append(column.between(-delta, MAX_BALANCE - delta))
        if entry.is_activity and member_id == entry.member_id:
            values |= {"last_activity_at": at, "dormant_since": None}
        if not values:
            return True
        result = await self.conn.execute(
            update(member_balances).where(*conditions).values(values).returning(b.member_id)
        )
        return result.first() is not None

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


def _as_lots(lots: NewLot | Sequence[NewLot] | None) -> tuple[NewLot, ...]:
    if lots is None:
        return ()
    return (lots,) if isinstance(lots, NewLot) else tuple(lots)


def _lot_row(lot: NewLot, entry_id: int) -> dict[str, object]:
    return {
        "member_id": lot.member_id,
        "entry_id": entry_id,
        "points": lot.points,
        "remaining": lot.points,
        "earned_at": lot.earned_at,
        "expires_at": lot.expires_at,
    }
