"""Purchases, redemptions and adjustments: the business facts journal entries point back to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, TextualSelect, column, exists, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.merchants import Channel, Merchant
from domain.money import Money
from domain.offers import FirstPurchase
from domain.profiles import ActivityChange, merged
from domain.purchases import Adjustment, NewPurchase, Purchase, ReasonCode
from domain.rewards import NOT_COUNTED, Redemption, RedemptionKind, RedemptionStatus
from domain.risk import Counted, CounterClaim, CounterKey
from persistence import bulk, mapping
from persistence.repositories.profiles import add_activity
from persistence.repositories.risk import CLAIM_ROWS, claim_counters, claim_params, counted_before
from persistence.tables import adjustments, merchants, purchases, redemptions, transfers

# Built once: the hot path skips building the statement and computing its cache key.
_INSERT_PURCHASE = insert(purchases).returning(*purchases.c)
# PostgreSQL: the purchase, its risk counter claims and the profile's day counters in one statement
# (one round trip on the hot path); built once for each of the parts an earn may leave out.
_ACTIVITY_ROWS = (
    "INSERT INTO member_activity_days AS a"
    " (member_id, day, merchant_id, channel, currency, purchases, spend_minor)"
    " SELECT * FROM unnest(CAST(:act_members AS BIGINT[]), CAST(:act_days AS DATE[]),"
    " CAST(:act_merchants AS BIGINT[]), CAST(:act_channels AS VARCHAR[]), CAST(:act_currencies AS VARCHAR[]),"
    " CAST(:act_purchases AS BIGINT[]), CAST(:act_spends AS BIGINT[]))"
    " ON CONFLICT (member_id, day, merchant_id, channel, currency) DO UPDATE"
    " SET purchases = a.purchases + excluded.purchases, spend_minor = a.spend_minor + excluded.spend_minor"
)


def _insert_purchase_with(claiming: bool, counting: bool) -> TextualSelect:
    parts = [f"claim AS ({CLAIM_ROWS})"] if claiming else []
    parts += [f"act AS ({_ACTIVITY_ROWS})"] if counting else []
    claimed = (
        "(SELECT json_agg(json_build_array(scope, owner_id, period, detail, count, points, amount_minor))"
        " FROM claim)"
        if claiming
        else "CAST(NULL AS JSON)"
    )
    return text(
        "WITH "
        + "".join(f"{part}, " for part in parts)
        + "p AS (INSERT INTO purchases (member_id, merchant_id, amount_minor, currency, channel, occurred_at,"
        " reference, points_earned, points_pending, matures_at, coupon_id, created_at)"
        " VALUES (:member_id, :merchant_id, :amount_minor, CAST(:currency AS VARCHAR),"
        " CAST(:channel AS VARCHAR), CAST(:occurred_at AS TIMESTAMPTZ), CAST(:reference AS VARCHAR),"
        " :points_earned, :points_pending,"
        " CAST(:matures_at AS TIMESTAMPTZ), CAST(:coupon_id AS BIGINT), CAST(:created_at AS TIMESTAMPTZ))"
        " RETURNING *)"
        " SELECT " + ", ".join(f"p.{c.name}" for c in purchases.c) + f", {claimed} AS claimed FROM p"
    ).columns(*purchases.c, column("claimed", JSON))


_INSERT_PURCHASE_WITH = {
    (claiming, counting): _insert_purchase_with(claiming, counting)
    for claiming in (False, True)
    for counting in (False, True)
}
_PURCHASE_COLUMNS = (
    "member_id",
    "merchant_id",
    "amount_minor",
    "currency",
    "channel",
    "occurred_at",
    "reference",
    "points_earned",
    "points_pending",
    "matures_at",
    "created_at",
)


class SqlPurchaseRepository:
    def __init__(self, conn: AsyncConnection, *, counting: bool = True) -> None:
        """`counting=False` (PROFILES=false): `add_claiming` leaves the profile's counters as they are."""
        self.conn = conn
        self.counting = counting

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
        row = (
            await self.conn.execute(
                _INSERT_PURCHASE,
                {
                    "matures_at": matures_at,
                    "coupon_id": coupon_id,
                    "member_id": member_id,
                    "merchant_id": merchant_id,
                    "amount_minor": amount.amount_minor,
                    "currency": amount.currency,
                    "channel": channel.value,
                    "occurred_at": occurred_at,
                    "reference": reference,
                    "points_earned": points_earned,
                    "points_pending": points_pending,
                    "created_at": at,
                },
            )
        ).one()
        return mapping.purchase(row)

    async def add_claiming(
        self, claims: Sequence[CounterClaim], activity: Sequence[ActivityChange], /, **purchase: Any
    ) -> tuple[Purchase, Mapping[CounterKey, Counted]]:
        changes = merged(activity) if self.counting else []
        if not bulk.is_postgres(self.conn):
            added = await self.add(**purchase)
            await add_activity(self.conn, changes)
            return added, await claim_counters(self.conn, claims) if claims else {}
        if not claims and not changes:
            return await self.add(**purchase), {}
        amount: Money = purchase["amount"]
        params = (claim_params(claims) if claims else {}) | {
            "member_id": purchase["member_id"],
            "merchant_id": purchase["merchant_id"],
            "amount_minor": amount.amount_minor,
            "currency": amount.currency,
            "channel": purchase["channel"].value,
            "occurred_at": purchase["occurred_at"],
            "reference": purchase["reference"],
            "points_earned": purchase["points_earned"],
            "points_pending": purchase["points_pending"],
            "matures_at": purchase.get("matures_at"),
            "coupon_id": purchase.get("coupon_id"),
            "created_at": purchase["at"],
        }
        if changes:
            params |= {
                "act_members": [c.member_id for c in changes],
                "act_days": [c.day for c in changes],
                "act_merchants": [c.merchant_id for c in changes],
                "act_channels": [c.channel.value for c in changes],
                "act_currencies": [c.currency for c in changes],
                "act_purchases": [c.purchases for c in changes],
                "act_spends": [c.spend_minor for c in changes],
            }
        statement = _INSERT_PURCHASE_WITH[(bool(claims), bool(changes))]
        row = (await self.conn.execute(statement, params)).one()
        return mapping.purchase(row), counted_before(claims, row.claimed or [])

    async def add_many(self, new: Sequence[NewPurchase], at: datetime) -> list[int]:
        rows = [
            (
                p.member_id,
                p.merchant_id,
                p.amount.amount_minor,
                p.amount.currency,
                p.channel.value,
                p.occurred_at,
                p.reference,
                p.points_earned,
                p.points_pending,
                p.matures_at,
                at,
            )
            for p in new
        ]
        return await bulk.insert_returning_ids(self.conn, purchases, _PURCHASE_COLUMNS, rows)

    async def get(self, purchase_id: int) -> Purchase | None:
        row = (await self.conn.execute(select(purchases).where(purchases.c.id == purchase_id))).first()
        return mapping.purchase(row) if row else None

    async def firsts(self, member_id: int, merchant: Merchant) -> frozenset[FirstPurchase]:
        """Which kinds of first purchase a new purchase by the member at this merchant would be."""
        mine = purchases.c.member_id == member_id
        at_partner = (
            select(merchants.c.id).where(merchants.c.partner_id == merchant.partner_id)
            if merchant.partner_id is not None
            else None
        )
        row = (
            await self.conn.execute(
                select(
                    ~exists().where(mine),
                    ~exists().where(mine, purchases.c.merchant_id == merchant.id),
                    ~exists().where(mine, purchases.c.merchant_id.in_(at_partner))
                    if at_partner is not None
                    else literal(False),
                )
            )
        ).one()
        kinds = zip(
            (FirstPurchase.EVER, FirstPurchase.AT_MERCHANT, FirstPurchase.AT_PARTNER), row, strict=True
        )
        return frozenset(kind for kind, first in kinds if first)

    async def due_for_maturity(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        """(purchase id, member id) of purchases whose pending points are due, by purchase id."""
        rows = await self.conn.execute(
            select(purchases.c.id, purchases.c.member_id)
            .where(purchases.c.points_pending > 0, purchases.c.matures_at <= now, purchases.c.id > after)
            .order_by(purchases.c.id)
            .limit(limit)
        )
        return [(row.id, row.member_id) for row in rows]

    async def mature(self, purchase_id: int) -> int:
        """Take the purchase's pending points (once: a second call finds none); the points taken.
        Call with the member's balance row locked, which keeps the pending points still meanwhile."""
        pending = (
            await self.conn.execute(select(purchases.c.points_pending).where(purchases.c.id == purchase_id))
        ).scalar_one()
        if not pending:
            return 0
        await self.conn.execute(
            update(purchases)
            .where(purchases.c.id == purchase_id, purchases.c.points_pending == pending)
            .values(points_pending=0)
        )
        return int(pending)


class SqlRedemptionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        member_id: int,
        reward_id: int | None,
        points: int,
        status: RedemptionStatus,
        at: datetime,
        kind: RedemptionKind = RedemptionKind.REWARD,
        merchant_id: int | None = None,
        hold_expires_at: datetime | None = None,
    ) -> Redemption:
        row = (
            await self.conn.execute(
                insert(redemptions)
                .values(
                    member_id=member_id,
                    reward_id=reward_id,
                    points=points,
                    status=status.value,
                    kind=kind.value,
                    merchant_id=merchant_id,
                    hold_expires_at=hold_expires_at,
                    created_at=at,
                )
                .returning(*redemptions.c)
            )
        ).one()
        return mapping.redemption(row)

    async def get(self, redemption_id: int) -> Redemption | None:
        row = (await self.conn.execute(select(redemptions).where(redemptions.c.id == redemption_id))).first()
        return mapping.redemption(row) if row else None

    async def finish(
        self,
        redemption_id: int,
        *,
        from_status: RedemptionStatus,
        to_status: RedemptionStatus,
        at: datetime,
        captured_points: int | None = None,
        purchase_id: int | None = None,
        points_returned: int = 0,
    ) -> bool:
        # Conditional on the status it leaves: two racing finishes cannot both match the row.
        result = await self.conn.execute(
            update(redemptions)
            .where(redemptions.c.id == redemption_id, redemptions.c.status == from_status.value)
            .values(
                status=to_status.value,
                captured_points=captured_points,
                purchase_id=purchase_id,
                points_returned=redemptions.c.points_returned + points_returned,
                finalized_at=at,
            )
        )
        return result.rowcount == 1

    async def count_towards_limit(self, member_id: int, reward_id: int, since: datetime | None) -> int:
        conditions = [
            redemptions.c.member_id == member_id,
            redemptions.c.reward_id == reward_id,
            redemptions.c.status.not_in([s.value for s in NOT_COUNTED]),
        ]
        if since is not None:
            conditions.append(redemptions.c.created_at >= since)
        count = (await self.conn.execute(select(func.count()).where(*conditions))).scalar_one()
        return int(count)

    async def open_rewards(self, member_id: int) -> int:
        count = await self.conn.execute(
            select(func.count()).where(
                redemptions.c.member_id == member_id,
                redemptions.c.kind == RedemptionKind.REWARD.value,
                redemptions.c.status == RedemptionStatus.REQUESTED.value,
            )
        )
        return int(count.scalar_one())

    async def paid_for(self, purchase_id: int) -> list[Redemption]:
        rows = await self.conn.execute(
            select(redemptions)
            .where(
                redemptions.c.purchase_id == purchase_id,
                redemptions.c.status == RedemptionStatus.CAPTURED.value,
            )
            .order_by(redemptions.c.id)
        )
        return [mapping.redemption(row) for row in rows]

    async def add_returned(self, redemption_id: int, points: int, returned_before: int) -> bool:
        result = await self.conn.execute(
            update(redemptions)
            .where(
                redemptions.c.id == redemption_id,
                redemptions.c.points_returned == returned_before,
                redemptions.c.points_returned + points <= redemptions.c.captured_points,
            )
            .values(points_returned=redemptions.c.points_returned + points)
        )
        return result.rowcount == 1

    async def holds_due(self, now: datetime, after: int, limit: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(
            select(redemptions.c.id, redemptions.c.member_id)
            .where(
                redemptions.c.status == RedemptionStatus.AUTHORIZED.value,
                redemptions.c.hold_expires_at <= now,
                redemptions.c.id > after,
            )
            .order_by(redemptions.c.id)
            .limit(limit)
        )
        return [(row.id, row.member_id) for row in rows]


class SqlAdjustmentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

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
        row = (
            await self.conn.execute(
                insert(adjustments)
                .values(
                    member_id=member_id,
                    points=points,
                    reason_code=reason_code.value,
                    note=note,
                    actor=actor,
                    created_at=at,
                )
                .returning(*adjustments.c)
            )
        ).one()
        return mapping.adjustment(row)


class SqlTransferRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, member_id: int, to_member_id: int, points: int, at: datetime) -> int:
        return (
            await self.conn.execute(
                insert(transfers)
                .values(member_id=member_id, to_member_id=to_member_id, points=points, created_at=at)
                .returning(transfers.c.id)
            )
        ).scalar_one()

    async def given_since(self, member_id: int, since: datetime) -> int:
        """Points the member has given others since `since` (call with its balance row locked)."""
        total = (
            await self.conn.execute(
                select(func.coalesce(func.sum(transfers.c.points), 0)).where(
                    transfers.c.member_id == member_id, transfers.c.created_at >= since
                )
            )
        ).scalar_one()
        return int(total)
