"""Refunds: the refunded totals on the purchase row, the refund rows, and what offers get back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import Account, AccountKind, EntryKind, OriginType
from domain.lots import PointsLot
from domain.refunds import AwardUsage, GiveBack, PointsToReverse, Refund, RefundablePurchase
from persistence import mapping
from persistence.tables import (
    coupons,
    journal_entries,
    journal_lines,
    offer_member_usage,
    offers,
    points_lots,
    purchase_awards,
    purchases,
    refunds,
)

_SQLITE_INSTANT = "%Y-%m-%d %H:%M:%f"


class SqlRefundRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def purchase(self, purchase_id: int) -> RefundablePurchase | None:
        row = (await self.conn.execute(select(purchases).where(purchases.c.id == purchase_id))).first()
        return mapping.refundable_purchase(row) if row else None

    async def lock_offer_counters(self, purchase: RefundablePurchase) -> None:
        # postPurchase claims the member's cap row, then the offer's counters, offer after offer,
        # then the coupon, and only then locks the member's balance row (its ledger post). A refund
        # that gives back to the same counters while holding the member's row would wait on a
        # purchase of the same member that waits on it: so it takes them first, in that order.
        # SQLite has no row locks: BEGIN IMMEDIATE already serializes its writers.
        if self.conn.dialect.name != "postgresql":
            return
        awards = await self.conn.execute(
            select(purchase_awards.c.offer_id, purchase_awards.c.cap_period_start)
            .where(purchase_awards.c.purchase_id == purchase.id, ~purchase_awards.c.use_returned)
            .order_by(purchase_awards.c.offer_id, purchase_awards.c.id)
        )
        for offer_id, period in awards.all():
            if period is not None:
                await self.conn.execute(
                    select(offer_member_usage.c.uses)
                    .where(
                        offer_member_usage.c.offer_id == offer_id,
                        offer_member_usage.c.member_id == purchase.member_id,
                        offer_member_usage.c.period_start == period,
                    )
                    .with_for_update()
                )
            await self.conn.execute(select(offers.c.id).where(offers.c.id == offer_id).with_for_update())
        if purchase.coupon_id is not None:
            await self.conn.execute(
                select(coupons.c.id).where(coupons.c.id == purchase.coupon_id).with_for_update()
            )

    async def take(self, purchase: RefundablePurchase, amount_minor: int, points: PointsToReverse) -> bool:
        p = purchases.c
        result = await self.conn.execute(
            update(purchases)
            .where(
                p.id == purchase.id,
                p.refunded_minor + amount_minor <= p.amount_minor,
                # As read: the points were worked out from these.
                p.refunded_minor == purchase.refunded_minor,
                p.points_refunded == purchase.points_refunded,
                p.points_pending == purchase.points_pending,
            )
            .values(
                refunded_minor=p.refunded_minor + amount_minor,
                points_refunded=points.points_refunded,
                points_pending=p.points_pending - points.from_pending,
            )
            .returning(p.id)
        )
        return result.first() is not None

    async def add(
        self, *, purchase: RefundablePurchase, amount_minor: int, reference: str | None, at: datetime
    ) -> int:
        return (
            await self.conn.execute(
                insert(refunds)
                .values(
                    member_id=purchase.member_id,
                    purchase_id=purchase.id,
                    merchant_id=purchase.merchant_id,
                    amount_minor=amount_minor,
                    currency=purchase.amount.currency,
                    points_reversed=0,
                    debt_created=0,
                    points_returned=0,
                    reference=reference,
                    created_at=at,
                )
                .returning(refunds.c.id)
            )
        ).scalar_one()

    async def record_points(
        self, refund_id: int, *, points_reversed: int, debt_created: int, points_returned: int
    ) -> Refund:
        row = (
            await self.conn.execute(
                update(refunds)
                .where(refunds.c.id == refund_id)
                .values(
                    points_reversed=points_reversed,
                    debt_created=debt_created,
                    points_returned=points_returned,
                )
                .returning(*refunds.c)
            )
        ).one()
        return mapping.refund(row)

    async def own_lots(self, purchase_id: int, member_id: int) -> list[PointsLot]:
        rows = await self.conn.execute(
            select(points_lots)
            .join(journal_entries, journal_entries.c.id == points_lots.c.entry_id)
            .where(
                journal_entries.c.origin_type == OriginType.PURCHASE.value,
                journal_entries.c.origin_id == purchase_id,
                points_lots.c.member_id == member_id,
                points_lots.c.remaining > 0,
            )
            .order_by(points_lots.c.expires_at, points_lots.c.id)
        )
        return [mapping.lot(row) for row in rows]

    async def earn_funding(self, purchase_id: int) -> list[tuple[Account, int]]:
        rows = await self.conn.execute(
            select(journal_lines.c.account_kind, journal_lines.c.owner_id, journal_lines.c.amount)
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(
                journal_entries.c.origin_type == OriginType.PURCHASE.value,
                journal_entries.c.origin_id == purchase_id,
                journal_entries.c.kind == EntryKind.EARN.value,
                journal_lines.c.member_id.is_(None),
            )
            .order_by(journal_lines.c.id)
        )
        return [(Account(AccountKind(kind), owner_id), -amount) for kind, owner_id, amount in rows]

    async def awards(self, purchase_id: int) -> list[AwardUsage]:
        a = purchase_awards.c
        rows = await self.conn.execute(
            select(
                a.id,
                a.offer_id,
                a.points,
                a.discount_minor,
                a.cashback_minor,
                a.refunded_points,
                a.refunded_money_minor,
                a.use_returned,
                a.cap_period_start,
            )
            .where(a.purchase_id == purchase_id)
            .order_by(a.offer_id, a.id)
        )
        return [
            AwardUsage(
                id=row.id,
                offer_id=row.offer_id,
                points=row.points,
                money_minor=row.discount_minor + row.cashback_minor,
                refunded_points=row.refunded_points,
                refunded_money_minor=row.refunded_money_minor,
                use_returned=bool(row.use_returned),
                cap_period_start=row.cap_period_start,
            )
            for row in rows
        ]

    async def give_back(self, member_id: int, back: GiveBack) -> None:
        uses = 1 if back.use else 0
        await self.conn.execute(
            update(offers)
            .where(offers.c.id == back.offer_id)
            .values(
                points_used=offers.c.points_used - back.points,
                money_used_minor=offers.c.money_used_minor - back.money_minor,
                uses=offers.c.uses - uses,
            )
        )
        a = purchase_awards.c
        values: dict[str, object] = {
            "refunded_points": a.refunded_points + back.points,
            "refunded_money_minor": a.refunded_money_minor + back.money_minor,
        }
        if back.use:
            values["use_returned"] = True
        await self.conn.execute(update(purchase_awards).where(a.id == back.award_id).values(values))
        if back.use and back.cap_period_start is not None:
            u = offer_member_usage.c
            await self.conn.execute(
                update(offer_member_usage)
                .where(
                    u.offer_id == back.offer_id,
                    u.member_id == member_id,
                    self._same_instant(u.period_start, back.cap_period_start),
                    u.uses > 0,
                )
                .values(uses=u.uses - 1)
            )

    def _same_instant(self, column: Any, at: datetime) -> ColumnElement[bool]:
        """`column == at` as instants. The claim writes the cap period with its own time zone's offset,
        which SQLite keeps as text ("2024-03-01 00:00:00+08:00"): compare there in UTC, as SQLite's
        date functions read such text."""
        if self.conn.dialect.name != "sqlite":
            return column == at
        utc = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return func.strftime(_SQLITE_INSTANT, column) == func.strftime(_SQLITE_INSTANT, utc)

    async def return_coupon_use(self, coupon_id: int) -> None:
        await self.conn.execute(
            update(coupons)
            .where(coupons.c.id == coupon_id, coupons.c.uses > 0)
            .values(uses=coupons.c.uses - 1)
        )
