"""The ledger at its edges (domain/ledger.py): lifetime counters of refunds and returns, a debt of
one point, lots of several members, balances at exactly their limits, and the refusal each limit
gives, so that what a member's row holds is exact to the point."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InsufficientPoints, LimitReached
from domain.ledger import (
    MAX_BALANCE,
    Account,
    AccountKind,
    BalanceChange,
    EntryKind,
    Posting,
    UnbalancedEntry,
    apply_change,
    balance_refusal,
    with_debt_repaid,
    within_limits,
)
from domain.lots import NewLot
from domain.members import Balance
from tests.unit.test_ledger import ISSUANCE, REDEMPTION, _release, entry

AT = datetime(2026, 1, 1, tzinfo=UTC)


# --- lifetime counters ------------------------------------------------------------------------------


def test_a_refund_takes_its_points_off_lifetime_earned_and_leaves_redeemed() -> None:
    refund = entry(
        Posting(Account(AccountKind.MEMBER_PENDING, 7), -10),
        Posting(Account.available(7), -25),
        Posting(Account(AccountKind.MEMBER_DEBT, 7), -15),
        Posting(ISSUANCE, 50),
        kind=EntryKind.REFUND,
    )

    assert refund.lifetime_deltas(7) == (-50, 0)
    assert refund.balance_changes()[7] == BalanceChange(available=-25, pending=-10, earned=-50, debt=15)


def test_points_rejected_in_review_come_off_lifetime_earned() -> None:
    rejected = entry(
        Posting(Account(AccountKind.MEMBER_REVIEW, 7), -300), Posting(ISSUANCE, 300), kind=EntryKind.REJECT
    )

    assert rejected.lifetime_deltas(7) == (-300, 0)
    assert rejected.balance_changes()[7] == BalanceChange(earned=-300, review=-300)


def test_a_return_takes_its_points_off_lifetime_redeemed_and_leaves_earned() -> None:
    returned = entry(Posting(REDEMPTION, -30), Posting(Account.available(7), 30), kind=EntryKind.RETURN)
    one_point = entry(Posting(REDEMPTION, -1), Posting(Account.available(7), 1), kind=EntryKind.RETURN)

    assert returned.lifetime_deltas(7) == (0, -30)
    assert one_point.lifetime_deltas(7) == (0, -1)


def test_one_point_earned_counts_toward_lifetime_earned() -> None:
    assert entry(Posting(ISSUANCE, -1), Posting(Account.available(7), 1)).lifetime_deltas(7) == (1, 0)


def test_a_transfer_counts_toward_neither_counter_of_either_member() -> None:
    gift = entry(
        Posting(Account.available(7), -50), Posting(Account.available(8), 50), kind=EntryKind.TRANSFER
    )

    assert (gift.lifetime_deltas(7), gift.lifetime_deltas(8)) == ((0, 0), (0, 0))


# --- refusals ---------------------------------------------------------------------------------------


def test_an_entry_s_refusals_say_what_is_wrong() -> None:
    with pytest.raises(UnbalancedEntry, match=r"^an entry needs at least two postings$"):
        entry(Posting(ISSUANCE, 0))
    with pytest.raises(UnbalancedEntry, match=r"^a posting must move points$"):
        entry(Posting(ISSUANCE, -5), Posting(Account.available(7), 5), Posting(REDEMPTION, 0))


# --- debts --------------------------------------------------------------------------------------------


def test_a_debt_of_one_point_is_repaid() -> None:
    booked, kept = with_debt_repaid(_release(7, 100), [NewLot(7, 100, AT, AT)], 7, debt=1)

    assert booked.member_delta(7, AccountKind.MEMBER_AVAILABLE) == 99
    assert booked.member_delta(7, AccountKind.MEMBER_DEBT) == 1
    assert kept == (NewLot(7, 99, AT, AT),)


def test_a_member_who_owes_nothing_books_the_entry_as_it_is() -> None:
    lots = (NewLot(7, 100, AT, AT),)
    release = _release(7, 100)

    assert with_debt_repaid(release, lots, 7, debt=0) == (release, lots)


def test_an_entry_that_credits_one_point_repays_and_one_that_credits_nothing_does_not() -> None:
    one = _release(7, 1)
    pending = entry(Posting(ISSUANCE, -50), Posting(Account(AccountKind.MEMBER_PENDING, 7), 50))

    assert (one.credits_available(7), one.debtors()) == (True, [7])
    assert (pending.credits_available(7), pending.debtors()) == (False, [])


def test_only_the_debtor_s_lots_shrink_and_they_come_first_soonest_expiring_first() -> None:
    gift = entry(
        Posting(Account.available(1), -80),
        Posting(Account.available(2), 80),
        kind=EntryKind.TRANSFER,
        member_id=1,
    )
    june, later = AT.replace(month=6), AT.replace(year=2027)
    lots = [NewLot(3, 10, AT, AT), NewLot(2, 50, AT, later), NewLot(2, 30, AT, june)]

    _, kept = with_debt_repaid(gift, lots, 2, debt=40)

    assert kept == (NewLot(2, 40, AT, later), NewLot(3, 10, AT, AT))


def test_another_member_s_lots_are_never_taken_for_a_debt() -> None:
    gift = entry(
        Posting(Account.available(1), -80),
        Posting(Account.available(2), 80),
        kind=EntryKind.TRANSFER,
        member_id=1,
    )
    # The debtor's own lots hold less than it repays: what is missing is not taken from member 3.
    _, kept = with_debt_repaid(gift, [NewLot(3, 10, AT, AT), NewLot(2, 30, AT, AT)], 2, debt=40)

    assert kept == (NewLot(3, 10, AT, AT),)


# --- balances and their limits ------------------------------------------------------------------------


def test_a_change_adds_to_every_figure_of_a_balance() -> None:
    before = Balance(
        7,
        available=100,
        pending=20,
        held=30,
        lifetime_earned=500,
        lifetime_redeemed=200,
        debt=9,
        under_review=4,
    )
    change = BalanceChange(available=-1, pending=2, held=-3, earned=4, redeemed=5, debt=-6, review=7)

    assert apply_change(before, change) == Balance(7, 99, 22, 27, 504, 205, 3, 11)


def test_a_balance_may_reach_exactly_the_largest_int_and_not_one_point_more() -> None:
    full = Balance(7, MAX_BALANCE, 0, 0, MAX_BALANCE, 0)

    assert within_limits(full)
    assert not within_limits(Balance(7, MAX_BALANCE + 1, 0, 0, 0, 0))
    assert not within_limits(Balance(7, -1, 0, 0, 0, 0))


def test_an_entry_that_would_pass_the_largest_int_is_refused_as_a_limit() -> None:
    nearly = Balance(7, MAX_BALANCE - 10, 0, 0, MAX_BALANCE - 10, 0)
    earn_11 = entry(Posting(ISSUANCE, -11), Posting(Account.available(7), 11))
    earn_10 = entry(Posting(ISSUANCE, -10), Posting(Account.available(7), 10))

    refusal = balance_refusal(earn_11, nearly)
    assert type(refusal) is LimitReached
    assert refusal.message == f"a member's balance cannot exceed {MAX_BALANCE} points"
    # Reaching the limit exactly is no overflow: what is refused then is a lack of points.
    assert type(balance_refusal(earn_10, nearly)) is InsufficientPoints


def test_an_entry_refused_for_a_member_it_does_not_touch_is_a_lack_of_points() -> None:
    other = Balance(8, 0, 0, 0, 0, 0)
    refusal = balance_refusal(entry(Posting(ISSUANCE, -5), Posting(Account.available(7), 5)), other)

    assert type(refusal) is InsufficientPoints
    assert refusal.message == "not enough points available"
    assert type(balance_refusal(_release(7, 5), None)) is InsufficientPoints
