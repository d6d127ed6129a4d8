"""Programme rules without a database: expiry dates under each policy, and whose return window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.merchants import Merchant, MerchantCategory, MerchantChannel
from domain.programme import ExpiryPolicy, Programme

PROGRAMME = Programme(name="P", points_validity_months=12, earn_rates={"CNY": Decimal(1)}, pending_days=7)
LAST_INSTANT = (23, 59, 59, 999_999)


@pytest.mark.parametrize(
    ("policy", "earned", "expires"),
    [
        (
            ExpiryPolicy.FIXED_MONTHS,
            datetime(2026, 1, 31, 9, tzinfo=UTC),
            datetime(2027, 1, 31, 9, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.FIXED_MONTHS,
            datetime(2027, 2, 28, 9, tzinfo=UTC),
            datetime(2028, 2, 28, 9, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.END_OF_MONTH,
            datetime(2026, 1, 31, 9, tzinfo=UTC),
            datetime(2027, 1, 31, *LAST_INSTANT, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.END_OF_MONTH,
            datetime(2027, 2, 1, 0, tzinfo=UTC),
            datetime(2028, 2, 29, *LAST_INSTANT, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.END_OF_MONTH,
            datetime(2026, 12, 15, tzinfo=UTC),
            datetime(2027, 12, 31, *LAST_INSTANT, tzinfo=UTC),
        ),
        (
            # The time of day does not matter: the period ends at its last instant.
            ExpiryPolicy.END_OF_MONTH,
            datetime(2026, 1, 15, 9, 41, 27, 500_000, tzinfo=UTC),
            datetime(2027, 1, 31, *LAST_INSTANT, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.END_OF_YEAR,
            datetime(2026, 3, 31, 9, tzinfo=UTC),
            datetime(2027, 12, 31, *LAST_INSTANT, tzinfo=UTC),
        ),
        (
            ExpiryPolicy.END_OF_YEAR,
            datetime(2026, 12, 31, 23, tzinfo=UTC),
            datetime(2027, 12, 31, *LAST_INSTANT, tzinfo=UTC),
        ),
    ],
)
def test_expiry_dates_by_policy(policy: ExpiryPolicy, earned: datetime, expires: datetime) -> None:
    assert replace(PROGRAMME, expiry_policy=policy).expiry_for(earned) == expires


def test_a_merchant_may_set_its_own_return_window() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    shop = Merchant(1, "Shop", MerchantCategory.RETAIL, MerchantChannel.BOTH, None, None, at)

    assert PROGRAMME.pending_days_at(shop) == 7
    assert PROGRAMME.pending_days_at(replace(shop, pending_days=30)) == 30
    assert PROGRAMME.pending_days_at(replace(shop, pending_days=0)) == 0
