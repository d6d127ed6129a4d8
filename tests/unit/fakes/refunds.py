"""Refunds of purchases and what they give back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.ledger import Account, EntryKind, JournalEntry, OriginType
from domain.lots import PointsLot
from domain.money import Money
from domain.offers import Usage
from domain.refunds import AwardUsage, GiveBack, PointsToReverse, Refund, RefundablePurchase
from tests.unit.fakes.database import Repository


class FakeRefundRepository(Repository):
    async def purchase(self, purchase_id: int) -> RefundablePurchase | None:
        p = self.t.purchases.get(purchase_id)
        if p is None:
            return None
        return RefundablePurchase(
            id=p.id,
            member_id=p.member_id,
            merchant_id=p.merchant_id,
            amount=p.amount,
            points_earned=p.points_earned,
            points_pending=p.points_pending,
            refunded_minor=p.refunded_minor,
            points_refunded=p.points_refunded,
            coupon_id=self.t.purchase_terms[p.id].coupon_id,
        )

    async def lock_offer_counters(self, purchase: RefundablePurchase) -> None:
        # One transaction at a time here: nothing to wait for. The rows are still looked up as the
        # SQL does, so a purchase that is not one fails here as it would there.
        for row in self.t.purchase_awards.values():
            if row.purchase_id == purchase.id and not row.use_returned:
                self.t.offer_usage.get(row.award.offer_id)
        if purchase.coupon_id is not None:
            self.t.coupons.get(purchase.coupon_id)

    async def take(self, purchase: RefundablePurchase, amount_minor: int, points: PointsToReverse) -> bool:
        row = self.t.purchases.get(purchase.id)
        if (
            row is None
            or row.refunded_minor + amount_minor > row.amount.amount_minor
            # As read: the points were worked out from these.
            or (row.refunded_minor, row.points_refunded, row.points_pending)
            != (purchase.refunded_minor, purchase.points_refunded, purchase.points_pending)
        ):
            return False
        updated = replace(
            row,
            refunded_minor=row.refunded_minor + amount_minor,
            points_refunded=points.points_refunded,
            points_pending=row.points_pending - points.from_pending,
        )
        # The purchases table's checks: a statement that breaks one fails.
        if updated.points_refunded > updated.points_earned or updated.points_pending < 0:
            raise ValueError(f"purchase {row.id}: a refund beyond what it earned")
        self.t.purchases[row.id] = updated
        return True

    async def add(
        self,
        *,
        purchase: RefundablePurchase,
        amount_minor: int,
        reference: str | None,
        at: datetime,
    ) -> int:
        refund = Refund(
            id=self.db.next_id(),
            member_id=purchase.member_id,
            purchase_id=purchase.id,
            merchant_id=purchase.merchant_id,
            amount=Money(amount_minor, purchase.amount.currency),
            points_reversed=0,
            debt_created=0,
            points_returned=0,
            reference=reference,
            created_at=at,
        )
        self.t.refunds[refund.id] = refund
        return refund.id

    async def record_points(
        self, refund_id: int, *, points_reversed: int, debt_created: int, points_returned: int
    ) -> Refund:
        refund = replace(
            self.t.refunds[refund_id],
            points_reversed=points_reversed,
            debt_created=debt_created,
            points_returned=points_returned,
        )
        self.t.refunds[refund_id] = refund
        return refund

    async def own_lots(self, purchase_id: int, member_id: int) -> list[PointsLot]:
        lots = [
            lot
            for lot in self.t.lots.values()
            if lot.member_id == member_id
            and lot.remaining > 0
            and _origin(self.t.entry_of_lot(lot.id).entry) == (OriginType.PURCHASE, purchase_id)
        ]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.id))

    async def earn_funding(self, purchase_id: int) -> list[tuple[Account, int]]:
        return [
            (p.account, -p.amount)
            for _, posted in sorted(self.t.journal.items())
            if (posted.entry.origin_type, posted.entry.origin_id, posted.entry.kind)
            == (OriginType.PURCHASE, purchase_id, EntryKind.EARN)
            for p in posted.entry.postings
            if not p.account.kind.is_member
        ]

    async def awards(self, purchase_id: int) -> list[AwardUsage]:
        rows = [row for row in self.t.purchase_awards.values() if row.purchase_id == purchase_id]
        return [
            AwardUsage(
                id=row.id,
                offer_id=row.award.offer_id,
                points=row.award.points,
                money_minor=row.award.discount_minor + row.award.cashback_minor,
                refunded_points=row.refunded_points,
                refunded_money_minor=row.refunded_money_minor,
                use_returned=row.use_returned,
                cap_period_start=row.cap_period_start,
            )
            for row in sorted(rows, key=lambda row: (row.award.offer_id, row.id))
        ]

    async def give_back(self, member_id: int, back: GiveBack) -> None:
        used = self.t.offer_usage.get(back.offer_id, Usage())
        self.t.offer_usage[back.offer_id] = Usage(
            used.points - back.points, used.money_minor - back.money_minor, used.uses - (1 if back.use else 0)
        )
        row = self.t.purchase_awards[back.award_id]
        self.t.purchase_awards[back.award_id] = replace(
            row,
            refunded_points=row.refunded_points + back.points,
            refunded_money_minor=row.refunded_money_minor + back.money_minor,
            use_returned=row.use_returned or back.use,
        )
        if back.use and back.cap_period_start is not None:
            key = (back.offer_id, member_id, back.cap_period_start)
            if self.t.offer_member_uses.get(key, 0) > 0:
                self.t.offer_member_uses[key] -= 1

    async def return_coupon_use(self, coupon_id: int) -> None:
        coupon = self.t.coupons.get(coupon_id)
        if coupon is not None and coupon.uses > 0:
            self.t.coupons[coupon_id] = replace(coupon, uses=coupon.uses - 1)


def _origin(entry: JournalEntry) -> tuple[OriginType, int]:
    return entry.origin_type, entry.origin_id
