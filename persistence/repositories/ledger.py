"""The journal, the stored member balances and the points lots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import MAX_BALANCE, AccountKind, JournalEntry, balance_refusal
from domain.lots import LotDraw, NewLot, PointsLot
from domain.members import Balance
from persistence import mapping
from persistence.tables import journal_entries, journal_lines, lot_draws, member_balances, points_lots

_BALANCE_COLUMN = {
    AccountKind.MEMBER_AVAILABLE: member_balances.c.available,
    AccountKind.MEMBER_PENDING: member_balances.c.pending,
    AccountKind.MEMBER_HELD: member_balances.c.held,
}


class SqlLedgerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def post(self, entry: JournalEntry, at: datetime) -> int:
        # Balances first, members in id order: the conditional UPDATE both checks the funds and
        # takes the row lock that serializes all work for the member, in one global order.
        for member_id in entry.member_ids():
            await self._apply(entry, member_id)
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
        await self.conn.execute(
            insert(journal_lines),
            [
                {
                    "entry_id": entry_id,
                    "account_kind": p.account.kind.value,
                    "member_id": p.account.owner_id if p.account.kind.is_member else None,
                    "owner_id": None if p.account.kind.is_member else p.account.owner_id,
                    "amount": p.amount,
                }
                for p in entry.postings
            ],
        )
        return entry_id

    async def _apply(self, entry: JournalEntry, member_id: int) -> None:
        values = {}
        conditions = [member_balances.c.member_id == member_id]
        for kind, column in _BALANCE_COLUMN.items():
            delta = entry.member_delta(member_id, kind)
            if delta:
                values[column.key] = column + delta
                if delta < 0:
                    conditions.append(column >= -delta)
                else:
                    conditions.append(column <= MAX_BALANCE - delta)
        earned, redeemed = entry.lifetime_deltas(member_id)
        for column, delta in (
            (member_balances.c.lifetime_earned, earned),
            (member_balances.c.lifetime_redeemed, redeemed),
        ):
            if delta:
                values[column.key] = column + delta
                conditions.append(column <= MAX_BALANCE - delta)
        if not values:
            return
        result = await self.conn.execute(
            update(member_balances).where(*conditions).values(values).returning(member_balances.c.member_id)
        )
        if result.first() is None:
            current = await self.balance(member_id)
            raise balance_refusal(entry, current)

    async def balance(self, member_id: int) -> Balance | None:
        row = (
            await self.conn.execute(select(member_balances).where(member_balances.c.member_id == member_id))
        ).first()
        return mapping.balance(row) if row else None


class SqlLotRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, lot: NewLot, entry_id: int) -> int:
        return (
            await self.conn.execute(
                insert(points_lots)
                .values(
                    member_id=lot.member_id,
                    entry_id=entry_id,
                    points=lot.points,
                    remaining=lot.points,
                    earned_at=lot.earned_at,
                    expires_at=lot.expires_at,
                )
                .returning(points_lots.c.id)
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
