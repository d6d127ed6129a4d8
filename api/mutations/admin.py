"""Admin catalogue management: merchants, partner brands, rewards."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN
from api.types.catalogue import Merchant, PartnerBrand, Reward
from api.types.enums import LimitPeriod, MerchantCategory, MerchantChannel, PartnerKind
from api.types.ids import decode_id
from domain import commands
from domain.merchants import MerchantChannel as DomainMerchantChannel
from domain.services.admin import create_merchant, create_partner_brand, create_reward


@strawberry.input
class CreateMerchantInput:
    name: str
    category: MerchantCategory  # type: ignore[valid-type]
    channel: MerchantChannel = DomainMerchantChannel.BOTH  # type: ignore[valid-type]
    partner_id: relay.GlobalID | None = None
    earn_rate_override: Decimal | None = strawberry.field(
        default=None, description="Points per currency unit at this merchant."
    )
    pending_days: int | None = strawberry.field(
        default=None, description="Its own return window in days (e.g. 30 for a travel agent)."
    )


@strawberry.type
class CreateMerchantPayload:
    merchant: Merchant | None
    errors: list[UserError]


@strawberry.input
class CreatePartnerBrandInput:
    name: str
    kind: PartnerKind  # type: ignore[valid-type]


@strawberry.type
class CreatePartnerBrandPayload:
    partner_brand: PartnerBrand | None
    errors: list[UserError]


@strawberry.input
class CreateRewardInput:
    name: str
    cost_points: int
    stock: int | None = strawberry.field(default=None, description="Omitted or null: unlimited.")
    active: bool = True
    per_member_limit: int | None = strawberry.field(
        default=None, description="Redemptions per member per limitPeriod; omitted: no limit."
    )
    limit_period: LimitPeriod | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The period perMemberLimit counts in; EVER when omitted."
    )
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Only members of these tiers may redeem it; omitted: every tier."
    )


@strawberry.type
class CreateRewardPayload:
    reward: Reward | None
    errors: list[UserError]


@strawberry.type
class AdminMutations:
    @strawberry.mutation(permission_classes=ADMIN)
    async def create_merchant(self, info: Info, input: CreateMerchantInput) -> CreateMerchantPayload:
        merchant, errors = await run_use_case(
            info,
            lambda actor, uow, clock: create_merchant(
                commands.CreateMerchant(
                    name=input.name,
                    category=input.category,
                    channel=input.channel,
                    partner_id=decode_id(input.partner_id, "PartnerBrand", "partnerId")
                    if input.partner_id
                    else None,
                    earn_rate_override=input.earn_rate_override,
                    pending_days=input.pending_days,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return CreateMerchantPayload(
            merchant=Merchant.from_domain(merchant) if merchant else None, errors=errors
        )

    @strawberry.mutation(permission_classes=ADMIN)
    async def create_partner_brand(
        self, info: Info, input: CreatePartnerBrandInput
    ) -> CreatePartnerBrandPayload:
        partner, errors = await run_use_case(
            info,
            lambda actor, uow, clock: create_partner_brand(
                commands.CreatePartnerBrand(name=input.name, kind=input.kind),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return CreatePartnerBrandPayload(
            partner_brand=PartnerBrand.from_domain(partner) if partner else None, errors=errors
        )

    @strawberry.mutation(permission_classes=ADMIN)
    async def create_reward(self, info: Info, input: CreateRewardInput) -> CreateRewardPayload:
        reward, errors = await run_use_case(
            info,
            lambda actor, uow, clock: create_reward(
                commands.CreateReward(
                    name=input.name,
                    cost_points=input.cost_points,
                    stock=input.stock,
                    active=input.active,
                    per_member_limit=input.per_member_limit,
                    limit_period=input.limit_period,
                    tier_ids=None
                    if input.tier_ids is None
                    else tuple(decode_id(t, "Tier", "tierIds") for t in input.tier_ids),
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return CreateRewardPayload(reward=Reward.from_domain(reward) if reward else None, errors=errors)
