"""Offers, their versions and funders, and the counters their budgets and caps are claimed against.

A claim is a conditional UPDATE of the offer's counters (budget, uses) and a conditional upsert of
the member's uses in the cap period, in the purchase's transaction: however many purchases race for
the last of a budget, the database lets through only what fits, and nothing is given twice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import AlreadyExists
from domain.experiments.model import Assignment
from domain.merchants import Merchant
from domain.offers import Award, Coupon, FunderKind, Offer, OfferStatus, SkipReason, Usage
from persistence import offer_codec
from persistence.catalogue import Catalogue
from persistence.constraints import is_unique_violation
from persistence.repositories.experiments import record_assignments
from persistence.tables import (
    award_funding,
    coupons,
    member_awards,
    offer_funders,
    offer_member_usage,
    offer_versions,
    offers,
    purchase_awards,
)

_CLAIM = text(
    """
    UPDATE offers
    SET points_used = points_used + :points, money_used_minor = money_used_minor + :money, uses = uses + 1
    WHERE id = :offer_id AND status = 'ACTIVE'
      AND (budget_points IS NULL OR points_used + :points <= budget_points)
      AND (budget_money_minor IS NULL OR money_used_minor + :money <= budget_money_minor)
      AND (max_uses IS NULL OR uses < max_uses)
    RETURNING points_used, money_used_minor, uses
    """
)
_UNCLAIM_MEMBER = text(
    """
    UPDATE offer_member_usage SET uses = uses - 1
    WHERE offer_id = :offer_id AND member_id = :member_id AND period_start = :period_start
    """
)
# The member's row for the period: created at 1, or incremented while under the limit.
_CLAIM_MEMBER = text(
    """
    INSERT INTO offer_member_usage (offer_id, member_id, period_start, uses)
    VALUES (:offer_id, :member_id, :period_start, 1)
    ON CONFLICT (offer_id, member_id, period_start)
    DO UPDATE SET uses = offer_member_usage.uses + 1 WHERE offer_member_usage.uses < :limit
    RETURNING uses
    """
)
_COUNTERS = select(
    offers.c.id, offers.c.status, offers.c.points_used, offers.c.money_used_minor, offers.c.uses
).where(offers.c.id.in_(bindparam("ids", expanding=True)))
_MEMBER_USES = select(
    offer_member_usage.c.offer_id, offer_member_usage.c.period_start, offer_member_usage.c.uses
).where(
    offer_member_usage.c.offer_id.in_(bindparam("ids", expanding=True)),
    offer_member_usage.c.member_id == bindparam("member_id"),
)


class SqlOfferRepository:
    def __init__(self, conn: AsyncConnection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue

    async def add(self, offer: Offer, at: datetime) -> Offer:
        """Store a new offer (its id and version are assigned here) and its first version."""
        definition = offer_codec.to_json(offer)
        limits = offer.limits
        offer_id = (
            await self.conn.execute(
                insert(offers)
                .values(
                    name=offer.name,
                    mechanic=offer.mechanic.value,
                    status=offer.status.value,
                    version=1,
                    definition=definition,
                    budget_points=limits.budget_points,
                    budget_money_minor=limits.budget_money.amount_minor if limits.budget_money else None,
                    max_uses=limits.max_uses,
                    points_used=0,
                    money_used_minor=0,
                    uses=0,
                    created_at=at,
                    updated_at=at,
                )
                .returning(offers.c.id)
            )
        ).scalar_one()
        await self.conn.execute(
            insert(offer_versions).values(offer_id=offer_id, version=1, definition=definition, created_at=at)
        )
        await self._add_funders(replace(offer, id=offer_id))
        await self.catalogue.changed()
        return offer_codec.from_json(offer_id, 1, offer.status, definition)

    async def _add_funders(self, offer: Offer) -> None:
        await self.conn.execute(
            insert(offer_funders),
            [
                {
                    "offer_id": offer.id,
                    "funder_kind": share.kind.value,
                    "funder_id": share.funder_id or 0,
                    "percent": share.percent,
                }
                for share in offer.funding
            ],
        )

    async def record_assignments(self, assignments: Sequence[Assignment], at: datetime) -> None:
        await record_assignments(self.conn, assignments, at)

    async def update(self, offer: Offer, at: datetime) -> Offer:
        """Store `offer` as the next version of the offer with its id; past awards keep theirs."""
        definition = offer_codec.to_json(offer)
        limits = offer.limits
        version = (
            await self.conn.execute(
                update(offers)
                .where(offers.c.id == offer.id)
                .values(
                    name=offer.name,
                    mechanic=offer.mechanic.value,
                    version=offers.c.version + 1,
                    definition=definition,
                    budget_points=limits.budget_points,
                    budget_money_minor=limits.budget_money.amount_minor if limits.budget_money else None,
                    max_uses=limits.max_uses,
                    updated_at=at,
                )
                .returning(offers.c.version)
            )
        ).scalar_one()
        await self.conn.execute(
            insert(offer_versions).values(
                offer_id=offer.id, version=version, definition=definition, created_at=at
            )
        )
        await self.conn.execute(delete(offer_funders).where(offer_funders.c.offer_id == offer.id))
        await self._add_funders(offer)
        await self.catalogue.changed()
        return offer_codec.from_json(offer.id, version, offer.status, definition)

    async def usage_of(self, offer_id: int) -> Usage:
        row = (await self.conn.execute(_COUNTERS, {"ids": [offer_id]})).one()
        return Usage(row.points_used, row.money_used_minor, row.uses)

    async def get(self, offer_id: int) -> Offer | None:
        row = (await self.conn.execute(select(offers).where(offers.c.id == offer_id))).first()
        return (
            offer_codec.from_json(row.id, row.version, OfferStatus(row.status), row.definition)
            if row
            else None
        )

    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None:
        await self.conn.execute(
            update(offers).where(offers.c.id == offer_id).values(status=status.value, updated_at=at)
        )
        await self.catalogue.changed()

    async def live(self) -> list[Offer]:
        """The active offers, from the catalogue cache while no offer has changed."""
        return (await self.catalogue.live_offers(self._load_live)).offers

    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        """The active offers that could apply at this merchant (indexed, cached)."""
        return (await self.catalogue.live_offers(self._load_live)).for_merchant(merchant)

    async def _load_live(self) -> list[Offer]:
        rows = await self.conn.execute(
            select(offers.c.id, offers.c.version, offers.c.definition)
            .where(offers.c.status == OfferStatus.ACTIVE.value)
            .order_by(offers.c.id)
        )
        return [offer_codec.from_json(r.id, r.version, OfferStatus.ACTIVE, r.definition) for r in rows]

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(offer_funders.c.offer_id)
            .where(offer_funders.c.funder_kind == kind.value, offer_funders.c.funder_id == funder_id)
            .order_by(offer_funders.c.offer_id)
        )
        return list(rows.scalars())

    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]:
        """Each offer's counters, and the member's uses in the period `periods` names for it."""
        if not offer_ids:
            return {}
        ids = sorted(offer_ids)
        counters = {row.id: row for row in await self.conn.execute(_COUNTERS, {"ids": ids})}
        member_uses = {
            row.offer_id: row.uses
            for row in await self.conn.execute(_MEMBER_USES, {"ids": ids, "member_id": member_id})
            if row.period_start == periods.get(row.offer_id)
        }
        return {
            i: Usage(c.points_used, c.money_used_minor, c.uses, member_uses.get(i, 0))
            for i, c in counters.items()
        }

    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        if not awards:
            return
        periods = cap_periods or {}
        rows = await self.conn.execute(
            insert(purchase_awards).returning(purchase_awards.c.id, sort_by_parameter_order=True),
            [
                {
                    "purchase_id": purchase_id,
                    "member_id": member_id,
                    "offer_id": award.offer_id,
                    "offer_version": award.version,
                    "mechanic": award.mechanic.value,
                    "points": award.points,
                    "discount_minor": award.discount_minor,
                    "cashback_minor": award.cashback_minor,
                    "currency": currency,
                    "cap_period_start": periods.get(award.offer_id),
                    "created_at": at,
                }
                for award in awards
            ],
        )
        award_ids = list(rows.scalars())
        await self.conn.execute(
            insert(award_funding),
            [
                {
                    "award_id": award_id,
                    "funder_kind": cost.kind.value,
                    "funder_id": cost.funder_id or 0,
                    "points": cost.points,
                    "money_minor": cost.money_minor,
                }
                for award_id, award in zip(award_ids, awards, strict=True)
                for cost in award.funding
            ],
        )

    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        return (
            await self.conn.execute(
                insert(member_awards)
                .values(
                    member_id=member_id,
                    offer_id=offer.id,
                    offer_version=offer.version,
                    reason=reason,
                    points=points,
                    purchase_id=purchase_id,
                    created_at=at,
                )
                .returning(member_awards.c.id)
            )
        ).scalar_one()

    async def add_coupons(
        self, offer_id: int, codes: Sequence[str], max_uses: int, at: datetime
    ) -> list[Coupon]:
        try:
            rows = await self.conn.execute(
                insert(coupons).returning(*coupons.c, sort_by_parameter_order=True),
                [
                    {"offer_id": offer_id, "code": code, "max_uses": max_uses, "uses": 0, "created_at": at}
                    for code in codes
                ],
            )
        except IntegrityError as exc:  # a concurrent generateCoupons took the same code first
            if is_unique_violation(exc, coupons.c.code):
                raise AlreadyExists("this code is taken", ("sharedCode",)) from exc
            raise
        return [_coupon(row) for row in rows]

    async def coupon(self, code: str) -> Coupon | None:
        row = (await self.conn.execute(select(coupons).where(coupons.c.code == code))).first()
        return _coupon(row) if row else None

    async def claim_coupon(self, code: str, member_id: int, at: datetime) -> Coupon | None:
        """Put an unclaimed single-use coupon in the member's wallet; None when it cannot be."""
        row = (
            await self.conn.execute(
                update(coupons)
                .where(coupons.c.code == code, coupons.c.member_id.is_(None), coupons.c.max_uses == 1)
                .values(member_id=member_id, claimed_at=at)
                .returning(*coupons.c)
            )
        ).first()
        return _coupon(row) if row else None

    async def use_coupon(self, coupon_id: int, member_id: int) -> bool:
        """Count one use, if one is left and the coupon is the member's or shared (a conditional update:
        racing purchases cannot use a code more often than it allows)."""
        row = (
            await self.conn.execute(
                update(coupons)
                .where(
                    coupons.c.id == coupon_id,
                    coupons.c.uses < coupons.c.max_uses,
                    or_(coupons.c.member_id.is_(None), coupons.c.member_id == member_id),
                )
                .values(uses=coupons.c.uses + 1)
                .returning(coupons.c.id)
            )
        ).first()
        return row is not None

    async def wallet(self, member_id: int) -> list[Coupon]:
        rows = await self.conn.execute(
            select(coupons).where(coupons.c.member_id == member_id).order_by(coupons.c.id)
        )
        return [_coupon(row) for row in rows]

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | Usage:
        """Count one award against the offer's limits, or say which limit refuses it (changing nothing)."""
        limit = offer.limits.per_member
        member_params = {"offer_id": offer.id, "member_id": member_id, "period_start": period_start}
        if limit is not None:
            claimed = (await self.conn.execute(_CLAIM_MEMBER, {**member_params, "limit": limit})).first()
            if claimed is None:
                return SkipReason.MEMBER_LIMIT_REACHED
        params = {"offer_id": offer.id, "points": points, "money": money_minor}
        counted = (await self.conn.execute(_CLAIM, params)).first()
        if counted is not None:
            return Usage(counted.points_used, counted.money_used_minor, counted.uses)
        if limit is not None:
            await self.conn.execute(_UNCLAIM_MEMBER, member_params)
        return await self._refusal(offer, points, money_minor)

    async def _refusal(self, offer: Offer, points: int, money_minor: int) -> SkipReason:
        row = (await self.conn.execute(_COUNTERS, {"ids": [offer.id]})).one()
        if row.status != OfferStatus.ACTIVE.value:
            return SkipReason.NOT_ACTIVE
        if offer.limits.max_uses is not None and row.uses >= offer.limits.max_uses:
            return SkipReason.GLOBAL_LIMIT_REACHED
        return SkipReason.BUDGET_EXHAUSTED


def _coupon(row: Any) -> Coupon:
    return Coupon(row.id, row.offer_id, row.code, row.max_uses, row.uses, row.member_id)
