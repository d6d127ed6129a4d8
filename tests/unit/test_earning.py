"""How a purchase earns (domain/earning.py): when it may be dated, what it earns, and the exact
journal entries that give the points (earn, mature, bonus), leg by leg."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.earning import (
    FUTURE_TOLERANCE,
    MAX_BACKDATING,
    Earning,
    bonus_entry,
    earn_entry,
    earn_lot,
    earn_rate,
    earning,
    mature_entry,
    purchase_time,
)
from domain.errors import Validation
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting
from domain.lots import NewLot
from domain.merchants import Channel, Merchant, MerchantCategory, MerchantChannel
from domain.money import MAX_INT, Money
from domain.offers import FundedCost, FunderKind, FundingShare
from domain.programme import Programme

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PROGRAMME = Programme(
    name="P", points_validity_months=12, earn_rates={"CNY": Decimal(1), "JPY": Decimal("0.1")}
)
SHOP = Merchant(7, "Tea House", MerchantCategory.DINING, MerchantChannel.BOTH, None, None, NOW)
ISSUANCE = Account(AccountKind.ISSUANCE)


def refusal(error: pytest.ExceptionInfo[Validation]) -> tuple[str, tuple[str, ...] | None]:
    return error.value.message, error.value.field


# --- purchase_time --------------------------------------------------------------------------------


def test_a_purchase_without_a_time_happened_now() -> None:
    assert purchase_time(None, NOW) == NOW


def test_a_purchase_time_needs_a_time_zone() -> None:
    with pytest.raises(Validation) as error:
        purchase_time(datetime(2026, 11, 25, 11, 0), NOW, "lines.time")
    assert refusal(error) == ("needs a time zone offset", ("lines.time",))


def test_a_purchase_may_be_dated_up_to_the_clock_tolerance_ahead_and_not_a_microsecond_more() -> None:
    latest = NOW + FUTURE_TOLERANCE
    assert purchase_time(latest, NOW) == latest
    with pytest.raises(Validation) as error:
        purchase_time(latest + timedelta(microseconds=1), NOW)
    assert refusal(error) == ("a purchase cannot happen in the future", ("occurredAt",))
    # A moment within the tolerance, in another offset, is the same instant.
    local = (NOW + timedelta(minutes=4)).astimezone(timezone(timedelta(hours=8)))
    assert purchase_time(local, NOW) == local


def test_a_purchase_may_be_dated_back_exactly_ninety_days_and_not_a_microsecond_more() -> None:
    earliest = NOW - MAX_BACKDATING
    assert purchase_time(earliest, NOW) == earliest
    with pytest.raises(Validation) as error:
        purchase_time(earliest - timedelta(microseconds=1), NOW)
    assert refusal(error) == ("a purchase may be dated at most 90 days back", ("occurredAt",))
    # The tolerance for the future does not extend the past.
    assert purchase_time(NOW - timedelta(days=89), NOW) == NOW - timedelta(days=89)


# --- earning ----------------------------------------------------------------------------------------


def test_a_purchase_earns_the_base_rate_times_the_tier_multiplier_rounded_down_once() -> None:
    assert earning(PROGRAMME, SHOP, Money(12_399, "CNY"), Channel.ONLINE) == Earning(
        Money(12_399, "CNY"), Channel.ONLINE, 123
    )
    # 123.99 x 1.5 = 185.985: one rounding, down.
    assert earning(PROGRAMME, SHOP, Money(12_399, "CNY"), Channel.OFFLINE, Decimal("1.5")).points == 185
    assert earn_rate(PROGRAMME, SHOP, "JPY", Decimal(2)) == Decimal("0.2")


def test_the_currency_is_normalised_before_it_earns() -> None:
    assert earning(PROGRAMME, SHOP, Money(1_000, " jpy"), Channel.ONLINE).amount == Money(1_000, "JPY")


def test_without_a_channel_an_online_merchant_sells_online_and_the_others_offline() -> None:
    online = Merchant(8, "Web Shop", MerchantCategory.RETAIL, MerchantChannel.ONLINE, None, None, NOW)
    offline = Merchant(9, "Kiosk", MerchantCategory.RETAIL, MerchantChannel.OFFLINE, None, None, NOW)
    assert earning(PROGRAMME, online, Money(100, "CNY"), None).channel is Channel.ONLINE
    assert earning(PROGRAMME, offline, Money(100, "CNY"), None).channel is Channel.OFFLINE
    assert earning(PROGRAMME, SHOP, Money(100, "CNY"), None).channel is Channel.OFFLINE


def test_a_merchant_refuses_a_channel_it_does_not_sell_on() -> None:
    kiosk = Merchant(9, "Kiosk", MerchantCategory.RETAIL, MerchantChannel.OFFLINE, None, None, NOW)
    with pytest.raises(Validation) as error:
        earning(PROGRAMME, kiosk, Money(100, "CNY"), Channel.ONLINE)
    assert refusal(error) == ("this merchant does not sell online", ("channel",))


def test_a_non_positive_amount_is_refused_on_its_amount_minor_field() -> None:
    with pytest.raises(Validation) as error:
        earning(PROGRAMME, SHOP, Money(0, "CNY"), Channel.ONLINE)
    assert refusal(error) == ("must be greater than zero", ("amount", "amountMinor"))


def test_a_purchase_may_earn_exactly_the_largest_int_and_not_one_point_more() -> None:
    # At 1 point per yuan, MAX_INT yuan earns MAX_INT points; the amount itself must fit too, so the
    # rate does the multiplying.
    rich = Programme(name="P", points_validity_months=12, earn_rates={"CNY": Decimal(MAX_INT)})
    assert earning(rich, SHOP, Money(100, "CNY"), Channel.ONLINE).points == MAX_INT
    with pytest.raises(Validation) as error:
        earning(rich, SHOP, Money(101, "CNY"), Channel.ONLINE)
    assert refusal(error) == (
        "this amount earns more points than one purchase may",
        ("amount", "amountMinor"),
    )


# --- the entries ------------------------------------------------------------------------------------


def test_an_earn_entry_credits_the_available_account_from_issuance() -> None:
    entry = earn_entry(5, 41, 120, SHOP)
    assert entry == JournalEntry(
        kind=EntryKind.EARN,
        member_id=5,
        origin_type=OriginType.PURCHASE,
        origin_id=41,
        description="Earned at Tea House",
        postings=(Posting(ISSUANCE, -120), Posting(Account.available(5), 120)),
    )


def test_a_pending_earn_entry_credits_the_pending_account_and_says_until_when() -> None:
    entry = earn_entry(5, 41, 120, SHOP, pending_until=datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert entry.description == "Earned at Tea House, pending until 2026-12-02"
    assert entry.postings == (Posting(ISSUANCE, -120), Posting(Account(AccountKind.MEMBER_PENDING, 5), 120))


def test_a_held_earn_entry_credits_the_review_account_even_within_a_return_window() -> None:
    entry = earn_entry(5, 41, 120, SHOP, pending_until=datetime(2026, 12, 2, tzinfo=UTC), held=True)
    assert entry.description == "Earned at Tea House, held for risk review"
    assert entry.postings == (Posting(ISSUANCE, -120), Posting(Account(AccountKind.MEMBER_REVIEW, 5), 120))


def test_offer_points_come_from_their_funders_and_the_rest_from_issuance() -> None:
    funded = (
        FundedCost(FunderKind.MERCHANT, 7, 30, 0),
        FundedCost(FunderKind.PARTNER, 2, 20, 500),
        FundedCost(FunderKind.MERCHANT, 7, 5, 0),  # a second offer funded by the same merchant
        FundedCost(FunderKind.PARTNER, 3, 0, 900),  # money only: no points leg
        FundedCost(FunderKind.PROGRAMME, None, 15, 0),
    )
    entry = earn_entry(5, 41, 200, SHOP, funded)
    assert entry.postings == (
        Posting(Account(AccountKind.MERCHANT_FUNDING, 7), -35),
        Posting(Account(AccountKind.PARTNER_FUNDING, 2), -20),
        Posting(ISSUANCE, -145),
        Posting(Account.available(5), 200),
    )


def test_points_wholly_funded_by_a_partner_leave_no_issuance_leg() -> None:
    entry = earn_entry(5, 41, 50, SHOP, (FundedCost(FunderKind.PARTNER, 2, 50, 0),))
    assert entry.postings == (
        Posting(Account(AccountKind.PARTNER_FUNDING, 2), -50),
        Posting(Account.available(5), 50),
    )


def test_a_mature_entry_moves_pending_points_to_available() -> None:
    assert mature_entry(5, 41, 120) == JournalEntry(
        kind=EntryKind.MATURE,
        member_id=5,
        origin_type=OriginType.PURCHASE,
        origin_id=41,
        description="Pending points now available (return window over)",
        postings=(Posting(Account(AccountKind.MEMBER_PENDING, 5), -120), Posting(Account.available(5), 120)),
    )


def test_a_bonus_entry_splits_its_points_between_the_offer_funders() -> None:
    funding = (FundingShare(FunderKind.PARTNER, 2, 70), FundingShare(FunderKind.PROGRAMME, None, 30))
    assert bonus_entry(5, 88, 101, funding, "Sign-up bonus") == JournalEntry(
        kind=EntryKind.EARN,
        member_id=5,
        origin_type=OriginType.AWARD,
        origin_id=88,
        description="Sign-up bonus",
        # 70% of 101 = 70.7 -> 70, 30% = 30.3 -> 30; the point rounding leaves goes to the first share.
        postings=(
            Posting(Account(AccountKind.PARTNER_FUNDING, 2), -71),
            Posting(ISSUANCE, -30),
            Posting(Account.available(5), 101),
        ),
    )


def test_an_earned_lot_expires_by_the_programme_policy() -> None:
    assert earn_lot(5, 120, NOW, PROGRAMME) == NewLot(5, 120, NOW, datetime(2027, 11, 25, 12, 0, tzinfo=UTC))
