"""The points ledger: stored balances, journal entries and points lots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domain.ledger import EntryKind, JournalEntry, OriginType
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance
from domain.posting import PostingDecision


class LedgerRepository(Protocol):
    """The journal and the members' stored balances. It writes what `domain.posting` decided; it
    decides nothing itself and keeps nothing between calls. Use cases post through
    `domain.services.posting`."""

    async def balance(self, member_id: int) -> Balance | None: ...

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        """Lock the members' balance rows, in id order, and return them. With `skip_locked` (for
        jobs), rows another transaction holds are left out rather than waited for: two job processes
        then share the work instead of queueing on each other."""
        ...

    async def apply(self, decision: PostingDecision, at: datetime) -> int:
        """Write a decided posting: each balance row takes its new figures by one statement guarded on
        the row still holding the figures decided from (a row changed under its lock is a broken
        invariant: RuntimeError); then the entry, its lines and its lots. Returns the entry id."""
        ...

    async def apply_many(self, decisions: Sequence[PostingDecision], at: datetime) -> list[int]:
        """`apply` for a batch decided in order, in one pass: each balance row is written once, from
        its first locked figures to its last. Returns the entry ids in order."""
        ...

    async def post_at_once(self, entry: JournalEntry, at: datetime, lots: Sequence[NewLot]) -> int | None:
        """An optional optimisation of lock, `decide_posting`, `apply`: book the entry in one round trip
        when the store can and the decision needs nothing but the row's own check (one member, within
        limits, no debt to repay). The entry id; None, having written nothing, otherwise (a store
        without the optimisation always answers None)."""
        ...


class LotRepository(Protocol):
    async def expired(self, member_id: int, now: datetime) -> list[PointsLot]:
        """Lots past their date with points left; call only while the member's balance row is locked."""
        ...

    async def members_with_expired(self, now: datetime, after: int, limit: int) -> list[int]: ...
    async def spendable(self, member_id: int) -> list[PointsLot]:
        """Lots with points left; call only while the member's balance row is locked."""
        ...

    async def consume(
        self, entry_id: int, member_id: int, draws: Sequence[LotDraw], at: datetime
    ) -> None: ...

    async def add_expiration(self, member_id: int, points: int, at: datetime) -> int:
        """Record one expiry run's points for a member (the origin of its EXPIRE entry); its id."""
        ...

    async def drawn_by(self, origin_type: OriginType, origin_id: int, kind: EntryKind) -> list[DrawnPoints]:
        """What the entries of this kind for this origin drew from lots, with the lots' expiry."""
        ...
