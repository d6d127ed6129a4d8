"""transferPoints: a member gives points to another member."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import MEMBER
from domain import commands
from domain.services.transfers import transfer_points


@strawberry.input
class TransferPointsInput:
    points: int
    idempotency_key: str
    to_referral_code: str | None = strawberry.field(default=None, description="The receiver's referral code.")
    to_external_ref: str | None = strawberry.field(default=None, description="Or the receiver's externalRef.")


@strawberry.type
class TransferPointsPayload:
    points: int | None = strawberry.field(description="The points given.")
    errors: list[UserError]


@strawberry.type
class TransferMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Give points to another member, within the programme's monthly limit.",
    )
    async def transfer_points(self, info: Info, input: TransferPointsInput) -> TransferPointsPayload:
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
