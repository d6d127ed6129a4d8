"""The one way a use case locks a member's rows and posts to the ledger.

Lock order, the same in every use case, so that two transactions never wait for each other in a
circle:
1. a one-time code row, when the member presented one (`redemption_codes.use` consumes it);
2. the members' balance rows, in member id order (`lock_members`), before any other row of theirs;
3. the rows the member's work changes: its redemption, the reward's stock, the offers' counters
   and the member's caps by offer id, then the coupon.
Posting (`post_entry`) locks the entry's members again: rows a use case already holds cost nothing
more, and a use case that did not lock them takes them at step 2.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from domain.ledger import JournalEntry
from domain.lots import NewLot
from domain.members import Balance
from domain.ports import UnitOfWork
from domain.posting import as_lots, decide_posting, decide_postings


async def lock_members(
    uow: UnitOfWork, member_ids: Collection[int], *, skip_locked: bool = False
) -> dict[int, Balance]:
    """Lock the members' balance rows (step 2 of the lock order) and return them. With `skip_locked`
    (for jobs), a row another transaction holds is left out rather than waited for."""
    return await uow.ledger.lock_balances(member_ids, skip_locked=skip_locked)


async def post_entry(
    uow: UnitOfWork, entry: JournalEntry, at: datetime, lots: NewLot | Sequence[NewLot] | None = None
) -> int:
    """Book the entry and apply it to the members' stored balances, in the unit of work; the points it
    adds to members' available accounts go into the new `lots`. Returns the entry id. Raises
    InsufficientPoints or LimitReached, changing nothing, when a balance would leave its limits.

    Where the store can, it books the common case (one member, no debt to repay, within limits) in a
    single statement that makes the same decision; anything else is decided here, under the lock."""
    new_lots = as_lots(lots)
    entry_id = await uow.ledger.post_at_once(entry, at, new_lots)
    if entry_id is not None:
        return entry_id
    decision = decide_posting(entry, new_lots, await lock_members(uow, entry.member_ids()))
    return await uow.ledger.apply(decision, at)


async def post_entries(
    uow: UnitOfWork, entries: Sequence[tuple[JournalEntry, NewLot | None]], at: datetime
) -> list[int]:
    """`post_entry` for a batch, decided in order and written in one pass; all or nothing."""
    if not entries:
        return []
    locked = await lock_members(uow, {m for entry, _ in entries for m in entry.member_ids()})
    return await uow.ledger.apply_many(decide_postings(entries, locked), at)
