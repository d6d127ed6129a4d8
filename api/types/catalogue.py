"""Merchants and partner brands (read by any authenticated caller) and rewards (inactive ones by admins
only): the rules are in api/access.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from api.access import can_read_catalogue, can_read_reward
from api.context import Info
from api.types.enums import LimitPeriod, MerchantCategory, MerchantChannel, PartnerKind
from api.types.ids import encode_id
from api.types.nodes import LoadedNode
from domain import merchants as dm
from domain import rewards as dr


@strawberry.type(description="A brand (airline, hotel, shop) whose merchants and offers join the programme.")
class PartnerBrand(LoadedNode[dm.PartnerBrand]):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its display name.")
    kind: PartnerKind = strawberry.field(description="What business it is in.")
    created_at: datetime = strawberry.field(description="When it was added.")

    @classmethod
    def from_domain(cls, p: dm.PartnerBrand) -> PartnerBrand:
        return cls(id=p.id, name=p.name, kind=p.kind, created_at=p.created_at)

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.PartnerBrand | None]:
        return await info.context.loaders.partners.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, partner: dm.PartnerBrand) -> bool:
        return can_read_catalogue(info)


@strawberry.type(description="A shop or online store where members earn and spend points.")
class Merchant(LoadedNode[dm.Merchant]):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its display name.")
    category: MerchantCategory = strawberry.field(description="What it sells; offers may target it.")
    channel: MerchantChannel = strawberry.field(description="Where it sells: online, in store, or both.")
    earn_rate_override: Decimal | None = strawberry.field(
        description="Points per currency unit at this merchant, replacing the programme's base rate."
    )
    pending_days: int | None = strawberry.field(
        description="This merchant's return window in days, replacing the programme's; null: the programme's."
    )
    created_at: datetime = strawberry.field(description="When it was added.")
    partner_id: strawberry.Private[int | None]

    @strawberry.field(description="The partner brand it belongs to, if any.")
    async def partner_brand(self, info: Info) -> PartnerBrand | None:
        if self.partner_id is None or not can_read_catalogue(info):
            return None
        partner = await info.context.loaders.partners.load(self.partner_id)
        return PartnerBrand.from_domain(partner) if partner else None

    @classmethod
    def from_domain(cls, m: dm.Merchant) -> Merchant:
        return cls(
            id=m.id,
            name=m.name,
            category=m.category,
            channel=m.channel,
            earn_rate_override=m.earn_rate_override,
            pending_days=m.pending_days,
            created_at=m.created_at,
            partner_id=m.partner_id,
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dm.Merchant | None]:
        return await info.context.loaders.merchants.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, merchant: dm.Merchant) -> bool:
        return can_read_catalogue(info)


@strawberry.type(description="A catalogue item members buy with points.")
class Reward(LoadedNode[dr.Reward]):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its display name.")
    cost_points: int = strawberry.field(description="Points one unit costs.")
    stock: int | None = strawberry.field(description="Units left; null means unlimited.")
    active: bool = strawberry.field(description="Only active rewards may be redeemed.")
    created_at: datetime = strawberry.field(description="When it was added.")
    per_member_limit: int | None = strawberry.field(
        description="How many times one member may redeem it per limitPeriod; null: no limit."
    )
    limit_period: LimitPeriod | None = strawberry.field(description="The period perMemberLimit counts in.")
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        description="The tiers whose members may redeem it; null: every tier."
    )

    @classmethod
    def from_domain(cls, r: dr.Reward) -> Reward:
        return cls(
            id=r.id,
            name=r.name,
            cost_points=r.cost_points,
            stock=r.stock,
            active=r.active,
            created_at=r.created_at,
            per_member_limit=r.per_member_limit,
            limit_period=r.limit_period,
            tier_ids=None if r.tier_ids is None else [encode_id("Tier", t) for t in sorted(r.tier_ids)],
        )

    @classmethod
    async def load_many(cls, info: Info, ids: list[int]) -> list[dr.Reward | None]:
        return await info.context.loaders.rewards.load_many(ids)

    @classmethod
    def may_read(cls, info: Info, reward: dr.Reward) -> bool:
        return can_read_reward(info, reward)
