"""How an entry is booked against the members' locked balances (domain/posting.py): the rows each
member's balance goes through, exactly; debts repaid first; refusals before anything is written; a
batch where each entry sees what the ones before it left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InsufficientPoints, LimitReached
from domain.ledger import MAX_BALANCE, Account, AccountKind, EntryKind, JournalEntry, Posting
from domain.lots import NewLot
from domain.members import Balance
from domain.posting import (
    PostingDecision,
    RowChange,
    UnlockedMember,
    as_lots,
    decide_posting,
    decide_postings,
    net_rows,
)
from tests.unit.test_ledger import ISSUANCE, REDEMPTION, entry

AT = datetime(2026, 1, 1, tzinfo=UTC)
LOT = NewLot(7, 100, AT, AT.replace(year=2028))


def balance(member_id: int = 7, available: int = 0, debt: int = 0, earned: int = 0) -> Balance:
    return Balance(member_id, available, 0, 0, earned, 0, debt)


def earn(points: int, member_id: int = 7) -> JournalEntry:
    return entry(
        Posting(ISSUANCE, -points), Posting(Account.available(member_id), points), member_id=member_id
    )


def gift(points: int, giver: int = 7, receiver: int = 8) -> JournalEntry:
    return entry(
        Posting(Account.available(giver), -points),
        Posting(Account.available(receiver), points),
        kind=EntryKind.TRANSFER,
        member_id=giver,
    )


def test_lots_are_given_as_one_a_list_or_none() -> None:
    assert as_lots(None) == ()
    assert as_lots(LOT) == (LOT,)
    assert as_lots([LOT, LOT]) == (LOT, LOT)


def test_an_earning_books_as_it_is_and_names_the_row_before_and_after() -> None:
    made = earn(100)
    before = balance(available=50, earned=50)

    decision = decide_posting(made, LOT, {7: before})

    assert decision == PostingDecision(
        made, (LOT,), (RowChange(7, before, balance(available=150, earned=150), True),)
    )


def test_a_member_who_owes_repays_from_the_earning_and_its_lot_shrinks() -> None:
    decision = decide_posting(earn(100), [LOT], {7: balance(debt=30)})

    assert decision.entry.member_delta(7, AccountKind.MEMBER_AVAILABLE) == 70
    assert decision.entry.member_delta(7, AccountKind.MEMBER_DEBT) == 30
    assert decision.lots == (NewLot(7, 70, AT, AT.replace(year=2028)),)
    assert decision.rows[0].after == Balance(7, 70, 0, 0, 100, 0, 0)


def test_every_member_touched_needs_its_locked_balance() -> None:
    with pytest.raises(UnlockedMember, match=r"^members \[8\] were not locked before posting$"):
        decide_posting(gift(10), None, {7: balance(available=10)})


def test_a_lot_for_a_member_the_entry_does_not_lock_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"^a lot belongs to a member whose entry creates it$"):
        decide_posting(earn(100), [NewLot(9, 100, AT, AT)], {7: balance()})


def test_an_entry_that_would_take_a_balance_below_zero_is_refused() -> None:
    with pytest.raises(InsufficientPoints, match=r"^not enough points available$"):
        decide_posting(gift(11), None, {7: balance(available=10), 8: balance(8)})


def test_an_entry_that_would_pass_the_largest_int_is_refused_as_a_limit() -> None:
    nearly = balance(available=MAX_BALANCE - 5, earned=MAX_BALANCE - 5)

    assert decide_posting(earn(5), None, {7: nearly}).rows[0].after.available == MAX_BALANCE
    with pytest.raises(LimitReached):
        decide_posting(earn(6), None, {7: nearly})


def test_only_the_member_whose_entry_it_is_counts_as_active() -> None:
    decision = decide_posting(gift(10), None, {7: balance(available=10), 8: balance(8)})

    assert [(r.member_id, r.before.available, r.after.available, r.active) for r in decision.rows] == [
        (7, 10, 0, True),
        (8, 0, 10, False),
    ]
    # What the programme does to a member (a refund, an expiry ...) is not the member's activity.
    redeemed_back = entry(Posting(REDEMPTION, -5), Posting(Account.available(7), 5), kind=EntryKind.RETURN)
    assert decide_posting(redeemed_back, None, {7: Balance(7, 0, 0, 0, 0, 5)}).rows[0].active is False


def test_a_batch_is_decided_in_order_each_entry_seeing_what_the_last_left() -> None:
    locked = {7: balance(available=10), 8: balance(8)}

    decisions = decide_postings([(earn(5), LOT), (gift(15), None), (earn(1, member_id=8), None)], locked)

    assert [[(r.member_id, r.before.available, r.after.available) for r in d.rows] for d in decisions] == [
        [(7, 10, 15)],
        [(7, 15, 0), (8, 0, 15)],
        [(8, 15, 16)],
    ]
    assert [d.lots for d in decisions] == [(LOT,), (), ()]
    assert locked == {7: balance(available=10), 8: balance(8)}  # the caller's balances are left alone
    assert net_rows(decisions) == [
        RowChange(7, balance(available=10), Balance(7, 0, 0, 0, 5, 0), True),
        RowChange(8, balance(8), Balance(8, 16, 0, 0, 1, 0), True),
    ]


def test_a_batch_with_one_entry_past_a_limit_is_refused_whole() -> None:
    with pytest.raises(InsufficientPoints):
        decide_postings([(earn(5), None), (gift(16), None)], {7: balance(available=10), 8: balance(8)})


def test_the_net_rows_of_a_member_only_acted_upon_are_not_active() -> None:
    decisions = decide_postings([(gift(4), None), (gift(3), None)], {7: balance(available=10), 8: balance(8)})

    assert net_rows(decisions) == [
        RowChange(7, balance(available=10), balance(available=3), True),
        RowChange(8, balance(8), balance(8, available=7), False),
    ]
    assert net_rows([]) == []
