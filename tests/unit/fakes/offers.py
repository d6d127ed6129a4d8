"""Offers, their usage counters, awards and coupons."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from domain.errors import AlreadyExists
from domain.experiments.model import Assignment
from domain.merchants import Merchant
from domain.movements import MemberAward
from domain.offers import Award, Coupon, FunderKind, Offer, OfferIndex, OfferStatus, SkipReason, Usage
from tests.unit.fakes.database import AwardRow, Repository


class FakeOfferRepository(Repository):
    """The offer store as the SQL one behaves: claims check and count the same limits, in the same
    order (the member's cap, then the offer's stored status, uses and budget)."""

    async def add(self, offer: Offer, at: datetime) -> Offer:
        stored = replace(offer, id=self.db.next_id(), version=1)
        self.t.offers[stored.id] = stored
        return stored

    async def update(self, offer: Offer, at: datetime) -> Offer:
        current = self.t.offers[offer.id]
        stored = replace(offer, version=current.version + 1)
        self.t.offers[offer.id] = replace(stored, status=current.status)  # the status is set_status's
        return stored

    async def record_assignments(self, assignments: Sequence[Assignment], at: datetime) -> None:
        for a in assignments:
            self.t.assignments.setdefault((a.offer_id, a.experiment_id, a.member_id), (a.arm, at))

    async def usage_of(self, offer_id: int) -> Usage:
        if offer_id not in self.t.offers:
            raise LookupError(f"no offer {offer_id}")  # the SQL .one() finds no row
        return self.t.offer_usage.get(offer_id, Usage())

    async def get(self, offer_id: int) -> Offer | None:
        return self.t.offers.get(offer_id)

    async def set_status(self, offer_id: int, status: OfferStatus, at: datetime) -> None:
        if offer_id in self.t.offers:
            self.t.offers[offer_id] = replace(self.t.offers[offer_id], status=status)

    async def live(self) -> list[Offer]:
        return [o for _, o in sorted(self.t.offers.items()) if o.status is OfferStatus.ACTIVE]

    async def for_merchant(self, merchant: Merchant) -> list[Offer]:
        return OfferIndex(await self.live()).for_merchant(merchant)

    async def funded_by(self, kind: FunderKind, funder_id: int) -> list[int]:
        return [
            o.id
            for _, o in sorted(self.t.offers.items())
            if any(f.kind is kind and (f.funder_id or 0) == funder_id for f in o.funding)
        ]

    async def usage(
        self, offer_ids: Collection[int], member_id: int, periods: dict[int, datetime]
    ) -> dict[int, Usage]:
        return {
            i: replace(
                self.t.offer_usage.get(i, Usage()),
                member_uses=self.t.offer_member_uses.get((i, member_id, periods[i]), 0)
                if i in periods
                else 0,
            )
            for i in sorted(offer_ids)
            if i in self.t.offers
        }

    async def record_member_award(
        self, member_id: int, offer: Offer, reason: str, points: int, purchase_id: int | None, at: datetime
    ) -> int:
        award = MemberAward(self.db.next_id(), member_id, offer.id, reason, points, purchase_id, at)
        self.t.member_awards[award.id] = award
        return award.id

    async def record_awards(
        self,
        purchase_id: int,
        member_id: int,
        awards: Sequence[Award],
        currency: str,
        at: datetime,
        cap_periods: Mapping[int, datetime] | None = None,
    ) -> None:
        periods = cap_periods or {}
        for award in awards:
            row = AwardRow(
                self.db.next_id(),
                purchase_id,
                member_id,
                award,
                periods.get(award.offer_id),
                currency=currency,
                created_at=at,
            )
            self.t.purchase_awards[row.id] = row

    async def claim(
        self, offer: Offer, member_id: int, period_start: datetime, points: int, money_minor: int
    ) -> SkipReason | Usage:
        per_member = offer.limits.per_member
        if per_member is not None and not (isinstance(member_id, int) and isinstance(period_start, datetime)):
            # offer_member_usage's key is (offer_id, member_id, period_start): none of them NULL
            raise ValueError(
                f"a member cap's row needs a member and a period: {member_id!r}, {period_start!r}"
            )
        member_key = (offer.id, member_id, period_start)
        if per_member is not None and self.t.offer_member_uses.get(member_key, 0) >= per_member:
            return SkipReason.MEMBER_LIMIT_REACHED
        stored = self.t.offers[offer.id]
        limits = stored.limits  # the offer row's columns, as the last add or update wrote them
        used = self.t.offer_usage.get(offer.id, Usage())
        if stored.status is not OfferStatus.ACTIVE:
            return SkipReason.NOT_ACTIVE
        if limits.max_uses is not None and used.uses >= limits.max_uses:
            # The SQL names the global limit by the caller's offer, and the budget otherwise.
            if offer.limits.max_uses is not None and used.uses >= offer.limits.max_uses:
                return SkipReason.GLOBAL_LIMIT_REACHED
            return SkipReason.BUDGET_EXHAUSTED
        if (limits.budget_points is not None and used.points + points > limits.budget_points) or (
            limits.budget_money is not None
            and used.money_minor + money_minor > limits.budget_money.amount_minor
        ):
            return SkipReason.BUDGET_EXHAUSTED
        after = Usage(used.points + points, used.money_minor + money_minor, used.uses + 1)
        self.t.offer_usage[offer.id] = after
        if per_member is not None:
            self.t.offer_member_uses[member_key] = self.t.offer_member_uses.get(member_key, 0) + 1
        return after

    async def add_coupons(
        self, offer_id: int, codes: Sequence[str], max_uses: int, at: datetime
    ) -> list[Coupon]:
        taken = {c.code for c in self.t.coupons.values()}
        if len(set(codes)) != len(codes) or taken.intersection(codes):
            raise AlreadyExists("this code is taken", ("sharedCode",))  # the unique code, all or nothing
        made = [Coupon(self.db.next_id(), offer_id, code, max_uses, 0, None) for code in codes]
        self.t.coupons.update((c.id, c) for c in made)
        return made

    async def coupon(self, code: str) -> Coupon | None:
        return next((c for c in self.t.coupons.values() if c.code == code), None)

    async def claim_coupon(self, code: str, member_id: int, at: datetime) -> Coupon | None:
        found = await self.coupon(code)
        if found is None or found.member_id is not None or found.max_uses != 1:
            return None
        self.t.coupons[found.id] = replace(found, member_id=member_id)
        return self.t.coupons[found.id]

    async def use_coupon(self, coupon_id: int, member_id: int) -> bool:
        found = self.t.coupons.get(coupon_id)
        if found is None or found.uses >= found.max_uses or found.member_id not in (None, member_id):
            return False
        self.t.coupons[coupon_id] = replace(found, uses=found.uses + 1)
        return True

    async def wallet(self, member_id: int) -> list[Coupon]:
        return [c for _, c in sorted(self.t.coupons.items()) if c.member_id == member_id]
