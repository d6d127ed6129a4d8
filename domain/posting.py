"""How a journal entry is booked against the members' locked balances: one pure decision.

Every posting takes this path, whatever the store: the use case locks the members' balance rows
(`domain.services.posting.lock_members`, the one lock order), `decide_posting` works out, from those
rows alone, what the entry does; the store then writes exactly that. The decision

- repays a member's debt first from whatever the entry credits to its available points (the entry
  as booked gains a debt line, and the member's new lots shrink by as much);
- refuses, before anything is written, an entry that would take any figure of a member's balance
  below zero or past `MAX_BALANCE` (`balance_refusal` says which);
- names the balance each member's row holds before and after, and whether the entry is the member's
  own activity (which wakes a dormant member).

Invariants, for every decision `d` made from locked balances `locked`:
- `d.entry`'s postings sum to zero (a `JournalEntry` cannot be built otherwise);
- for each row `r`: `r.before == locked[r.member_id]` (or the previous decision's `after`, in a
  batch), `r.after == apply_change(r.before, d.entry.balance_changes()[r.member_id])`, and
  `within_limits(r.after)`;
- a member's new lots add up to at most what the entry credits its available points, and less by
  exactly the debt repaid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.ledger import JournalEntry, apply_change, balance_refusal, with_debt_repaid, within_limits
from domain.lots import NewLot
from domain.members import Balance


@dataclass(frozen=True, slots=True)
class RowChange:
    """One member's balance row: as locked, and as the entry leaves it."""

    member_id: int
    before: Balance
    after: Balance
    active: bool  # the member's own doing: its last activity moves to the entry's time


@dataclass(frozen=True, slots=True)
class PostingDecision:
    entry: JournalEntry  # as booked: with its debt lines
    lots: tuple[NewLot, ...]  # the points lots the entry creates
    rows: tuple[RowChange, ...]  # one per member touched, in member id order


class UnlockedMember(RuntimeError):
    """A programming error: an entry was decided without its member's locked balance."""


def as_lots(lots: NewLot | Sequence[NewLot] | None) -> tuple[NewLot, ...]:
    if lots is None:
        return ()
    return (lots,) if isinstance(lots, NewLot) else tuple(lots)


def decide_posting(
    entry: JournalEntry, lots: NewLot | Sequence[NewLot] | None, locked: Mapping[int, Balance]
) -> PostingDecision:
    """The entry as booked against the members' balances `locked` (at least every member it touches).
    Raises InsufficientPoints or LimitReached when a balance would leave its limits."""
    new_lots = as_lots(lots)
    if missing := [m for m in entry.member_ids() if m not in locked]:
        raise UnlockedMember(f"members {missing} were not locked before posting")
    for member_id in entry.debtors():
        entry, new_lots = with_debt_repaid(entry, new_lots, member_id, locked[member_id].debt)
    if any(lot.member_id not in locked for lot in new_lots):
        raise ValueError("a lot belongs to a member whose entry creates it")
    rows = []
    for member_id, change in entry.balance_changes().items():
        before = locked[member_id]
        after = apply_change(before, change)
        if not within_limits(after):
            raise balance_refusal(entry, before)
        rows.append(RowChange(member_id, before, after, entry.is_activity and member_id == entry.member_id))
    return PostingDecision(entry, new_lots, tuple(rows))


def decide_postings(
    entries: Sequence[tuple[JournalEntry, NewLot | Sequence[NewLot] | None]], locked: Mapping[int, Balance]
) -> list[PostingDecision]:
    """A batch, decided in order: each entry sees the balances the entries before it leave. Refuses
    the whole batch, like `decide_posting`, when any entry would take a balance past its limits."""
    current = dict(locked)
    decisions = []
    for entry, lots in entries:
        decision = decide_posting(entry, lots, current)
        current |= {row.member_id: row.after for row in decision.rows}
        decisions.append(decision)
    return decisions


def net_rows(decisions: Sequence[PostingDecision]) -> list[RowChange]:
    """A batch's rows, one per member in id order: as first locked, and as the last entry leaves it."""
    first: dict[int, RowChange] = {}
    last: dict[int, RowChange] = {}
    for decision in decisions:
        for row in decision.rows:
            first.setdefault(row.member_id, row)
            last[row.member_id] = row
    return [
        RowChange(
            member_id,
            first[member_id].before,
            last[member_id].after,
            any(row.active for d in decisions for row in d.rows if row.member_id == member_id),
        )
        for member_id in sorted(first)
    ]
