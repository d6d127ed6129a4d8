"""The points ledger: stored balances, journal entries and points lots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from domain.ledger import EntryKind, JournalEntry, OriginType, apply_change, within_limits
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance
from domain.movements import Expiration
from domain.posting import PostingDecision, RowChange, net_rows
from tests.unit.fakes.database import PostedEntry, Repository


class FakeLedgerRepository(Repository):
    """Writes what `domain.posting` decided, guarded like the SQL repository; keeps no state of its own."""

    async def apply(self, decision: PostingDecision, at: datetime) -> int:
        for row in decision.rows:
            self._write_row(row, at)
        entry_id = self.db.next_id()
        self.t.journal[entry_id] = PostedEntry(entry_id, decision.entry, at)
        for lot in decision.lots:
            lot_id = self.db.next_id()
            self.t.lots[lot_id] = PointsLot(
                lot_id, lot.member_id, lot.points, lot.points, lot.earned_at, lot.expires_at
            )
        return entry_id

    async def apply_many(self, decisions: Sequence[PostingDecision], at: datetime) -> list[int]:
        for row in net_rows(decisions):
            self._write_row(row, at)
        return [await self.apply(replace(d, rows=()), at) for d in decisions]

    def _write_row(self, row: RowChange, at: datetime) -> None:
        if self.t.balances.get(row.member_id) != row.before:
            raise RuntimeError(f"member {row.member_id}'s balance changed under its lock")
        self.t.balances[row.member_id] = row.after
        member = self.t.members.get(row.member_id)
        if row.active and member is not None:
            self.t.members[row.member_id] = replace(member, last_activity_at=at, dormant_since=None)

    async def post_at_once(self, entry: JournalEntry, at: datetime, lots: Sequence[NewLot]) -> int | None:
        """As the PostgreSQL statement does when `db.posts_at_once`: an entry touching one member is
        booked at once when its balance stays within limits and it is no credit to a member who owes
        points; anything else (None) is left to the general path."""
        members = entry.member_ids()
        if not self.db.posts_at_once or len(members) != 1:
            return None
        [member_id] = members
        if any(lot.member_id != member_id for lot in lots):
            raise ValueError("a lot belongs to the member whose entry creates it")
        before = self.t.balances.get(member_id)
        if before is None or (before.debt > 0 and entry.credits_available(member_id)):
            return None
        after = apply_change(before, entry.balance_changes()[member_id])
        if not within_limits(after):
            return None
        active = entry.is_activity and member_id == entry.member_id
        return await self.apply(
            PostingDecision(entry, tuple(lots), (RowChange(member_id, before, after, active),)), at
        )

    async def balance(self, member_id: int) -> Balance | None:
        return self.t.balances.get(member_id)

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        busy = self.db.locked_elsewhere if skip_locked else set()
        return {m: self.t.balances[m] for m in sorted(member_ids) if m in self.t.balances and m not in busy}


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
            self.t.lot_draws_at[entry_id] = at

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        drawn = []
        for entry_id, draw in self.t.lot_draws:
            entry = self.t.journal[entry_id].entry
            if (entry.origin_type, entry.origin_id, entry.kind) == (origin_type, origin_id, kind):
                drawn.append(DrawnPoints(draw.lot_id, draw.points, self.t.lots[draw.lot_id].expires_at))
        return drawn
