"""The input checks every use case shares (domain/validation.py): each limit at its exact boundary,
and each refusal with its message and field, since the API shows both to the caller."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain import validation
from domain.errors import Validation
from domain.money import MAX_INT, Money

FIELD = ("input", "name")


def refusal(
    check: Callable[..., object], *args: object, **kwargs: object
) -> tuple[str, tuple[str, ...] | None]:
    """The message and field of the Validation error `check(*args, **kwargs)` raises."""
    with pytest.raises(Validation) as caught:
        check(*args, **kwargs)
    return caught.value.message, caught.value.field


# --- text -----------------------------------------------------------------------------------------


def test_text_is_trimmed_and_blank_text_is_refused_when_required() -> None:
    assert validation.text("  Tea House \n", FIELD) == "Tea House"
    assert refusal(validation.text, "   ", FIELD) == ("must not be blank", FIELD)
    assert validation.text("   ", FIELD, required=False) == ""


def test_text_may_be_exactly_the_maximum_length_and_not_one_character_more() -> None:
    assert validation.text("x" * 200, FIELD) == "x" * 200
    assert refusal(validation.text, "x" * 201, FIELD) == ("must be at most 200 characters", FIELD)
    assert validation.text("x" * 5, FIELD, max_length=5) == "xxxxx"
    assert refusal(validation.text, "x" * 6, FIELD, max_length=5) == ("must be at most 5 characters", FIELD)


def test_a_tab_is_text_but_other_control_characters_are_not() -> None:
    assert validation.text("a\tb", FIELD) == "a\tb"
    for control in ("a\x00b", "a\x01b", "a\nb", "a\x1fb"):
        assert refusal(validation.text, control, FIELD) == ("must not contain control characters", FIELD)
    # The first character past the control range is text.
    assert validation.text("a b", FIELD) == "a b"


def test_text_with_a_lone_surrogate_is_refused() -> None:
    assert refusal(validation.text, "a\ud800b", FIELD) == (
        "must be valid Unicode text (no lone surrogates)",
        FIELD,
    )


def test_storable_text_has_no_nul_and_no_surrogate_at_either_end_of_the_range() -> None:
    assert validation.is_storable("plain 文字")
    assert not validation.is_storable("a\x00b")
    assert not validation.is_storable("\ud800")
    assert not validation.is_storable("\udfff")
    assert not validation.is_storable("a\udc80")
    # Either side of the surrogate range is ordinary text.
    assert validation.is_storable("\ud7ff\ue000")
    # Both conditions are needed: text with a surrogate but no NUL is still refused.
    assert not validation.is_storable("ok\udbffok")


def test_optional_text_is_none_when_absent_or_blank_and_checked_like_text_otherwise() -> None:
    assert validation.optional_text(None, FIELD) is None
    assert validation.optional_text("   ", FIELD) is None
    assert validation.optional_text(" note ", FIELD) == "note"
    assert validation.optional_text("x" * 200, FIELD) == "x" * 200
    assert refusal(validation.optional_text, "x" * 201, FIELD) == ("must be at most 200 characters", FIELD)
    assert refusal(validation.optional_text, "x" * 4, FIELD, max_length=3) == (
        "must be at most 3 characters",
        FIELD,
    )
    assert refusal(validation.optional_text, "a\x00", FIELD) == ("must not contain control characters", FIELD)


def test_an_idempotency_key_is_text_of_at_most_100_characters() -> None:
    assert validation.idempotency_key(" k-1 ") == "k-1"
    assert validation.idempotency_key("k" * 100) == "k" * 100
    assert refusal(validation.idempotency_key, "k" * 101) == (
        "must be at most 100 characters",
        ("idempotencyKey",),
    )


# --- numbers --------------------------------------------------------------------------------------


def test_a_finite_decimal_passes_and_nan_or_infinity_is_refused() -> None:
    assert validation.finite_decimal(Decimal("1.5"), FIELD) == Decimal("1.5")
    for value in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        assert refusal(validation.finite_decimal, value, FIELD) == ("must be a finite number", FIELD)


def test_a_positive_int_is_at_least_one_and_at_most_the_largest_graphql_int() -> None:
    assert validation.positive_int(1, FIELD) == 1
    assert validation.positive_int(MAX_INT, FIELD) == MAX_INT
    assert refusal(validation.positive_int, 0, FIELD) == ("must be greater than zero", FIELD)
    assert refusal(validation.positive_int, -1, FIELD) == ("must be greater than zero", FIELD)
    assert refusal(validation.positive_int, MAX_INT + 1, FIELD) == (f"must be at most {MAX_INT}", FIELD)


def test_a_non_negative_int_may_be_zero_and_at_most_the_largest_graphql_int() -> None:
    assert validation.non_negative_int(0, FIELD) == 0
    assert validation.non_negative_int(1, FIELD) == 1
    assert validation.non_negative_int(MAX_INT, FIELD) == MAX_INT
    assert refusal(validation.non_negative_int, -1, FIELD) == ("must not be negative", FIELD)
    assert refusal(validation.non_negative_int, MAX_INT + 1, FIELD) == (f"must be at most {MAX_INT}", FIELD)


# --- money ----------------------------------------------------------------------------------------


def test_money_comes_back_with_its_currency_trimmed_and_upper_case() -> None:
    assert validation.money(Money(1, " cny "), ("amount",), {"CNY"}) == Money(1, "CNY")


def test_money_refuses_a_non_positive_amount_on_its_amount_minor_field() -> None:
    assert refusal(validation.money, Money(0, "CNY"), ("amount",), {"CNY"}) == (
        "must be greater than zero",
        ("amount", "amountMinor"),
    )


def test_money_refuses_a_currency_the_programme_does_not_accept_or_that_is_not_iso() -> None:
    assert refusal(validation.money, Money(100, "usd"), ("amount",), {"CNY"}) == (
        "currency 'usd' is not accepted by this programme",
        ("amount", "currency"),
    )
    assert refusal(validation.money, Money(100, "XYZ"), ("amount",), {"XYZ"}) == (
        "currency 'XYZ' is not accepted by this programme",
        ("amount", "currency"),
    )
