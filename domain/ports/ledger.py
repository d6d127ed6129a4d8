"""The points ledger: stored balances, journal entries and points lots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domain.ledger import EntryKind, JournalEntry, OriginType
from domain.lots import DrawnPoints, LotDraw, NewLot, PointsLot
from domain.members import Balance


class LedgerRepository(Protocol):
    async def post(
        self, entry: JournalEntry, at: datetime, lots: NewLot | Sequence[NewLot] | None = None
    ) -> int:
        """Append the entry and apply it to the stored member balances in the same transaction;
        the points the entry adds to members' available accounts go into the new `lots`. A member
        who owes points repays its debt first from whatever the entry credits it
        (`domain.ledger.with_debt_repaid`: the entry as booked has a debt line, the lots shrink).

        Raises InsufficientPoints, changing nothing, when a member account would go below zero.
        Returns the entry id."""
        ...

    async def balance(self, member_id: int) -> Balance | None: ...

    async def lock_balances(
        self, member_ids: Collection[int], *, skip_locked: bool = False
    ) -> dict[int, Balance]:
        """Lock the members' balance rows, in id order, and return them (for a batch). With
        `skip_locked` (for jobs), rows another transaction holds are left out rather than waited
        for: two job processes then share the work instead of queueing on each other."""
        ...

    async def post_many(
        self, entries: Sequence[tuple[JournalEntry, NewLot | None]], at: datetime
    ) -> list[int]:
        """`post` for a batch, in one pass: each member's balance row takes the sum of its deltas.
        Raises like `post`, changing nothing, when any member's balance would leave its limits.
        Returns the entry ids in order."""
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
