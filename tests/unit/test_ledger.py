"""The journal entry: postings that balance, the member accounts they touch, lifetime counters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.ledger import (
    Account,
    AccountKind,
    EntryKind,
    JournalEntry,
    OriginType,
    Posting,
    UnbalancedEntry,
    transfer,
    with_debt_repaid,
)
from domain.lots import NewLot

ISSUANCE = Account(AccountKind.ISSUANCE)
REDEMPTION = Account(AccountKind.REDEMPTION)
ADJUSTMENT = Account(AccountKind.ADJUSTMENT)
EXPIRY = Account(AccountKind.EXPIRY)


def entry(*postings: Posting, kind: EntryKind = EntryKind.EARN, member_id: int = 7) -> JournalEntry:
    return JournalEntry(
        kind=kind,
        member_id=member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=1,
        description="test",
        postings=postings,
    )


def test_an_entry_whose_postings_do_not_sum_to_zero_is_refused() -> None:
    with pytest.raises(UnbalancedEntry, match="sum to 1"):
        entry(Posting(ISSUANCE, -100), Posting(Account.available(7), 101))


def test_an_entry_needs_at_least_two_postings() -> None:
    with pytest.raises(UnbalancedEntry, match="at least two"):
        entry(Posting(ISSUANCE, 100))
    with pytest.raises(UnbalancedEntry, match="at least two"):
        entry()


def test_a_posting_of_zero_points_is_refused_even_when_the_entry_balances() -> None:
    with pytest.raises(UnbalancedEntry, match="must move points"):
        entry(Posting(ISSUANCE, 0), Posting(Account.available(7), 0))
    with pytest.raises(UnbalancedEntry, match="must move points"):
        entry(Posting(ISSUANCE, -5), Posting(Account.available(7), 5), Posting(REDEMPTION, 0))


def test_a_three_legged_entry_that_balances_is_accepted() -> None:
    made = entry(Posting(ISSUANCE, -80), Posting(ADJUSTMENT, -20), Posting(Account.available(7), 100))

    assert sum(p.amount for p in made.postings) == 0
    assert made.member_delta(7, AccountKind.MEMBER_AVAILABLE) == 100


def test_transfer_moves_points_from_source_to_destination() -> None:
    # when
    made = transfer(
        kind=EntryKind.REDEEM,
        member_id=7,
        origin_type=OriginType.REDEMPTION,
        origin_id=42,
        source=Account.available(7),
        destination=REDEMPTION,
        points=250,
        description="Redeemed for a mug",
    )

    # then
    assert made.postings == (Posting(Account.available(7), -250), Posting(REDEMPTION, 250))
    assert (made.kind, made.member_id, made.origin_type, made.origin_id, made.description) == (
        EntryKind.REDEEM,
        7,
        OriginType.REDEMPTION,
        42,
        "Redeemed for a mug",
    )
    assert made.member_delta(7, AccountKind.MEMBER_AVAILABLE) == -250
    assert made.member_ids() == [7]


def test_transfer_of_zero_points_is_refused() -> None:
    with pytest.raises(UnbalancedEntry, match="must move points"):
        transfer(
            kind=EntryKind.EARN,
            member_id=7,
            origin_type=OriginType.PURCHASE,
            origin_id=1,
            source=ISSUANCE,
            destination=Account.available(7),
            points=0,
            description="nothing",
        )


def test_member_ids_are_the_touched_members_in_id_order_without_system_accounts() -> None:
    # given points moving between three members' accounts and a system account
    made = entry(
        Posting(Account.available(30), -12),
        Posting(Account(AccountKind.MEMBER_PENDING, 4), 3),
        Posting(Account.available(12), 5),
        Posting(Account(AccountKind.MEMBER_HELD, 30), 2),
        Posting(Account(AccountKind.PARTNER_FUNDING, 99), 2),
    )

    # then each member once, ascending (the global lock order); the partner's account is not a member's
    assert made.member_ids() == [4, 12, 30]


def test_an_entry_between_system_accounts_touches_no_member() -> None:
    made = entry(Posting(Account(AccountKind.PARTNER_FUNDING, 3), -10), Posting(ISSUANCE, 10))

    assert made.member_ids() == []


def test_member_delta_sums_one_account_of_one_member() -> None:
    made = entry(
        Posting(Account.available(7), -30),
        Posting(Account(AccountKind.MEMBER_HELD, 7), 30),
        Posting(Account.available(8), -5),
        Posting(REDEMPTION, 5),
    )

    assert made.member_delta(7, AccountKind.MEMBER_AVAILABLE) == -30
    assert made.member_delta(7, AccountKind.MEMBER_HELD) == 30
    assert made.member_delta(7, AccountKind.MEMBER_PENDING) == 0
    assert made.member_delta(8, AccountKind.MEMBER_AVAILABLE) == -5
    assert made.member_delta(9, AccountKind.MEMBER_AVAILABLE) == 0


def test_earning_counts_toward_lifetime_earned_including_pending() -> None:
    made = entry(
        Posting(ISSUANCE, -150),
        Posting(Account.available(7), 100),
        Posting(Account(AccountKind.MEMBER_PENDING, 7), 50),
    )

    assert made.lifetime_deltas(7) == (150, 0)
    assert made.lifetime_deltas(8) == (0, 0)


def test_a_positive_adjustment_counts_as_earned_and_a_negative_one_counts_as_nothing() -> None:
    credit = entry(Posting(ADJUSTMENT, -40), Posting(Account.available(7), 40), kind=EntryKind.ADJUST)
    debit = entry(Posting(Account.available(7), -40), Posting(ADJUSTMENT, 40), kind=EntryKind.ADJUST)

    assert credit.lifetime_deltas(7) == (40, 0)
    assert debit.lifetime_deltas(7) == (0, 0)


def test_redeeming_counts_toward_lifetime_redeemed() -> None:
    made = entry(Posting(Account.available(7), -250), Posting(REDEMPTION, 250), kind=EntryKind.REDEEM)

    assert made.lifetime_deltas(7) == (0, 250)


def test_expiry_and_moves_within_the_member_count_toward_neither_counter() -> None:
    expired = entry(Posting(Account.available(7), -60), Posting(EXPIRY, 60), kind=EntryKind.EXPIRE)
    matured = entry(
        Posting(Account(AccountKind.MEMBER_PENDING, 7), -25),
        Posting(Account.available(7), 25),
        kind=EntryKind.EARN,
    )

    assert expired.lifetime_deltas(7) == (0, 0)
    assert matured.lifetime_deltas(7) == (0, 0)  # pending -> available is not a new earning


def _release(member_id: int, points: int) -> JournalEntry:
    return transfer(
        kind=EntryKind.RELEASE,
        member_id=member_id,
        origin_type=OriginType.REDEMPTION,
        origin_id=1,
        source=Account(AccountKind.MEMBER_HELD, member_id),
        destination=Account.available(member_id),
        points=points,
        description="Released",
    )


def test_what_comes_to_a_member_who_owes_repays_the_debt_from_its_soonest_lots_first() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    lots = [NewLot(7, 60, at, at.replace(year=2027)), NewLot(7, 40, at, at.replace(year=2026, month=6))]

    booked, kept = with_debt_repaid(_release(7, 100), lots, 7, debt=70)

    assert booked.member_delta(7, AccountKind.MEMBER_AVAILABLE) == 30
    assert booked.member_delta(7, AccountKind.MEMBER_DEBT) == 70
    assert booked.balance_changes()[7].debt == -70
    assert kept == (NewLot(7, 30, at, at.replace(year=2027)),)  # the June lot went first, then 30 more
    assert booked.description == "Released (70 repaid points owed)"


def test_a_debt_larger_than_the_credit_takes_it_all_and_no_lot_is_left() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    booked, kept = with_debt_repaid(_release(7, 100), [NewLot(7, 100, at, at)], 7, debt=500)

    assert booked.member_delta(7, AccountKind.MEMBER_AVAILABLE) == 0
    assert booked.member_delta(7, AccountKind.MEMBER_DEBT) == 100
    assert kept == ()


def test_only_the_indebted_receiver_repays_and_an_entry_is_repaid_once() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    gift = JournalEntry(
        kind=EntryKind.TRANSFER,
        member_id=1,
        origin_type=OriginType.TRANSFER,
        origin_id=1,
        description="Transfer",
        postings=(Posting(Account.available(1), -50), Posting(Account.available(2), 50)),
    )
    receiver_lot = NewLot(2, 50, at, at)

    booked, kept = with_debt_repaid(gift, [receiver_lot], 2, debt=20)
    again, kept_again = with_debt_repaid(booked, kept, 2, debt=20)

    assert gift.debtors() == [2]
    assert booked.debtors() == []
    assert (again, kept_again) == (booked, kept)
    assert booked.member_delta(1, AccountKind.MEMBER_AVAILABLE) == -50
    assert kept == (NewLot(2, 30, at, at),)
    assert with_debt_repaid(gift, [receiver_lot], 1, debt=20) == (gift, (receiver_lot,))  # 1 only gives
