"""The points ledger: stored balances, journal entries and points lots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from domain.errors import InsufficientPoints
from domain.ledger import (
    EntryKind,
    JournalEntry,
    OriginType,
    apply_change,
    balance_refusal,
    with_debt_repaid,
    within_limits,
)
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance
from domain.movements import Expiration
from tests.unit.fakes.database import PostedEntry, Repository


class FakeLedgerRepository(Repository):
    async def post(
        self, entry: JournalEntry, at: datetime, lots: NewLot | Sequence[NewLot] | None = None
    ) -> int:
        new_lots: Sequence[NewLot] = () if lots is None else (lots,) if isinstance(lots, NewLot) else lots
        for member_id in entry.debtors():
            owed = self.t.balances.get(member_id)
            if owed is not None and owed.debt > 0:
                entry, new_lots = with_debt_repaid(entry, new_lots, member_id, owed.debt)
        # Work out every member's new balance first, so a refusal changes nothing.
        updated: dict[int, Balance] = {}
        for member_id, change in entry.balance_changes().items():
            balance = self.t.balances.get(member_id)
            if balance is None:
                raise InsufficientPoints("not enough points available")  # the real UPDATE finds no row
            new = apply_change(balance, change)
            if not within_limits(new):
                raise balance_refusal(entry, balance)
            updated[member_id] = new
        self.t.balances.update(updated)
        entry_id = self.db.next_id()
        self.t.journal[entry_id] = PostedEntry(entry_id, entry, at)
        for lot in new_lots:
            lot_id = self.db.next_id()
            self.t.lots[lot_id] = PointsLot(
                lot_id, lot.member_id, lot.points, lot.points, lot.earned_at, lot.expires_at
            )
        return entry_id

    async def balance(self, member_id: int) -> Balance | None:
        return self.t.balances.get(member_id)

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        return {m: self.t.balances[m] for m in sorted(member_ids) if m in self.t.balances}

    async def post_many(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]], at: datetime
    ) -> list[int]:
        """As the SQL `post_many`: debts repaid first, every balance checked after each entry before
        anything is written, the members of activity entries awake; an entry's lot numbered after it."""
        owed = {m: b.debt for m, b in self.t.balances.items() if b.debt > 0}
        booked: list[tuple[JournalEntry, Sequence[NewLot]]] = []
        for entry, lot in entries:
            new_lots: Sequence[NewLot] = () if lot is None else (lot,)
            for member_id in entry.debtors():
                if owed.get(member_id, 0):
                    entry, new_lots = with_debt_repaid(entry, new_lots, member_id, owed[member_id])
                    owed[member_id] += entry.balance_changes()[member_id].debt
            booked.append((entry, new_lots))
        after: dict[int, Balance] = {}
        for entry, _ in booked:
            for member_id, change in entry.balance_changes().items():
                current = after.get(member_id) or self.t.balances.get(member_id)
                if current is None:
                    raise RuntimeError(f"post_many needs lock_balances first (member {member_id})")
                new = apply_change(current, change)
                if not within_limits(new):
                    raise balance_refusal(entry, current)
                after[member_id] = new
        self.t.balances.update(after)
        entry_ids = []
        for entry, new_lots in booked:
            if entry.is_activity:
                self.t.touch(entry.member_id, at)
            entry_id = self.db.next_id()
            self.t.journal[entry_id] = PostedEntry(entry_id, entry, at)
            for new_lot in new_lots:
                lot_id = self.db.next_id()
                self.t.lots[lot_id] = PointsLot(
                    lot_id,
                    new_lot.member_id,
                    new_lot.points,
                    new_lot.points,
                    new_lot.earned_at,
                    new_lot.expires_at,
                )
            entry_ids.append(entry_id)
        return entry_ids


class FakeLotRepository(Repository):
    async def expired(self, member_id: int, now: datetime) -> list[PointsLot]:
        lots = [
            lot
            for lot in self.t.lots.values()
            if lot.member_id == member_id and lot.remaining > 0 and lot.expires_at <= now
        ]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))

    async def members_with_expired(self, now: datetime, after: int, limit: int) -> list[int]:
        found = {lot.member_id for lot in self.t.lots.values() if lot.remaining > 0 and lot.expires_at <= now}
        return sorted(m for m in found if m > after)[:limit]

    async def add_expiration(self, member_id: int, points: int, at: datetime) -> int:
        expiration_id = self.db.next_id()
        self.t.expirations[expiration_id] = Expiration(expiration_id, member_id, points, at)
        return expiration_id

    async def spendable(self, member_id: int) -> list[PointsLot]:
        lots = [lot for lot in self.t.lots.values() if lot.member_id == member_id and lot.remaining > 0]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))

    async def consume(self, entry_id: int, member_id: int, draws: Sequence[LotDraw], at: datetime) -> None:
        for draw in draws:
            lot = self.t.lots[draw.lot_id]
            if draw.points <= 0:  # lot_draws' check constraint
                raise ValueError(f"a draw of {draw.points} points from lot {draw.lot_id}")
            if lot.member_id != member_id:  # stricter than the SQL: a draw from another's lot is a bug
                raise RuntimeError(f"lot {draw.lot_id} is not member {member_id}'s")
            if lot.remaining < draw.points:
                raise RuntimeError(f"lot {draw.lot_id} has less than {draw.points} points left")
            self.t.lots[draw.lot_id] = replace(lot, remaining=lot.remaining - draw.points)
            self.t.lot_draws.append((entry_id, draw))

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        drawn = []
        for entry_id, draw in self.t.lot_draws:
            entry = self.t.journal[entry_id].entry
            if (entry.origin_type, entry.origin_id, entry.kind) == (origin_type, origin_id, kind):
                drawn.append(DrawnPoints(draw.lot_id, draw.points, self.t.lots[draw.lot_id].expires_at))
        return drawn
