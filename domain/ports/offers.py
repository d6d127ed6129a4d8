"""Offers, their usage counters, awards and coupons."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.experiments.model import Assignment
from domain.merchants import Merchant
from domain.offers import (
    Award,
    Coupon,
    FunderKind,
    Offer,
    OfferStatus,
    SkipReason,
    Usage,
)


class OfferRepository(Protocol):
    async def add(self, offer: Offer, at: datetime) -> Offer:
        """Store a new offer; its id and version (1) are assigned here."""
        ...

    async def update(self, offer: Offer, at: datetime) -> Offer:
        """Store `offer` as the next version of the offer with its id."""
        ...

    async def usage_of(self, offer_id: int) -> Usage: ...
    async def get(self, offer_id: int) -> Offer | None: ...
    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None: ...
    async def live(self) -> list[Offer]: ...
    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        """The live offers that could apply at this merchant: a superset of the eligible ones."""
        ...

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]: ...
    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]: ...
    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        """A sign-up or referral bonus (the origin of its journal entry); returns its id."""
        ...

    async def add_coupons(
        self, offer_id: int, codes: Sequence[str], max_uses: int, at: datetime
    ) -> list[Coupon]: ...
    async def coupon(self, code: str) -> Coupon | None: ...
    async def claim_coupon(self, code: str, member_id: int, at: datetime) -> Coupon | None: ...
    async def use_coupon(self, coupon_id: int, member_id: int) -> bool:
        """Count one use atomically; False when none is left or the coupon is another member's."""
        ...

    async def wallet(self, member_id: int) -> list[Coupon]: ...
    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        """`cap_periods`: by offer id, the member cap period each capped award was claimed in."""
        ...

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | Usage:
        """Count one award against the offer's budget and caps, atomically in this transaction;
        returns the limit that refuses it, having changed nothing, or the offer's counters with the
        award (points, money, uses; read under the row's lock this transaction now holds, so they
        are exact)."""
        ...

    async def record_assignments(self, assignments: Sequence[Assignment], at: datetime) -> None:
        """Record members' arms the first time they are evaluated for an experiment's offer; an
        assignment already recorded stays as it is (first wins), in this transaction."""
        ...
