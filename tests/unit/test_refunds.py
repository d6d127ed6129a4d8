"""The arithmetic of refunds, without a database: cumulative proportional shares that never drift,
the funders' split, and where reversed points come from."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Validation
from domain.ledger import Account, AccountKind, EntryKind, OriginType
from domain.lots import LotDraw, PointsLot
from domain.money import Money
from domain.offers import FundedCost, FunderKind
from domain.refunds import (
    AwardUsage,
    GiveBack,
    RefundablePurchase,
    Reversal,
    apportion,
    award_net,
    cumulative_share,
    funders_returns,
    give_back,
    plan_reversal,
    points_to_reverse,
    refund_amount,
    refund_description,
    refund_entry,
)

NOW = datetime(2024, 3, 1, tzinfo=UTC)
ISSUANCE = Account(AccountKind.ISSUANCE)
BANK = Account(AccountKind.PARTNER_FUNDING, 7)
SHOP = Account(AccountKind.MERCHANT_FUNDING, 3)


def purchase(
    amount: int = 12_345, earned: int = 123, pending: int = 0, refunded: int = 0, points_refunded: int = 0
) -> RefundablePurchase:
    return RefundablePurchase(1, 10, 20, Money(amount, "CNY"), earned, pending, refunded, points_refunded)


def lot(lot_id: int, remaining: int, days: int) -> PointsLot:
    return PointsLot(lot_id, 10, remaining, remaining, NOW, NOW + timedelta(days=days))


def refund_in_turn(p: RefundablePurchase, amounts: list[int]) -> list[int]:
    """The points each refund of `amounts`, one after the other, takes back."""
    taken = []
    for amount in amounts:
        points = points_to_reverse(p, amount)
        taken.append(points.points)
        p = RefundablePurchase(
            p.id,
            p.member_id,
            p.merchant_id,
            p.amount,
            p.points_earned,
            p.points_pending - points.from_pending,
            p.refunded_minor + amount,
            points.points_refunded,
        )
    return taken


# --- how much money, and how many points ---------------------------------------------------------


def test_no_amount_means_all_that_is_left() -> None:
    assert refund_amount(purchase(refunded=9_876), None) == 2_469
    assert refund_amount(purchase(), Money(100, "cny")) == 100


@pytest.mark.parametrize(
    ("p", "requested", "field", "message"),
    [
        (
            purchase(refunded=9_876),
            Money(4_938, "CNY"),
            ("amount",),
            "only 24.69 CNY of the purchase is left to refund",
        ),
        (purchase(refunded=12_345), None, ("amount",), "the purchase is already fully refunded"),
        (purchase(), Money(100, "HKD"), ("amount", "currency"), "the purchase was paid in CNY"),
        (purchase(), Money(0, "CNY"), ("amount", "amountMinor"), "must be greater than zero"),
    ],
)
def test_a_refund_beyond_the_purchase_or_in_another_currency_is_refused(
    p: RefundablePurchase, requested: Money | None, field: tuple[str, ...], message: str
) -> None:
    with pytest.raises(Validation) as refused:
        refund_amount(p, requested)
    assert (refused.value.message, refused.value.field) == (message, field)


def test_the_last_cent_of_a_purchase_can_be_refunded() -> None:
    assert refund_amount(purchase(refunded=12_344), None) == 1
    assert refund_amount(purchase(refunded=12_300), Money(1, "CNY")) == 1
    assert refund_amount(purchase(refunded=12_344), Money(1, "CNY")) == 1


def test_a_share_goes_from_nothing_to_the_whole_and_refuses_anything_outside() -> None:
    assert cumulative_share(123, 0, 12_345) == 0
    assert cumulative_share(123, 12_345, 12_345) == 123
    assert cumulative_share(7, 1, 1) == 7  # a purchase of one cent, refunded
    for refunded, amount in ((-1, 100), (101, 100), (0, 0)):
        with pytest.raises(ValueError, match=f"^refunded {refunded} out of {amount}$"):
            cumulative_share(10, refunded, amount)


def test_refunds_that_give_more_than_their_share_back_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"^purchase 1 has had more points refunded than its refunds give$"):
        points_to_reverse(purchase(points_refunded=50), 100)


def test_points_are_reversed_cumulatively_so_rounding_never_drifts() -> None:
    # 40%, 40%, then the rest: 123 * 4938 // 12345 = 49; 123 * 9876 // 12345 = 98; then 123.
    assert refund_in_turn(purchase(), [4_938, 4_938, 2_469]) == [49, 49, 25]
    # A hundred refunds of one cent each of a 1.00 purchase that earned 1 point: only the last takes it.
    assert refund_in_turn(purchase(amount=100, earned=1), [1] * 100) == [0] * 99 + [1]


@pytest.mark.parametrize("earned", [0, 1, 7, 99, 123, 2**31 - 1])
def test_however_a_purchase_is_split_its_refunds_take_back_exactly_what_it_earned(earned: int) -> None:
    for cuts in ([1_000] * 10, [1, 2, 3, 9_994], [3_333, 3_333, 3_334], [10_000]):
        taken = refund_in_turn(purchase(amount=10_000, earned=earned), cuts)
        assert sum(taken) == earned
        assert all(points >= 0 for points in taken)


def test_pending_points_are_reversed_first() -> None:
    points = points_to_reverse(purchase(amount=12_300, earned=123, pending=123), 5_000)
    assert (points.points, points.points_refunded, points.from_pending) == (50, 50, 50)
    partly = points_to_reverse(purchase(amount=10_000, earned=100, pending=30), 10_000)
    assert (partly.points, partly.from_pending) == (100, 30)


# --- where the points come from ------------------------------------------------------------------


def test_the_purchases_own_lots_go_before_the_members_others_then_a_debt() -> None:
    own = [lot(5, 20, days=300)]
    members = [lot(1, 30, days=10), lot(2, 25, days=5), *own]

    reversal = plan_reversal(100, 0, own, members)

    assert reversal.draws == (LotDraw(5, 20), LotDraw(2, 25), LotDraw(1, 30))
    assert (reversal.from_available, reversal.debt, reversal.points) == (75, 25, 100)


def test_a_spent_lot_of_the_purchase_is_passed_over_for_the_members_others() -> None:
    spent = lot(5, 0, days=300)

    reversal = plan_reversal(5, 0, [spent], [spent, lot(1, 10, days=10)])

    assert (reversal.draws, reversal.debt) == ((LotDraw(1, 5),), 0)


def test_pending_then_lots_and_nothing_owed_when_the_points_are_there() -> None:
    reversal = plan_reversal(50, 30, [lot(5, 100, days=300)], [lot(1, 10, days=1)])
    assert reversal == Reversal(30, (LotDraw(5, 20),), 0)


def test_a_member_with_nothing_owes_it_all() -> None:
    assert plan_reversal(40, 0, [], []) == Reversal(0, (), 40)


# --- back to the funders -------------------------------------------------------------------------


def test_apportion_gives_each_part_its_share_and_all_of_it_at_the_end() -> None:
    assert apportion([126, 62], 56) == [38, 18]
    assert apportion([126, 62], 188) == [126, 62]
    assert apportion([1, 1, 1], 2) == [1, 1, 0]  # ties go to the earlier part
    assert apportion([0, 5], 3) == [0, 3]
    assert apportion([], 0) == []
    assert apportion([0, 0], 0) == [0, 0]  # nothing was paid: nothing to give back
    assert apportion([1, 0], 1) == [1, 0]
    assert apportion([0, 1], 1) == [0, 1]
    with pytest.raises(ValueError, match="cannot split"):
        apportion([1, 2], 4)


@pytest.mark.parametrize("weights", [(1, 1, 1), (2, 3), (5, 2, 1), (1, 4, 4, 2), (7, 0, 3), (10,)])
def test_apportion_never_takes_back_what_it_gave_and_stays_within_one_of_the_quota(
    weights: tuple[int, ...],
) -> None:
    whole = sum(weights)
    previous = [0] * len(weights)
    for total in range(whole + 1):
        parts = apportion(weights, total)
        assert sum(parts) == total
        assert all(now >= before for now, before in zip(parts, previous, strict=True))
        assert all(w * total // whole <= part for w, part in zip(weights, parts, strict=True))
        previous = parts
    assert previous == list(weights)


def test_three_refunds_give_every_funder_a_non_negative_part_and_all_it_paid_in_the_end() -> None:
    # 4, 3 and 2 points: giving the first funder what flooring leaves it would step backwards here
    # (5 of 8 points, then 4 of 9).
    funding = [(ISSUANCE, 4), (BANK, 3), (SHOP, 2)]
    for cuts in itertools.combinations(range(1, 9), 2):
        returned = {ISSUANCE: 0, BANK: 0, SHOP: 0}
        for before, after in itertools.pairwise([0, *cuts, 9]):
            step = funders_returns(funding, before, after)
            assert all(points > 0 for _, points in step)
            assert sum(points for _, points in step) == after - before
            for account, points in step:
                returned[account] += points
        assert returned == dict(funding)


def test_funders_get_back_in_proportion_and_exactly_what_they_paid_when_all_is_refunded() -> None:
    funding = [(ISSUANCE, 126), (BANK, 62)]

    first = funders_returns(funding, 0, 56)
    rest = funders_returns(funding, 56, 188)

    assert first == [(ISSUANCE, 38), (BANK, 18)]
    assert rest == [(ISSUANCE, 88), (BANK, 44)]


# --- the journal entry ---------------------------------------------------------------------------


def test_the_refund_entry_takes_from_pending_available_and_debt_and_balances() -> None:
    reversal = Reversal(10, (LotDraw(1, 20), LotDraw(2, 5)), 15)
    entry = refund_entry(10, 99, reversal, [(ISSUANCE, 38), (BANK, 12)], "Refunded")

    assert (entry.kind, entry.member_id, entry.origin_type, entry.origin_id, entry.description) == (
        EntryKind.REFUND,
        10,
        OriginType.REFUND,
        99,
        "Refunded",
    )
    assert [(p.account.kind, p.amount) for p in entry.postings] == [
        (AccountKind.MEMBER_PENDING, -10),
        (AccountKind.MEMBER_AVAILABLE, -25),
        (AccountKind.MEMBER_DEBT, -15),
        (AccountKind.ISSUANCE, 38),
        (AccountKind.PARTNER_FUNDING, 12),
    ]
    change = entry.balance_changes()[10]
    assert (change.available, change.pending, change.debt, change.earned) == (-25, -10, 15, -50)


def test_the_description_says_what_was_refunded_and_what_is_owed() -> None:
    assert refund_description("Noodle Bar", Money(12_000, "CNY"), 0) == "Refunded at Noodle Bar: 120.00 CNY"
    assert (
        refund_description("Sushi", Money(5_000, "JPY"), 30) == "Refunded at Sushi: 5000 JPY (30 points owed)"
    )


# --- offers --------------------------------------------------------------------------------------


def test_an_offer_gets_its_budget_back_in_proportion_and_its_use_once_complete() -> None:
    award = AwardUsage(
        1,
        4,
        points=30,
        money_minor=1_000,
        refunded_points=0,
        refunded_money_minor=0,
        use_returned=False,
        cap_period_start=NOW,
    )

    half = give_back(award, 10_000, 5_000)
    assert half is not None
    assert (half.points, half.money_minor, half.use) == (15, 500, False)

    later = AwardUsage(1, 4, 30, 1_000, 15, 500, False, NOW)
    full = give_back(later, 10_000, 10_000)
    assert full is not None
    assert (full.points, full.money_minor, full.use, full.cap_period_start) == (15, 500, True, NOW)

    assert give_back(AwardUsage(1, 4, 30, 1_000, 30, 1_000, True, NOW), 10_000, 10_000) is None
    assert give_back(AwardUsage(1, 4, 3, 0, 0, 0, False, None), 10_000, 100) is None  # rounds to nothing


def test_an_award_of_points_alone_or_money_alone_gets_its_part_back() -> None:
    points_only = AwardUsage(7, 4, points=30, money_minor=0, refunded_points=0, refunded_money_minor=0,
                             use_returned=False, cap_period_start=None)  # fmt: skip
    assert give_back(points_only, 10_000, 5_000) == GiveBack(7, 4, 15, 0, False, None)
    money_only = AwardUsage(8, 5, points=0, money_minor=1_000, refunded_points=0, refunded_money_minor=0,
                            use_returned=False, cap_period_start=NOW)  # fmt: skip
    assert give_back(money_only, 10_000, 5_000) == GiveBack(8, 5, 0, 500, False, NOW)
    # Nothing left to give but the use, once the purchase is all refunded.
    used = AwardUsage(9, 6, 30, 1_000, 30, 1_000, False, NOW)
    assert give_back(used, 10_000, 10_000) == GiveBack(9, 6, 0, 0, True, NOW)


def test_an_awards_net_splits_what_refunds_gave_back_so_the_parts_add_up() -> None:
    funding = [
        FundedCost(FunderKind.MERCHANT, 3, 13, 251),
        FundedCost(FunderKind.PARTNER, 4, 27, 500),
    ]

    net = award_net(600, 151, funding, refunded_points=7, refunded_money_minor=75)

    assert (net.discount_minor, net.cashback_minor) == (540, 136)  # 60 / 15 of the 75 back
    assert net.funding == (
        FundedCost(FunderKind.MERCHANT, 3, 11, 226),
        FundedCost(FunderKind.PARTNER, 4, 22, 450),
    )
    assert sum(f.points for f in net.funding) == 40 - 7
    assert sum(f.money_minor for f in net.funding) == net.discount_minor + net.cashback_minor == 751 - 75
    nothing_back = award_net(600, 151, funding, 0, 0)
    all_back = award_net(600, 151, funding, 40, 751)
    assert (nothing_back.discount_minor, nothing_back.cashback_minor, nothing_back.funding) == (
        600,
        151,
        tuple(funding),
    )
    assert (all_back.discount_minor, all_back.cashback_minor) == (0, 0)
    assert all(f.points == f.money_minor == 0 for f in all_back.funding)
