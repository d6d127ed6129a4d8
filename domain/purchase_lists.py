"""Lists of purchases and refunds: a member's history and a merchant's reconciliation.

Both lists run newest first on (time, id), so a page is a range of an index whatever the history's
length: the position after a page is the last row's (time, id), never an offset. Totals cover the whole
filter, not the page: what a merchant reconciles against its own books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.money import Money

Position = tuple[datetime, int]
"""Where a page ends: the last row's time and id; the next page holds what comes strictly before."""


class PurchaseStatus(StrEnum):
    """Where a purchase stands for reconciliation. Refunds decide first; an unrefunded purchase is
    PENDING while some of its points are in the return window, then SETTLED."""

    PENDING = "PENDING"
    SETTLED = "SETTLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


def purchase_status(amount_minor: int, refunded_minor: int, points_pending: int) -> PurchaseStatus:
    if refunded_minor >= amount_minor > 0:
        return PurchaseStatus.REFUNDED
    if refunded_minor > 0:
        return PurchaseStatus.PARTIALLY_REFUNDED
    if points_pending > 0:
        return PurchaseStatus.PENDING
    return PurchaseStatus.SETTLED


@dataclass(frozen=True, slots=True)
class PurchaseFilter:
    """Omitted fields do not filter; `since` inclusive, `until` exclusive (on the purchase's time).
    A list is scoped to a member or to a merchant, or both."""

    member_id: int | None = None
    merchant_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    reference: str | None = None  # the merchant's own order id, exact
    status: PurchaseStatus | None = None


@dataclass(frozen=True, slots=True)
class RefundFilter:
    """Omitted fields do not filter; `since` inclusive, `until` exclusive (on when the refund was made)."""

    merchant_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    reference: str | None = None  # the merchant's own refund id, exact


@dataclass(frozen=True, slots=True)
class PurchaseTotals:
    """Sums over every purchase a filter selects; money per currency, by currency code."""

    count: int
    amount: tuple[Money, ...]
    refunded: tuple[Money, ...]
    points_earned: int
    points_refunded: int


@dataclass(frozen=True, slots=True)
class RefundTotals:
    count: int
    amount: tuple[Money, ...]
    points_reversed: int
    points_returned: int


def window_is_valid(since: datetime | None, until: datetime | None) -> bool:
    """A window whose end is not before its start; an open end is always valid."""
    return since is None or until is None or since < until
