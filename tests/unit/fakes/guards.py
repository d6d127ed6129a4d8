"""Offer guards in memory, like persistence/repositories/guards.py; the campaign figures an ROI guard
reads are set by the test (`GuardTables.roi_readings`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.experiments.guards import OfferGuard, RoiReading
from domain.offers import OfferStatus

if TYPE_CHECKING:
    from tests.unit.fakes.database import FakeDatabase, Tables


@dataclass
class GuardTables:
    guards: dict[int, OfferGuard] = field(default_factory=dict)
    roi_readings: dict[int, RoiReading] = field(default_factory=dict)  # by offer id
    created_at: dict[int, datetime] = field(default_factory=dict)  # by guard id, as the table keeps it


class FakeGuardRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.tables

    @property
    def gt(self) -> GuardTables:
        return self.t.guards

    async def replace(self, offer_id: int, guards: Sequence[OfferGuard], at: datetime) -> list[OfferGuard]:
        self.gt.guards = {i: g for i, g in self.gt.guards.items() if g.offer_id != offer_id}
        for g in guards:
            if any(o.offer_id == offer_id and o.kind is g.kind for o in self.gt.guards.values()):
                raise RuntimeError("one guard of each kind per offer (a unique violation)")
            stored = replace(g, id=self.db.next_id(), offer_id=offer_id, fired_at=None, fired_reason=None)
            self.gt.guards[stored.id] = stored
            self.gt.created_at[stored.id] = at
        return await self.for_offer(offer_id)

    async def for_offer(self, offer_id: int) -> list[OfferGuard]:
        return sorted((g for g in self.gt.guards.values() if g.offer_id == offer_id), key=lambda g: g.kind)

    async def armed(self, after_id: int, limit: int) -> list[OfferGuard]:
        live = {o.id for o in self.t.offers.values() if o.status is OfferStatus.ACTIVE}
        found = [
            g
            for g in sorted(self.gt.guards.values(), key=lambda g: g.id)
            if g.fired_at is None and g.id > after_id and g.offer_id in live
        ]
        return found[:limit]

    async def fire(self, guard_id: int, at: datetime, reason: str) -> bool:
        current = self.gt.guards.get(guard_id)
        if current is None or current.fired_at is not None:
            return False
        self.gt.guards[guard_id] = replace(current, fired_at=at, fired_reason=reason)
        return True

    async def roi_reading(self, offer_id: int, at: datetime) -> RoiReading | None:
        return self.gt.roi_readings.get(offer_id)
