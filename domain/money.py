"""Points and money are integers; rates are Decimals with one rounding rule: round down on earn."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from domain.errors import Validation

# GraphQL Int is 32-bit signed: every amount we accept or return must fit it.
MAX_INT = 2**31 - 1

# ISO 4217 minor units for the currencies a programme may enable.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "TWD": 2,
    "MOP": 2,
    "JPY": 0,
    "KRW": 0,
}


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str


def parse_rate(value: str | Decimal, field: tuple[str, ...]) -> Decimal:
    """A non-negative rate with at most 4 decimal places (points per currency unit)."""
    try:
        rate = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise Validation("rate must be a decimal number", field) from exc
    if not rate.is_finite() or rate < 0 or rate > 10_000:
        raise Validation("rate must be between 0 and 10000", field)
    if rate.as_tuple().exponent < -4:  # type: ignore[operator]  # a finite Decimal: exponent is an int
        raise Validation("rate has at most 4 decimal places", field)
    return rate


def points_for_spend(amount: Money, points_per_unit: Decimal) -> int:
    """Points earned on `amount` at `points_per_unit`, rounded down to whole points."""
    units = Decimal(amount.amount_minor).scaleb(-MINOR_UNITS[amount.currency])
    return int((units * points_per_unit).to_integral_value(rounding=ROUND_FLOOR))


def format_money(amount: Money) -> str:
    """`12000 CNY` minor units as people read it: "120.00 CNY"."""
    units = MINOR_UNITS.get(amount.currency, 2)
    value = Decimal(amount.amount_minor).scaleb(-units).quantize(Decimal(1).scaleb(-units))
    return f"{value} {amount.currency}"
