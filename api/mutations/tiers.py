"""Admin management of the tier ladder: createTier, updateTier (audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.mutations.purchases import MoneyInput
from api.permissions import ADMIN
from api.types.ids import decode_id
from api.types.tiers import Tier
from domain import commands
from domain.money import Money
from domain.services.tiers import create_tier, update_tier


@strawberry.input(description="A new tier on the ladder.")
class CreateTierInput:
    code: str = strawberry.field(description="Unique, kept in upper case, e.g. GOLD.")
    name: str = strawberry.field(description="Its display name.")
    rank: int = strawberry.field(description="Unique; higher is better.")
    min_points: int | None = strawberry.field(
        default=None, description="Qualifying points in the window that reach this tier."
    )
    min_spend: MoneyInput | None = strawberry.field(
        default=None, description="Or qualifying spend in the window (one currency for the whole ladder)."
    )
    earn_multiplier: Decimal = strawberry.field(
        default=Decimal(1), description="Base earn x this, between 1 and 10 (e.g. 1.5)."
    )


@strawberry.input(description="Omitted fields stay as they are; minPoints or minSpend null clears it.")
class UpdateTierInput:
    id: relay.GlobalID = strawberry.field(description="The tier's global id.")
    code: str | None = strawberry.field(default=strawberry.UNSET, description="Unique, kept in upper case.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Its display name.")
    rank: int | None = strawberry.field(default=strawberry.UNSET, description="Unique; higher is better.")
    min_points: int | None = strawberry.field(
        default=strawberry.UNSET, description="Qualifying points that reach it; null clears it."
    )
    min_spend: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="Qualifying spend that reaches it; null clears it."
    )
    earn_multiplier: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Base earn x this, between 1 and 10."
    )


@strawberry.type(description="The new tier, or why nothing changed.")
class CreateTierPayload:
    tier: Tier | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The tier as it now stands, or why nothing changed.")
class UpdateTierPayload:
    tier: Tier | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


def _money(value: MoneyInput | None) -> Money | None:
    return None if value is None else Money(value.amount_minor, value.currency)


T = TypeVar("T")


def _kept(value: T | None) -> T | commands.Unchanged:
    """Omitted or null: unchanged (for the fields a tier cannot be without)."""
    return commands.UNCHANGED if value is None or value is strawberry.UNSET else value


def _update_command(input: UpdateTierInput) -> commands.UpdateTier:
    return commands.UpdateTier(
        tier_id=decode_id(input.id, "Tier", "id"),
        code=_kept(input.code),
        name=_kept(input.name),
        rank=_kept(input.rank),
        min_points=commands.UNCHANGED if input.min_points is strawberry.UNSET else input.min_points,
        min_spend=commands.UNCHANGED if input.min_spend is strawberry.UNSET else _money(input.min_spend),
        earn_multiplier=_kept(input.earn_multiplier),
    )


@strawberry.type
class TierMutations:
    @strawberry.mutation(permission_classes=ADMIN, description="Add a tier to the ladder (ADMIN).")
    async def create_tier(
        self,
        info: Info,
        input: Annotated[CreateTierInput, strawberry.argument(description="The new tier.")],
    ) -> CreateTierPayload:
        command = commands.CreateTier(
            code=input.code,
            name=input.name,
            rank=input.rank,
            min_points=input.min_points,
            min_spend=_money(input.min_spend),
            earn_multiplier=input.earn_multiplier,
        )
        tier, errors = await run_use_case(
            info, lambda actor, uow, clock: create_tier(command, actor=actor, uow=uow, clock=clock)
        )
        return CreateTierPayload(tier=Tier.from_domain(tier) if tier else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Change a tier; members move by the rules at their next purchase or evaluation (ADMIN).",
    )
    async def update_tier(
        self,
        info: Info,
        input: Annotated[UpdateTierInput, strawberry.argument(description="The tier and what changes.")],
    ) -> UpdateTierPayload:
        tier, errors = await run_use_case(
            info,
            lambda actor, uow, clock: update_tier(_update_command(input), actor=actor, uow=uow, clock=clock),
        )
        return UpdateTierPayload(tier=Tier.from_domain(tier) if tier else None, errors=errors)
