"""The pure rules behind the purchase lists: a purchase's status, a valid time window, and the cursor
that carries a page's position."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.errors import PublicError
from api.types.purchase_lists import decode_cursor, encode_cursor
from domain.purchase_lists import PurchaseStatus, purchase_status, window_is_valid

AT = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "refunded", "pending", "status"),
    [
        (1_000, 0, 0, PurchaseStatus.SETTLED),
        (1_000, 0, 10, PurchaseStatus.PENDING),
        (1_000, 1, 10, PurchaseStatus.PARTIALLY_REFUNDED),  # refunds decide before the return window
        (1_000, 999, 0, PurchaseStatus.PARTIALLY_REFUNDED),
        (1_000, 1_000, 0, PurchaseStatus.REFUNDED),
        (1_000, 1_000, 10, PurchaseStatus.REFUNDED),
        (0, 0, 0, PurchaseStatus.SETTLED),  # nothing to refund: never REFUNDED
        (1, 1, 0, PurchaseStatus.REFUNDED),  # the smallest purchase, refunded in full
        (1, 2, 0, PurchaseStatus.REFUNDED),
        (1_000, 0, 1, PurchaseStatus.PENDING),  # a single point in the return window
        (1_000, 0, -1, PurchaseStatus.SETTLED),
    ],
)
def test_status(amount: int, refunded: int, pending: int, status: PurchaseStatus) -> None:
    assert purchase_status(amount, refunded, pending) is status


def test_a_window_must_end_after_it_starts_unless_open() -> None:
    assert window_is_valid(None, None)
    assert window_is_valid(AT, None)
    assert window_is_valid(None, AT)
    assert window_is_valid(AT.replace(hour=1), AT.replace(hour=2))
    assert not window_is_valid(AT, AT)
    assert not window_is_valid(AT.replace(hour=2), AT.replace(hour=1))


@pytest.mark.parametrize(
    "at",
    [AT, AT.replace(microsecond=123_456), datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)],
)
def test_a_cursor_carries_the_exact_time_and_id(at: datetime) -> None:
    assert decode_cursor(encode_cursor((at, 42))) == (at, 42)


@pytest.mark.parametrize("cursor", ["bm90LWEtY3Vyc29y", "YXQ6MTIz", "Y3Vyc29yOjU="])
def test_a_malformed_cursor_is_bad_input(cursor: str) -> None:
    with pytest.raises(PublicError, match="malformed cursor"):
        decode_cursor(cursor)
