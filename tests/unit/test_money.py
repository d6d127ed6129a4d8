"""Earn arithmetic (integers, round down), rate parsing, base points, and expiry dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import ErrorCode, Validation
from domain.merchants import Merchant, MerchantCategory, MerchantChannel
from domain.money import Money, format_money, parse_rate, points_for_spend
from domain.programme import Programme, add_months

FIELD = ("earnRateOverride",)


@pytest.mark.parametrize(
    ("amount", "rate", "points"),
    [
        (Money(1999, "CNY"), Decimal(1), 19),  # 19.99 yuan -> 19 points, never 20
        (Money(2000, "CNY"), Decimal(1), 20),
        (Money(99, "CNY"), Decimal(1), 0),  # less than one unit earns nothing
        (Money(1999, "CNY"), Decimal("1.5"), 29),  # 29.985
        (Money(1000, "CNY"), Decimal("1.5"), 15),
        (Money(1999, "JPY"), Decimal(1), 1999),  # JPY has no minor units
        (Money(1999, "JPY"), Decimal("0.01"), 19),  # 19.99
        (Money(1, "KRW"), Decimal("0.9999"), 0),
        (Money(123456, "HKD"), Decimal("0.0001"), 0),  # 0.123456
        (Money(2**31 - 1, "USD"), Decimal(10_000), 214_748_364_700),  # exact, no float error
        (Money(5000, "EUR"), Decimal(0), 0),
    ],
)
def test_points_for_spend_rounds_down_to_whole_points(amount: Money, rate: Decimal, points: int) -> None:
    earned = points_for_spend(amount, rate)

    assert earned == points
    assert type(earned) is int


def test_points_for_spend_in_a_currency_without_minor_units_table_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        points_for_spend(Money(100, "XYZ"), Decimal(1))


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1", Decimal(1)),
        ("1.5", Decimal("1.5")),
        ("0", Decimal(0)),
        ("0.0001", Decimal("0.0001")),
        ("10000", Decimal(10000)),
        ("2.2500", Decimal("2.25")),
        (Decimal("3.75"), Decimal("3.75")),
    ],
)
def test_parse_rate_accepts_non_negative_decimals_with_up_to_four_places(
    text: str | Decimal, rate: Decimal
) -> None:
    assert parse_rate(text, FIELD) == rate


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "rate must be a decimal number"),
        ("", "rate must be a decimal number"),
        ("1,5", "rate must be a decimal number"),
        ("-0.5", "rate must be between 0 and 10000"),
        ("10000.0001", "rate must be between 0 and 10000"),
        ("NaN", "rate must be between 0 and 10000"),
        ("Infinity", "rate must be between 0 and 10000"),
        ("1.23456", "rate has at most 4 decimal places"),
    ],
)
def test_parse_rate_refuses_anything_else_with_the_field_path(text: str, message: str) -> None:
    with pytest.raises(Validation) as raised:
        parse_rate(text, FIELD)

    assert raised.value.code is ErrorCode.VALIDATION
    assert raised.value.field == FIELD
    assert raised.value.message == message


def merchant(override: Decimal | None) -> Merchant:
    return Merchant(
        1,
        "Tea House",
        MerchantCategory.DINING,
        MerchantChannel.BOTH,
        None,
        override,
        datetime(2024, 1, 1, tzinfo=UTC),
    )


PROGRAMME = Programme(
    name="Test", points_validity_months=24, earn_rates={"CNY": Decimal(1), "JPY": Decimal("0.05")}
)


def test_base_points_use_the_programme_rate_for_the_currency() -> None:
    assert PROGRAMME.base_points(Money(1999, "CNY"), merchant(None)) == 19
    assert PROGRAMME.base_points(Money(1999, "JPY"), merchant(None)) == 99  # 99.95


def test_base_points_use_the_merchant_override_instead_of_the_programme_rate() -> None:
    assert PROGRAMME.base_points(Money(1999, "CNY"), merchant(Decimal(3))) == 59  # 59.97
    assert PROGRAMME.base_points(Money(1999, "CNY"), merchant(Decimal("0.5"))) == 9  # 9.995


def test_a_merchant_override_of_zero_earns_nothing() -> None:
    assert PROGRAMME.base_points(Money(1999, "CNY"), merchant(Decimal(0))) == 0


def test_the_programme_currencies_are_those_with_an_earn_rate() -> None:
    assert PROGRAMME.currencies == frozenset({"CNY", "JPY"})


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2024, 1, 15), 1, datetime(2024, 2, 15)),
        (datetime(2023, 1, 31), 1, datetime(2023, 2, 28)),  # clamped to February's last day
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),  # leap year
        (datetime(2024, 2, 29), 12, datetime(2025, 2, 28)),  # leap day into a common year
        (datetime(2024, 2, 29), 24, datetime(2026, 2, 28)),
        (datetime(2024, 2, 29), 48, datetime(2028, 2, 29)),
        (datetime(2024, 3, 31), 1, datetime(2024, 4, 30)),
        (datetime(2024, 11, 30), 3, datetime(2025, 2, 28)),  # across a year end
        (datetime(2024, 12, 31), 2, datetime(2025, 2, 28)),
        (datetime(2024, 12, 15), 1, datetime(2025, 1, 15)),
        (datetime(2024, 5, 10), 0, datetime(2024, 5, 10)),
        (datetime(2024, 3, 31), -1, datetime(2024, 2, 29)),
    ],
)
def test_add_months_keeps_the_day_clamped_to_the_end_of_the_month(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_months(start, months) == expected


def test_add_months_keeps_the_time_of_day_and_the_time_zone() -> None:
    shanghai = timezone(timedelta(hours=8))
    start = datetime(2024, 1, 31, 23, 59, 58, 123, tzinfo=shanghai)

    assert add_months(start, 1) == datetime(2024, 2, 29, 23, 59, 58, 123, tzinfo=shanghai)


def test_the_programme_expiry_is_the_validity_in_months_after_earning() -> None:
    assert PROGRAMME.expiry_for(datetime(2024, 2, 29, 12, tzinfo=UTC)) == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Money(12_000, "CNY"), "120.00 CNY"),
        (Money(5, "USD"), "0.05 USD"),
        (Money(1_500, "JPY"), "1500 JPY"),  # no minor units
        (Money(12_345, "XAU"), "123.45 XAU"),  # a currency outside the table reads with two places
    ],
)
def test_money_is_shown_in_major_units_with_its_currency(amount: Money, shown: str) -> None:
    assert format_money(amount) == shown
