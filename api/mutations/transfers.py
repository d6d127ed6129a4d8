"""transferPoints: a member gives points to another member."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import MEMBER
from domain import commands
from domain.services.transfers import transfer_points


@strawberry.input(description="Points to give and to whom.")
class TransferPointsInput:
    points: int = strawberry.field(description="How many; at least 1.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    to_referral_code: str | None = strawberry.field(default=None, description="The receiver's referral code.")
    to_external_ref: str | None = strawberry.field(default=None, description="Or the receiver's externalRef.")


@strawberry.type(description="The points given, or why nothing changed.")
class TransferPointsPayload:
    points: int | None = strawberry.field(description="The points given.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class TransferMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Give points to another member, within the programme's monthly limit (MEMBER).",
    )
    async def transfer_points(
        self,
        info: Info,
        input: Annotated[
            TransferPointsInput, strawberry.argument(description="The points and the receiver.")
        ],
    ) -> TransferPointsPayload:
        command = commands.TransferPoints(
            points=input.points,
            idempotency_key=input.idempotency_key,
            to_referral_code=input.to_referral_code,
            to_external_ref=input.to_external_ref,
        )
        result, errors = await run_use_case(
            info, lambda actor, uow, clock: transfer_points(command, actor=actor, uow=uow, clock=clock)
        )
        return TransferPointsPayload(points=result.points if result else None, errors=errors)
