"""Offer guards: their settings, the one-time record of their firing, and the figures an ROI guard reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.experiments.guards import OfferGuard, RoiReading


class GuardRepository(Protocol):
    async def replace(self, offer_id: int, guards: Sequence[OfferGuard], at: datetime) -> list[OfferGuard]:
        """Make these (unfired) the offer's guards, dropping the ones it had; the stored guards, by kind."""
        ...

    async def for_offer(self, offer_id: int) -> list[OfferGuard]:
        """The offer's guards, fired or not, by kind."""
        ...

    async def armed(self, after_id: int, limit: int) -> list[OfferGuard]:
        """Unfired guards of ACTIVE offers with ids above `after_id`, by id, at most `limit`."""
        ...

    async def fire(self, guard_id: int, at: datetime, reason: str) -> bool:
        """Record that the guard fired, only if it has not (one conditional UPDATE, so of two job
        processes only one fires it); whether this call did."""
        ...

    async def roi_reading(self, offer_id: int, at: datetime) -> RoiReading | None:
        """The ROI guard's data source: the offer's participants and ROI over its window up to `at`,
        as its campaign report computes them (experiment arms against the holdout, cost by funder from
        the ledger, margin rate from the campaign settings), with the campaign report's queries; None
        for an offer without an experiment (no holdout to compare with): its ROI guard never fires."""
        ...
