"""Input checks shared by use cases; the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

from domain.errors import Validation
from domain.money import MAX_INT, MINOR_UNITS, Money


def text(value: str, field: tuple[str, ...], *, max_length: int = 200, required: bool = True) -> str:
    """Trimmed text without control characters (PostgreSQL refuses NUL; SQLite would store it)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise Validation("must not be blank", field)
    if len(cleaned) > max_length:
        raise Validation(f"must be at most {max_length} characters", field)
    if any(ord(ch) < 32 and ch not in "\t" for ch in cleaned):
        raise Validation("must not contain control characters", field)
    return cleaned


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
