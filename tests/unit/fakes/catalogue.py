"""The catalogue: merchants, partner brands, rewards and the programme settings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from domain.merchants import Merchant, MerchantCategory, MerchantChannel, PartnerBrand, PartnerKind
from domain.programme import Programme
from domain.rewards import LimitPeriod, Reward
from tests.unit.fakes.database import Repository


class FakeMerchantRepository(Repository):
    async def get(self, merchant_id: int) -> Merchant | None:
        return self.t.merchants.get(merchant_id)

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
    ) -> Merchant:
        merchant = Merchant(
            self.db.next_id(), name, category, channel, partner_id, earn_rate_override, at, pending_days
        )
        self.t.merchants[merchant.id] = merchant
        return merchant


class FakePartnerRepository(Repository):
    async def get(self, partner_id: int) -> PartnerBrand | None:
        return self.t.partners.get(partner_id)

    async def add(self, *, name: str, kind: PartnerKind, at: datetime) -> PartnerBrand:
        partner = PartnerBrand(self.db.next_id(), name, kind, at)
        self.t.partners[partner.id] = partner
        return partner


class FakeRewardRepository(Repository):
    async def get(self, reward_id: int) -> Reward | None:
        return self.t.rewards.get(reward_id)

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
    ) -> Reward:
        reward = Reward(
            self.db.next_id(), name, cost_points, stock, active, at, per_member_limit, limit_period, tier_ids
        )
        self.t.rewards[reward.id] = reward
        return reward

    async def give_back_one(self, reward_id: int) -> None:
        reward = self.t.rewards[reward_id]
        if reward.stock is not None:
            self.t.rewards[reward_id] = replace(reward, stock=reward.stock + 1)

    async def unknown_tiers(self, tier_ids: Collection[int]) -> set[int]:
        return set(tier_ids) - set(self.t.tiers)

    async def take_one(self, reward_id: int, cost_points: int) -> bool:
        reward = self.t.rewards.get(reward_id)
        if reward is None or not reward.active or reward.cost_points != cost_points:
            return False
        if reward.stock is None:
            return True
        if reward.stock <= 0:
            return False
        self.t.rewards[reward_id] = replace(reward, stock=reward.stock - 1)
        return True


# The lifecycle settings `update` may change, as the SQL repository allows.
SETTINGS = frozenset(
    {
        "points_validity_months",
        "expiry_policy",
        "pending_days",
        "transfer_limit_per_month",
        "hold_minutes",
        "dormant_after_days",
        "tier_window_months",
        "tier_grace_days",
        "voucher_valid_days",
        "closure_policy",
        "closure_grace_days",
        "expiry_notice_days",
        "marketing_per_week",
        "sign_up_nudge_days",
        "quiet_hours_start",
        "quiet_hours_end",
    }
)


class FakeProgrammeRepository(Repository):
    async def get(self) -> Programme:
        return self.t.programme

    async def update(self, settings: Mapping[str, object]) -> None:
        unknown = set(settings) - SETTINGS
        if unknown:
            raise ValueError(f"not programme settings: {sorted(unknown)}")
        self.t.programme = replace(self.t.programme, **settings)  # type: ignore[arg-type]

    async def set_point_values(self, values: Mapping[str, Decimal]) -> None:
        unknown = set(values) - self.t.programme.currencies
        if unknown:
            raise ValueError(f"not programme currencies: {sorted(unknown)}")
        merged = {**self.t.programme.point_values, **values}
        self.t.programme = replace(self.t.programme, point_values=merged)
