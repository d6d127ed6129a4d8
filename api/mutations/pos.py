"""Two-phase redemption at a POS: the member's wallet creates a one-time code; the merchant
authorizes with it (the points are held), then captures (spends) or voids (releases) the hold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import RateLimited, UserError
from api.mutations.payload import run_use_case
from api.permissions import MEMBER, MERCHANT
from api.types.activity import Redemption
from api.types.ids import decode_id
from domain import commands
from domain.actors import Actor
from domain.clock import Clock
from domain.ports import UnitOfWork
from domain.results import RedemptionResult
from domain.security import Secret
from domain.services.pos_redemptions import (
    authorize_redemption,
    capture_redemption,
    create_redemption_code,
    void_redemption,
)


@strawberry.type(description="A redemption as it now stands, or why nothing changed.")
class RedemptionPayload:
    """The shape every redemption mutation answers with, each under its own type name."""

    redemption: Redemption | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The hold made, or why nothing changed.")
class AuthorizeRedemptionPayload(RedemptionPayload):
    available_points: int | None = strawberry.field(
        default=None,
        description="The member's spendable points after the hold: the MERCHANT holds its one-time code "
        "(null when errors is not empty).",
    )


@strawberry.type(description="The captured redemption, or why nothing changed.")
class CaptureRedemptionPayload(RedemptionPayload):
    pass


@strawberry.type(description="The voided redemption, or why nothing changed.")
class VoidRedemptionPayload(RedemptionPayload):
    pass


P = TypeVar("P", bound=RedemptionPayload)


async def redemption_payload(
    info: Info,
    payload: type[P],
    use_case: Callable[[Actor, UnitOfWork, Clock], Awaitable[RedemptionResult]],
    guessing: Mapping[str, Secret] | None = None,
) -> P:
    result, errors = await run_use_case(info, use_case, guessing=guessing)
    if result is None:
        return payload(redemption=None, errors=errors)
    answer = payload(redemption=await answered_redemption(info, result), errors=[])
    if isinstance(answer, AuthorizeRedemptionPayload):
        answer.available_points = result.available_points
    return answer


async def answered_redemption(info: Info, result: RedemptionResult) -> Redemption | None:
    """The redemption as the use case left it: a committed change answers from its result, never
    from a read after the commit (which could fail and hide that the change was made)."""
    found = result.snapshot()
    if found is None:  # an answer stored before results kept the redemption
        found = await info.context.loaders.redemptions.load(result.redemption_id)
    else:
        info.context.loaders.redemptions.prime(found.id, found)
    return Redemption.from_domain(found) if found else None


@strawberry.input(description="Optional; only to echo a client id.")
class CreateRedemptionCodeInput:
    client_mutation_id: str | None = strawberry.field(default=None, description="Echoed in the payload.")


@strawberry.type(description="A one-time code for a merchant, or why none was made.")
class CreateRedemptionCodePayload:
    code: str | None = strawberry.field(
        description="Show it once to the merchant (as text or a QR code); it works once, until expiresAt."
    )
    expires_at: datetime | None = strawberry.field(description="When the code stops working.")
    client_mutation_id: str | None = strawberry.field(description="The input's clientMutationId.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A member's one-time code and what to hold.")
class AuthorizeRedemptionInput:
    code: str = strawberry.field(description="The member's one-time code from createRedemptionCode.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    points: int | None = strawberry.field(default=None, description="Points to hold; or give rewardId.")
    reward_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Hold the reward's cost and one unit of its stock; or give points."
    )


@strawberry.input(description="The hold to spend, and how much of it.")
class CaptureRedemptionInput:
    redemption_id: relay.GlobalID = strawberry.field(description="The hold's global id.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    points: int | None = strawberry.field(
        default=None, description="Points to spend, at most those held; omitted: all. The rest go back."
    )
    purchase_id: relay.GlobalID | None = strawberry.field(
        default=None, description="This merchant's purchase of the member that the points paid for."
    )


@strawberry.input(description="The hold to release.")
class VoidRedemptionInput:
    redemption_id: relay.GlobalID = strawberry.field(description="The hold's global id.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type
class PosMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="A one-time code, valid 5 minutes, for a merchant to hold the caller's points (MEMBER).",
    )
    async def create_redemption_code(
        self,
        info: Info,
        input: Annotated[
            CreateRedemptionCodeInput | None,
            strawberry.argument(description="Optional; only to echo a client id."),
        ] = None,
    ) -> CreateRedemptionCodePayload:
        context = info.context
        assert context.actor is not None, "guarded by MEMBER"
        if (retry_after := await context.limits.code_creation_refused(context.actor)) is not None:
            if context.response is not None:
                context.response.status_code = 429
                context.response.headers["Retry-After"] = str(retry_after)
            raise RateLimited(retry_after)
        issued, errors = await run_use_case(
            info, lambda actor, uow, clock: create_redemption_code(actor=actor, uow=uow, clock=clock)
        )
        return CreateRedemptionCodePayload(
            code=issued.code if issued else None,
            expires_at=issued.expires_at if issued else None,
            client_mutation_id=input.client_mutation_id if input else None,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Hold a member's points (or a reward) with the member's one-time code (MERCHANT).",
    )
    async def authorize_redemption(
        self,
        info: Info,
        input: Annotated[
            AuthorizeRedemptionInput, strawberry.argument(description="The member's code and what to hold.")
        ],
    ) -> AuthorizeRedemptionPayload:
        return await redemption_payload(
            info,
            AuthorizeRedemptionPayload,
            lambda actor, uow, clock: authorize_redemption(
                commands.AuthorizeRedemption(
                    code=input.code,
                    idempotency_key=input.idempotency_key,
                    points=input.points,
                    reward_id=decode_id(input.reward_id, "Reward", "rewardId") if input.reward_id else None,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
            guessing={"code": Secret.REDEMPTION_CODE},
        )

    @strawberry.mutation(
        permission_classes=MERCHANT, description="Spend all or part of a hold; the rest goes back (MERCHANT)."
    )
    async def capture_redemption(
        self,
        info: Info,
        input: Annotated[
            CaptureRedemptionInput, strawberry.argument(description="The hold and what to spend.")
        ],
    ) -> CaptureRedemptionPayload:
        return await redemption_payload(
            info,
            CaptureRedemptionPayload,
            lambda actor, uow, clock: capture_redemption(
                commands.CaptureRedemption(
                    redemption_id=decode_id(input.redemption_id, "Redemption", "redemptionId"),
                    idempotency_key=input.idempotency_key,
                    points=input.points,
                    purchase_id=decode_id(input.purchase_id, "Purchase", "purchaseId")
                    if input.purchase_id
                    else None,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT, description="Release a hold: all its points go back (MERCHANT)."
    )
    async def void_redemption(
        self,
        info: Info,
        input: Annotated[VoidRedemptionInput, strawberry.argument(description="The hold to release.")],
    ) -> VoidRedemptionPayload:
        return await redemption_payload(
            info,
            VoidRedemptionPayload,
            lambda actor, uow, clock: void_redemption(
                commands.VoidRedemption(
                    redemption_id=decode_id(input.redemption_id, "Redemption", "redemptionId"),
                    idempotency_key=input.idempotency_key,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
