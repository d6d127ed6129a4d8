"""Offers, their usage counters, awards and coupons."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from domain.merchants import Merchant
from domain.offers import Award, FunderKind, Offer, OfferIndex, OfferStatus, SkipReason, Usage
from tests.unit.fakes.database import Repository


class FakeOfferRepository(Repository):
    """The offer store as the SQL one behaves: claims check and count the same limits."""

    async def add(self, offer: Offer, at: datetime) -> Offer:
        stored = replace(offer, id=self.db.next_id(), version=1)
        self.t.offers[stored.id] = stored
        return stored

    async def update(self, offer: Offer, at: datetime) -> Offer:
        stored = replace(offer, version=self.t.offers[offer.id].version + 1)
        self.t.offers[offer.id] = stored
        return stored

    async def usage_of(self, offer_id: int) -> Usage:
        return self.t.offer_usage.get(offer_id, Usage())

    async def get(self, offer_id: int) -> Offer | None:
        return self.t.offers.get(offer_id)

    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None:
        self.t.offers[offer_id] = replace(self.t.offers[offer_id], status=status)

    async def live(self) -> list[Offer]:
        return [o for o in self.t.offers.values() if o.status is OfferStatus.ACTIVE]

    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        return OfferIndex(await self.live()).for_merchant(merchant)

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]:
        return [
            o.id
            for o in self.t.offers.values()
            if any(f.kind is kind and f.funder_id == funder_id for f in o.funding)
        ]

    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]:
        return {
            i: replace(
                self.t.offer_usage.get(i, Usage()),
                member_uses=self.t.offer_member_uses.get((i, member_id, periods.get(i, _NO_PERIOD)), 0),
            )
            for i in offer_ids
        }

    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        award_id = self.db.next_id()
        self.t.member_awards.append((award_id, member_id, offer.id, reason, points))
        return award_id

    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        self.t.awards += [(purchase_id, award) for award in awards]

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | None:
        used = self.t.offer_usage.get(offer.id, Usage())
        limits = offer.limits
        member_key = (offer.id, member_id, period_start)
        if limits.per_member is not None and self.t.offer_member_uses.get(member_key, 0) >= limits.per_member:
            return SkipReason.MEMBER_LIMIT_REACHED
        if self.t.offers[offer.id].status is not OfferStatus.ACTIVE:
            return SkipReason.NOT_ACTIVE
        if limits.max_uses is not None and used.uses >= limits.max_uses:
            return SkipReason.GLOBAL_LIMIT_REACHED
        if (limits.budget_points is not None and used.points + points > limits.budget_points) or (
            limits.budget_money is not None
            and used.money_minor + money_minor > limits.budget_money.amount_minor
        ):
            return SkipReason.BUDGET_EXHAUSTED
        self.t.offer_usage[offer.id] = Usage(
            used.points + points, used.money_minor + money_minor, used.uses + 1
        )
        if limits.per_member is not None:
            self.t.offer_member_uses[member_key] = self.t.offer_member_uses.get(member_key, 0) + 1
        return None


_NO_PERIOD = datetime.min
