"""Admin catalogue management: merchants, partner brands, rewards."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

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


@strawberry.input(description="A new merchant.")
class CreateMerchantInput:
    name: str = strawberry.field(description="Its display name.")
    category: MerchantCategory = strawberry.field(description="What it sells.")
    channel: MerchantChannel = strawberry.field(
        default=DomainMerchantChannel.BOTH, description="Where it sells."
    )
    partner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The partner brand it belongs to, if any."
    )
    earn_rate_override: Decimal | None = strawberry.field(
        default=None, description="Points per currency unit at this merchant."
    )
    pending_days: int | None = strawberry.field(
        default=None, description="Its own return window in days (e.g. 30 for a travel agent)."
    )


@strawberry.type(description="The new merchant, or why nothing changed.")
class CreateMerchantPayload:
    merchant: Merchant | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A new partner brand.")
class CreatePartnerBrandInput:
    name: str = strawberry.field(description="Its display name.")
    kind: PartnerKind = strawberry.field(description="What business it is in.")


@strawberry.type(description="The new partner brand, or why nothing changed.")
class CreatePartnerBrandPayload:
    partner_brand: PartnerBrand | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A new catalogue reward.")
class CreateRewardInput:
    name: str = strawberry.field(description="Its display name.")
    cost_points: int = strawberry.field(description="Points one unit costs.")
    stock: int | None = strawberry.field(default=None, description="Omitted or null: unlimited.")
    active: bool = strawberry.field(default=True, description="Only active rewards may be redeemed.")
    per_member_limit: int | None = strawberry.field(
        default=None, description="Redemptions per member per limitPeriod; omitted: no limit."
    )
    limit_period: LimitPeriod | None = strawberry.field(
        default=None, description="The period perMemberLimit counts in; EVER when omitted."
    )
    tier_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Only members of these tiers may redeem it; omitted: every tier."
    )


@strawberry.type(description="The new reward, or why nothing changed.")
class CreateRewardPayload:
    reward: Reward | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class AdminMutations:
    @strawberry.mutation(permission_classes=ADMIN, description="Add a merchant (ADMIN).")
    async def create_merchant(
        self,
        info: Info,
        input: Annotated[CreateMerchantInput, strawberry.argument(description="The new merchant.")],
    ) -> CreateMerchantPayload:
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

    @strawberry.mutation(permission_classes=ADMIN, description="Add a partner brand (ADMIN).")
    async def create_partner_brand(
        self,
        info: Info,
        input: Annotated[CreatePartnerBrandInput, strawberry.argument(description="The new partner brand.")],
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

    @strawberry.mutation(permission_classes=ADMIN, description="Add a reward to the catalogue (ADMIN).")
    async def create_reward(
        self,
        info: Info,
        input: Annotated[CreateRewardInput, strawberry.argument(description="The new reward.")],
    ) -> CreateRewardPayload:
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
