"""Purchases and the other movements booked for members: adjustments, transfers."""

from __future__ import annotations

from datetime import datetime

from domain.merchants import Channel, Merchant
from domain.money import Money
from domain.offers import FirstPurchase
from domain.purchases import Adjustment, Purchase, ReasonCode
from tests.unit.fakes.database import Repository


class FakePurchaseRepository(Repository):
    async def get(self, purchase_id: int) -> Purchase | None:
        return self.t.purchases.get(purchase_id)

    async def add(
        self,
        *,
        member_id: int,
        merchant_id: int,
        amount: Money,
        channel: Channel,
        occurred_at: datetime,
        reference: str | None,
        points_earned: int,
        points_pending: int,
        at: datetime,
        matures_at: datetime | None = None,
        coupon_id: int | None = None,
    ) -> Purchase:
        purchase = Purchase(
            self.db.next_id(),
            member_id,
            merchant_id,
            amount,
            channel,
            occurred_at,
            reference,
            points_earned,
            points_pending,
            at,
        )
        self.t.purchases[purchase.id] = purchase
        return purchase

    async def firsts(self, member_id: int, merchant: Merchant) -> frozenset[FirstPurchase]:
        mine = [p for p in self.t.purchases.values() if p.member_id == member_id]
        partner_merchants = {m.id for m in self.t.merchants.values() if m.partner_id == merchant.partner_id}
        kinds = set()
        if not mine:
            kinds.add(FirstPurchase.EVER)
        if all(p.merchant_id != merchant.id for p in mine):
            kinds.add(FirstPurchase.AT_MERCHANT)
        if merchant.partner_id is not None and all(p.merchant_id not in partner_merchants for p in mine):
            kinds.add(FirstPurchase.AT_PARTNER)
        return frozenset(kinds)


class FakeAdjustmentRepository(Repository):
    async def add(
        self,
        *,
        member_id: int,
        points: int,
        reason_code: ReasonCode,
        note: str | None,
        actor: str,
        at: datetime,
    ) -> Adjustment:
        adjustment = Adjustment(self.db.next_id(), member_id, points, reason_code, note, actor, at)
        self.t.adjustments[adjustment.id] = adjustment
        return adjustment
