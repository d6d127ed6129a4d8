"""Refunds of purchases and what they give back."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.ledger import Account
from domain.lots import PointsLot
from domain.refunds import AwardUsage, GiveBack, PointsToReverse, Refund, RefundablePurchase


class RefundRepository(Protocol):
    async def purchase(self, purchase_id: int) -> RefundablePurchase | None: ...
    async def lock_offer_counters(self, purchase: RefundablePurchase) -> None:
        """Lock the counters a refund of the purchase may give back to (the member's cap rows and
        the offers, by offer id, then the coupon), in the order postPurchase claims them."""
        ...

    async def take(self, purchase: RefundablePurchase, amount_minor: int, points: PointsToReverse) -> bool:
        """Count the refund on the purchase row, as a conditional update: only when the refunded total
        stays within the purchase and the row is still as read; False, changing nothing, otherwise."""
        ...

    async def add(
        self,
        *,
        purchase: RefundablePurchase,
        amount_minor: int,
        reference: str | None,
        at: datetime,
    ) -> int:
        """The refund row (the origin of its journal entries), its points figures still zero."""
        ...

    async def record_points(
        self, refund_id: int, *, points_reversed: int, debt_created: int, points_returned: int
    ) -> Refund: ...
    async def own_lots(self, purchase_id: int, member_id: int) -> list[PointsLot]:
        """Lots with points left that the purchase created (its EARN or MATURE entry); call while
        the member's balance row is locked."""
        ...

    async def earn_funding(self, purchase_id: int) -> list[tuple[Account, int]]:
        """Who funded the purchase's points and how many each (its EARN entry's other side)."""
        ...

    async def awards(self, purchase_id: int) -> list[AwardUsage]:
        """What offers gave the purchase, by offer id."""
        ...

    async def give_back(self, member_id: int, back: GiveBack) -> None:
        """Return budget (and the use, the member's cap use) to the offer; record it on the award."""
        ...

    async def return_coupon_use(self, coupon_id: int) -> None: ...
