"""Purchases and the other movements booked for members: adjustments, transfers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.merchants import Channel, Merchant
from domain.money import Money
from domain.movements import Transfer
from domain.offers import FirstPurchase
from domain.profiles import ActivityChange
from domain.purchases import Adjustment, NewPurchase, Purchase, ReasonCode
from domain.risk import Counted, CounterClaim, CounterKey
from tests.unit.fakes.database import PurchaseTerms, Repository
from tests.unit.fakes.profiles import FakeProfileRepository
from tests.unit.fakes.risk import FakeRiskRepository


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
        self.t.purchase_terms[purchase.id] = PurchaseTerms(matures_at, coupon_id)
        return purchase

    async def add_claiming(
        self, claims: Sequence[CounterClaim], activity: Sequence[ActivityChange], /, **purchase: Any
    ) -> tuple[Purchase, Mapping[CounterKey, Counted]]:
        added = await self.add(**purchase)
        await FakeProfileRepository(self.db).add(activity)
        return added, await FakeRiskRepository(self.db).claim(claims)

    async def add_many(self, purchases: Sequence[NewPurchase], at: datetime) -> list[int]:
        return [
            (
                await self.add(
                    member_id=p.member_id,
                    merchant_id=p.merchant_id,
                    amount=p.amount,
                    channel=p.channel,
                    occurred_at=p.occurred_at,
                    reference=p.reference,
                    points_earned=p.points_earned,
                    points_pending=p.points_pending,
                    at=at,
                    matures_at=p.matures_at,
                )
            ).id
            for p in purchases
        ]

    async def due_for_maturity(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        due = [
            (p.id, p.member_id)
            for p in self.t.purchases.values()
            if p.points_pending > 0 and p.id > after and _due(self.t.purchase_terms[p.id], now)
        ]
        return sorted(due)[:limit]

    async def mature(self, purchase_id: int) -> int:
        purchase = self.t.purchases[purchase_id]
        self.t.purchases[purchase_id] = replace(purchase, points_pending=0)
        return purchase.points_pending

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


def _due(terms: PurchaseTerms, now: datetime) -> bool:
    return terms.matures_at is not None and terms.matures_at <= now


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


class FakeTransferRepository(Repository):
    async def add(self, member_id: int, to_member_id: int, points: int, at: datetime) -> int:
        transfer = Transfer(self.db.next_id(), member_id, to_member_id, points, at)
        self.t.transfers[transfer.id] = transfer
        return transfer.id

    async def given_since(self, member_id: int, since: datetime) -> int:
        return sum(
            t.points for t in self.t.transfers.values() if t.member_id == member_id and t.created_at >= since
        )
