"""The catalogue: merchants, partner brands, rewards, and the programme settings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.merchants import Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.programme import Programme
from domain.rewards import LimitPeriod, Reward


class MerchantRepository(Protocol):
    async def get(self, merchant_id: int) -> Merchant | None: ...
    async def add(
        self,
        *,
        name: str,
        category: MerchantCategory,
        channel: MerchantChannel,
        partner_id: int | None,
        earn_rate_override: Decimal | None,
        at: datetime,
        pending_days: int | None = None,
    ) -> Merchant: ...


class PartnerRepository(Protocol):
    async def get(self, partner_id: int) -> PartnerBrand | None: ...
    async def add(self, *, name: str, kind: PartnerKind, at: datetime) -> PartnerBrand: ...


class RewardRepository(Protocol):
    async def get(self, reward_id: int) -> Reward | None: ...
    async def add(
        self,
        *,
        name: str,
        cost_points: int,
        stock: int | None,
        active: bool,
        at: datetime,
        per_member_limit: int | None = None,
        limit_period: LimitPeriod | None = None,
        tier_ids: frozenset[int] | None = None,
    ) -> Reward: ...
    async def take_one(self, reward_id: int, cost_points: int) -> bool:
        """Take one unit of stock if the reward is still active at that cost and in stock."""
        ...

    async def give_back_one(self, reward_id: int) -> None:
        """One unit back to stock (a cancelled redemption, a voided or expired hold); unlimited
        stock stays unlimited."""
        ...

    async def unknown_tiers(self, tier_ids: Collection[int]) -> set[int]:
        """Those of `tier_ids` that name no tier."""
        ...


class ProgrammeRepository(Protocol):
    async def get(self) -> Programme: ...
    async def update(self, settings: Mapping[str, object]) -> None:
        """Change the named lifecycle settings (fields of Programme; not the name or earn rates)."""
        ...

    async def set_point_values(self, values: Mapping[str, Decimal]) -> None:
        """Set what one point is worth in each named currency (one the programme accepts)."""
        ...
