"""Input checks shared by use cases; the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from domain.errors import Validation
from domain.money import MAX_INT, MINOR_UNITS, Money


def text(value: str, field: tuple[str, ...], *, max_length: int = 200, required: bool = True) -> str:
    """Trimmed text without control characters (PostgreSQL refuses NUL; SQLite would store it) or
    lone surrogates (JSON can carry "\\ud800", which is not text either database can store)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise Validation("must not be blank", field)
    if len(cleaned) > max_length:
        raise Validation(f"must be at most {max_length} characters", field)
    if any(ord(ch) < 32 and ch not in "\t" for ch in cleaned):
        raise Validation("must not contain control characters", field)
    if not is_storable(cleaned):
        raise Validation("must be valid Unicode text (no lone surrogates)", field)
    return cleaned


def is_storable(value: str) -> bool:
    """Text both databases can store: it encodes as UTF-8 (no lone surrogates) and holds no NUL."""
    return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)


def finite_decimal(value: Decimal, field: tuple[str, ...]) -> Decimal:
    """NaN and Infinity are Decimals too, and NaN raises on the first comparison."""
    if not value.is_finite():
        raise Validation("must be a finite number", field)
    return value


def optional_text(value: str | None, field: tuple[str, ...], *, max_length: int = 200) -> str | None:
    if value is None:
        return None
    cleaned = text(value, field, max_length=max_length, required=False)
    return cleaned or None


def positive_int(value: int, field: tuple[str, ...]) -> int:
    if value <= 0:
        raise Validation("must be greater than zero", field)
    if value > MAX_INT:
        raise Validation(f"must be at most {MAX_INT}", field)
    return value


def non_negative_int(value: int, field: tuple[str, ...]) -> int:
    if value < 0:
        raise Validation("must not be negative", field)
    if value > MAX_INT:
        raise Validation(f"must be at most {MAX_INT}", field)
    return value


def money(value: Money, field: tuple[str, ...], accepted: set[str] | frozenset[str]) -> Money:
    positive_int(value.amount_minor, (*field, "amountMinor"))
    currency = value.currency.strip().upper()
    if currency not in MINOR_UNITS or currency not in accepted:
        raise Validation(
            f"currency {value.currency!r} is not accepted by this programme", (*field, "currency")
        )
    return Money(value.amount_minor, currency)


def idempotency_key(value: str) -> str:
    return text(value, ("idempotencyKey",), max_length=100)
