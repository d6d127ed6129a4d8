"""Offer guards (domain/ports/guards.py): their settings and the one time each fires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.experiments import report as dr
from domain.experiments.guards import GuardKind, OfferGuard, RoiReading
from domain.offers import OfferStatus, Usage
from persistence import offer_codec
from persistence.catalogue import Catalogue
from persistence.queries import campaign_arms
from persistence.tables import offer_guards, offers


def guard(row: Row[Any]) -> OfferGuard:
    return OfferGuard(
        id=row.id,
        offer_id=row.offer_id,
        kind=GuardKind(row.kind),
        tolerance_percent=row.tolerance_percent,
        min_used_percent=row.min_used_percent,
        min_participants=row.min_participants,
        min_roi_percent=row.min_roi_percent,
        fired_at=row.fired_at,
        fired_reason=row.fired_reason,
    )


class SqlGuardRepository:
    def __init__(self, conn: AsyncConnection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue

    async def replace(self, offer_id: int, guards: Sequence[OfferGuard], at: datetime) -> list[OfferGuard]:
        await self.conn.execute(delete(offer_guards).where(offer_guards.c.offer_id == offer_id))
        if guards:
            await self.conn.execute(
                insert(offer_guards),
                [
                    {
                        "offer_id": offer_id,
                        "kind": g.kind.value,
                        "tolerance_percent": g.tolerance_percent,
                        "min_used_percent": g.min_used_percent,
                        "min_participants": g.min_participants,
                        "min_roi_percent": g.min_roi_percent,
                        "created_at": at,
                    }
                    for g in guards
                ],
            )
        return await self.for_offer(offer_id)

    async def for_offer(self, offer_id: int) -> list[OfferGuard]:
        statement = (
            select(offer_guards).where(offer_guards.c.offer_id == offer_id).order_by(offer_guards.c.kind)
        )
        return [guard(row) for row in await self.conn.execute(statement)]

    async def armed(self, after_id: int, limit: int) -> list[OfferGuard]:
        statement = (
            select(offer_guards)
            .join(offers, offers.c.id == offer_guards.c.offer_id)
            .where(
                offer_guards.c.fired_at.is_(None),
                offer_guards.c.id > after_id,
                offers.c.status == OfferStatus.ACTIVE.value,
            )
            .order_by(offer_guards.c.id)
            .limit(limit)
        )
        return [guard(row) for row in await self.conn.execute(statement)]

    async def fire(self, guard_id: int, at: datetime, reason: str) -> bool:
        statement = (
            update(offer_guards)
            .where(offer_guards.c.id == guard_id, offer_guards.c.fired_at.is_(None))
            .values(fired_at=at, fired_reason=reason)
        )
        return (await self.conn.execute(statement)).rowcount == 1

    async def roi_reading(self, offer_id: int, at: datetime) -> RoiReading | None:
        """campaignReport's experiment figures over the offer's experiment up to `at`, with the same
        queries (persistence/queries/campaign_arms.py): None when the offer runs no experiment (no
        holdout, no incremental spend to speak of)."""
        row = (await self.conn.execute(select(offers).where(offers.c.id == offer_id))).first()
        if row is None:
            return None
        offer = offer_codec.from_json(row.id, row.version, OfferStatus(row.status), row.definition)
        experiment = offer.experiment
        if experiment is None:
            return None
        programme = await self.catalogue.programme()
        currency = dr.report_currency(offer, programme.currencies)
        query = dr.arm_query(offer, experiment, currency, at)
        report = dr.build_report(
            offer,
            query,
            programme.point_values.get(currency, Decimal(0)),
            await campaign_arms.member_spend(self.conn, query),
            {},
            await campaign_arms.costs(self.conn, query),
            [],
            Usage(),
        )
        participants, roi = dr.overall_roi(report)
        return RoiReading(participants, roi)
