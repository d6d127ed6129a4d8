"""Per-request DataLoaders over the read model: a page of N items costs a constant number of queries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from functools import cached_property

from strawberry.dataloader import DataLoader

from domain.clock import Clock
from domain.members import Balance, Member
from domain.merchants import Merchant, PartnerBrand
from domain.movements import Expiration, MemberAward, Transfer
from domain.offers import Award, Offer
from domain.ports import ExpiringPoints, ReadModel
from domain.profiles import LONGEST_WINDOW, DayActivity, LifecycleRules, utc_day
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase
from domain.refunds import Refund
from domain.rewards import Redemption, Reward
from domain.tiers import Tier, TierProgress, ladder_currency, progress, window_start

EXPIRING_SOON = timedelta(days=30)


class Loaders:
    """The request's loaders, each made on first use: most requests need one or two of them."""

    def __init__(self, reader: ReadModel, clock: Clock) -> None:
        self.reader = reader
        self.clock = clock
        self._ladder: asyncio.Future[list[Tier]] | None = None
        self._programme: asyncio.Future[Programme] | None = None
        self._lifecycle_rules: asyncio.Future[LifecycleRules] | None = None

    def ladder(self) -> Awaitable[list[Tier]]:
        """The tier ladder, read once per request however many fields ask for it."""
        if self._ladder is None:
            self._ladder = asyncio.ensure_future(self.reader.tiers())
        return self._ladder

    def lifecycle_rules(self) -> Awaitable[LifecycleRules]:
        if self._lifecycle_rules is None:
            self._lifecycle_rules = asyncio.ensure_future(self.reader.lifecycle_rules())
        return self._lifecycle_rules

    def programme(self) -> Awaitable[Programme]:
        if self._programme is None:
            self._programme = asyncio.ensure_future(self.reader.programme())
        return self._programme

    @cached_property
    def tier_progress(self) -> DataLoader[Member, TierProgress | None]:
        """Keyed by the member as read (its tier and grace): one aggregate for the whole batch."""

        async def load(members: list[Member]) -> list[TierProgress | None]:
            ladder = await self.ladder()
            if not ladder:
                return [None for _ in members]
            since = window_start(self.clock.now(), (await self.programme()).tier_window_months)
            found = await self.reader.qualifications([m.id for m in members], since, ladder_currency(ladder))
            return [progress(ladder, m, q, since) for m, q in zip(members, found, strict=True)]

        return DataLoader(load)

    @cached_property
    def members(self) -> DataLoader[int, Member | None]:
        async def load(member_ids: list[int]) -> list[Member | None]:
            # A member's balance comes in the same statement; priming spares a second query.
            found = await self.reader.members_with_balances(member_ids)
            for pair in found:
                if pair is not None:
                    self.balances.prime(pair[0].id, pair[1])
            return [pair[0] if pair else None for pair in found]

        return DataLoader(load)

    @cached_property
    def activity(self) -> DataLoader[int, list[DayActivity]]:
        """Each member's profile counters over the longest window (and a day's margin for the zone)."""

        async def load(member_ids: list[int]) -> list[list[DayActivity]]:
            since = utc_day(self.clock.now()) - timedelta(days=LONGEST_WINDOW)
            return await self.reader.activity(member_ids, since)

        return DataLoader(load)

    @cached_property
    def balances(self) -> DataLoader[int, Balance | None]:
        return DataLoader(self.reader.balances)

    @cached_property
    def expiring(self) -> DataLoader[int, list[ExpiringPoints]]:
        async def load(member_ids: list[int]) -> list[list[ExpiringPoints]]:
            return await self.reader.expiring(member_ids, self.clock.now() + EXPIRING_SOON)

        return DataLoader(load)

    @cached_property
    def merchants(self) -> DataLoader[int, Merchant | None]:
        return DataLoader(self.reader.merchants)

    @cached_property
    def partners(self) -> DataLoader[int, PartnerBrand | None]:
        return DataLoader(self.reader.partners)

    @cached_property
    def rewards(self) -> DataLoader[int, Reward | None]:
        return DataLoader(self.reader.rewards)

    @cached_property
    def purchases(self) -> DataLoader[int, Purchase | None]:
        return DataLoader(self.reader.purchases)

    @cached_property
    def refunds(self) -> DataLoader[int, Refund | None]:
        return DataLoader(self.reader.refunds)

    @cached_property
    def purchase_refunds(self) -> DataLoader[int, list[Refund]]:
        return DataLoader(self.reader.purchase_refunds)

    @cached_property
    def redemptions(self) -> DataLoader[int, Redemption | None]:
        return DataLoader(self.reader.redemptions)

    @cached_property
    def offers(self) -> DataLoader[int, Offer | None]:
        return DataLoader(self.reader.offers)

    @cached_property
    def awards(self) -> DataLoader[int, list[Award]]:
        return DataLoader(self.reader.awards)

    @cached_property
    def adjustments(self) -> DataLoader[int, Adjustment | None]:
        return DataLoader(self.reader.adjustments)

    @cached_property
    def transfers(self) -> DataLoader[int, Transfer | None]:
        return DataLoader(self.reader.transfers)

    @cached_property
    def expirations(self) -> DataLoader[int, Expiration | None]:
        return DataLoader(self.reader.expirations)

    @cached_property
    def member_awards(self) -> DataLoader[int, MemberAward | None]:
        return DataLoader(self.reader.member_awards)
