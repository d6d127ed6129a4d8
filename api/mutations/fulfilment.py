"""A reward's fulfilment: an admin marks it handed over, or cancels it (the points come back)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.mutations.payload import run_use_case
from api.mutations.pos import RedemptionPayload, redemption_payload
from api.permissions import ADMIN, ADMIN_OR_MEMBER
from api.types.activity import Redemption
from api.types.ids import decode_id
from domain import commands
from domain.services.fulfilment import cancel_redemption, fulfil_redemption


@strawberry.input(description="The reward redemption handed over.")
class FulfilRedemptionInput:
    redemption_id: relay.GlobalID = strawberry.field(description="The redemption's global id.")


@strawberry.input(description="The reward redemption to cancel and why.")
class CancelRedemptionInput:
    redemption_id: relay.GlobalID = strawberry.field(description="The redemption's global id.")
    reason: str = strawberry.field(description="Why, for the audit.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The fulfilled redemption, or why nothing changed.")
class FulfilRedemptionPayload(RedemptionPayload):
    pass


@strawberry.type(description="The cancelled redemption, or why nothing changed.")
class CancelRedemptionPayload(RedemptionPayload):
    pass


@strawberry.type
class FulfilmentMutations:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="The reward was handed over: REQUESTED -> FULFILLED. Audited (ADMIN).",
    )
    async def fulfil_redemption(
        self,
        info: Info,
        input: Annotated[
            FulfilRedemptionInput, strawberry.argument(description="The redemption handed over.")
        ],
    ) -> FulfilRedemptionPayload:
        redemption, errors = await run_use_case(
            info,
            lambda actor, uow, clock: fulfil_redemption(
                commands.FulfilRedemption(decode_id(input.redemption_id, "Redemption", "redemptionId")),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return FulfilRedemptionPayload(
            redemption=Redemption.from_domain(redemption) if redemption else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=ADMIN_OR_MEMBER,
        description="Cancel a reward not yet fulfilled (ADMIN, or the MEMBER its own): the points "
        "and the unit of stock go back. Audited.",
    )
    async def cancel_redemption(
        self,
        info: Info,
        input: Annotated[CancelRedemptionInput, strawberry.argument(description="The redemption and why.")],
    ) -> CancelRedemptionPayload:
        return await redemption_payload(
            info,
            CancelRedemptionPayload,
            lambda actor, uow, clock: cancel_redemption(
                commands.CancelRedemption(
                    redemption_id=decode_id(input.redemption_id, "Redemption", "redemptionId"),
                    reason=input.reason,
                    idempotency_key=input.idempotency_key,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
