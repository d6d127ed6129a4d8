"""Guard rules on offers: admins set them and read them; the `guards` job fires them (scripts/jobs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import retrying, run_use_case
from api.permissions import ADMIN
from api.types.enums import describe_values
from api.types.ids import decode_id, try_decode_id
from domain.actors import Actor
from domain.clock import Clock
from domain.experiments import guards as dg
from domain.ports import UnitOfWork
from domain.services.guards import OfferGuards, set_offer_guards

strawberry.enum(
    dg.GuardKind,
    name="GuardKind",
    description="What an offer guard watches; when it trips, the guards job pauses the offer, once.",
)
describe_values(
    dg.GuardKind,
    {
        dg.GuardKind.BURN_RATE: "The budget: pause when, at the pace since the window opened, the budget "
        "(points or money) would run out before the window ends.",
        dg.GuardKind.ROI: "The return: pause when, after minParticipants took part, the campaign's ROI "
        "against its holdout is below minRoiPercent.",
    },
)
GuardKind = dg.GuardKind


@strawberry.type(description="A guard rule on an offer, and whether it has fired (ADMIN).")
class OfferGuard:
    kind: GuardKind = strawberry.field(description="What it watches.")
    tolerance_percent: int = strawberry.field(
        description="BURN_RATE: how far over the budget the projection may go before it fires, in percent."
    )
    min_used_percent: int = strawberry.field(
        description="BURN_RATE: no verdict before this share of the budget is used, in percent."
    )
    min_participants: int = strawberry.field(
        description="ROI: no verdict before this many members took part."
    )
    min_roi_percent: int = strawberry.field(
        description="ROI: it fires when the ROI is below this, in percent (0: break even)."
    )
    fired_at: datetime | None = strawberry.field(
        description="When it fired and paused the offer; null while it is armed."
    )
    fired_reason: str | None = strawberry.field(
        description="Why it fired, with the figures it read; null while it is armed."
    )

    @classmethod
    def from_domain(cls, g: dg.OfferGuard) -> OfferGuard:
        return cls(
            kind=g.kind,
            tolerance_percent=g.tolerance_percent,
            min_used_percent=g.min_used_percent,
            min_participants=g.min_participants,
            min_roi_percent=g.min_roi_percent,
            fired_at=g.fired_at,
            fired_reason=g.fired_reason,
        )


@strawberry.input(description="One guard rule; the settings of the other kind are ignored.")
class OfferGuardInput:
    kind: GuardKind = strawberry.field(description="What it watches; at most one guard of each kind.")
    tolerance_percent: int = strawberry.field(
        default=0,
        description="BURN_RATE: how far over the budget the projection may go, in percent (0 to 1000).",
    )
    min_used_percent: int = strawberry.field(
        default=5,
        description="BURN_RATE: no verdict before this share of the budget is used, in percent (0 to 100), "
        "so the first purchases after the window opens cannot pause the offer.",
    )
    min_participants: int = strawberry.field(
        default=0, description="ROI: no verdict before this many members took part (0 or more)."
    )
    min_roi_percent: int = strawberry.field(
        default=0, description="ROI: fire when the ROI is below this, in percent (-1000 to 100000)."
    )


@strawberry.input(description="An offer's guard rules, replacing the ones it has.")
class SetOfferGuardsInput:
    offer_id: relay.GlobalID = strawberry.field(description="The offer's global id.")
    guards: list[OfferGuardInput] = strawberry.field(
        description="Its guards, armed anew (a fired guard set again fires again); empty removes them. "
        "A BURN_RATE guard needs an offer with a budget."
    )


@strawberry.type(description="The offer's guards as they now stand, or why nothing changed.")
class SetOfferGuardsPayload:
    guards: list[OfferGuard] | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


def _guards(offer_id: int, given: list[OfferGuardInput]) -> list[dg.OfferGuard]:
    return [
        dg.OfferGuard(
            offer_id=offer_id,
            kind=g.kind,
            tolerance_percent=g.tolerance_percent,
            min_used_percent=g.min_used_percent,
            min_participants=g.min_participants,
            min_roi_percent=g.min_roi_percent,
        )
        for g in given
    ]


@strawberry.type
class GuardQueries:
    @strawberry.field(
        permission_classes=ADMIN,
        description="An offer's guard rules, fired or armed, by kind; empty when it has none, or the id "
        "names no offer (ADMIN).",
    )
    async def offer_guards(
        self,
        info: Info,
        offer_id: Annotated[relay.GlobalID, strawberry.argument(description="The offer's global id.")],
    ) -> list[OfferGuard]:
        offer = try_decode_id(offer_id, "Offer")
        if offer is None:
            return []  # as for an offer that has none: an id names an offer or nothing

        async def read() -> list[dg.OfferGuard]:
            async with info.context.read_uow_factory() as uow:
                return await uow.guards.for_offer(offer)

        return [OfferGuard.from_domain(g) for g in await retrying(info, read)]


@strawberry.type
class GuardMutations:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Set an offer's guard rules (burn rate, ROI): the guards job pauses the offer when one "
        "trips, once; audited (ADMIN).",
    )
    async def set_offer_guards(
        self,
        info: Info,
        input: Annotated[SetOfferGuardsInput, strawberry.argument(description="The offer and its guards.")],
    ) -> SetOfferGuardsPayload:
        async def use_case(actor: Actor, uow: UnitOfWork, clock: Clock) -> OfferGuards:
            offer_id = decode_id(input.offer_id, "Offer", "offerId")
            given = _guards(offer_id, input.guards)
            return await set_offer_guards(offer_id, given, actor=actor, uow=uow, clock=clock)

        result, errors = await run_use_case(info, use_case)
        guards = None if result is None else [OfferGuard.from_domain(g) for g in result.guards]
        return SetOfferGuardsPayload(guards=guards, errors=errors)
