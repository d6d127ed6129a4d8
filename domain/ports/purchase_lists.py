"""Reads behind the purchase and refund lists (domain/purchase_lists.py); independent of any unit of
work, like the read model."""

from __future__ import annotations

from typing import Protocol

from domain.purchase_lists import Position, PurchaseFilter, PurchaseTotals, RefundFilter, RefundTotals
from domain.purchases import Purchase
from domain.refunds import Refund


class PurchaseLists(Protocol):
    async def purchase_page(
        self, where: PurchaseFilter, before: Position | None, limit: int
    ) -> list[Purchase]:
        """Newest first by (occurred_at, id), strictly before `before`."""
        ...

    async def purchase_totals(self, where: PurchaseFilter) -> PurchaseTotals: ...

    async def refund_page(self, where: RefundFilter, before: Position | None, limit: int) -> list[Refund]:
        """Newest first by (created_at, id), strictly before `before`."""
        ...

    async def refund_totals(self, where: RefundFilter) -> RefundTotals: ...
