"""The programme's settings: read by anyone signed in, changed by an admin (audited)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN, AUTHENTICATED
from domain import programme as dp
from domain.services.programme import UpdateProgramme, update_programme

ExpiryPolicy = strawberry.enum(dp.ExpiryPolicy, name="ExpiryPolicy")


@strawberry.type(description="How the programme runs the points lifecycle.")
class ProgrammeSettings:
    name: str
    points_validity_months: int
    expiry_policy: ExpiryPolicy  # type: ignore[valid-type]
    pending_days: int = strawberry.field(description="The return window: points stay pending this long.")
    transfer_limit_per_month: int
    hold_minutes: int = strawberry.field(description="How long a POS authorization holds points.")
    dormant_after_days: int
    tier_window_months: int
    tier_grace_days: int
    currencies: list[str]

    @classmethod
    def from_domain(cls, p: dp.Programme) -> ProgrammeSettings:
        return cls(
            name=p.name,
            points_validity_months=p.points_validity_months,
            expiry_policy=p.expiry_policy,
            pending_days=p.pending_days,
            transfer_limit_per_month=p.transfer_limit_per_month,
            hold_minutes=p.hold_minutes,
            dormant_after_days=p.dormant_after_days,
            tier_window_months=p.tier_window_months,
            tier_grace_days=p.tier_grace_days,
            currencies=sorted(p.currencies),
        )


@strawberry.input(description="Only the settings given change; they apply to what happens from now on.")
class UpdateProgrammeInput:
    points_validity_months: int | None = None
    expiry_policy: ExpiryPolicy | None = None  # type: ignore[valid-type]
    pending_days: int | None = None
    transfer_limit_per_month: int | None = None
    hold_minutes: int | None = None
    dormant_after_days: int | None = None
    tier_window_months: int | None = None
    tier_grace_days: int | None = None


@strawberry.type
class UpdateProgrammePayload:
    programme: ProgrammeSettings | None
    errors: list[UserError]


@strawberry.type
class ProgrammeQueries:
    @strawberry.field(permission_classes=AUTHENTICATED, description="The programme's settings.")
    async def programme(self, info: Info) -> ProgrammeSettings:
        return ProgrammeSettings.from_domain(await info.context.reader.programme())


@strawberry.type
class ProgrammeMutations:
    @strawberry.mutation(permission_classes=ADMIN)
    async def update_programme(self, info: Info, input: UpdateProgrammeInput) -> UpdateProgrammePayload:
        command = UpdateProgramme(
            points_validity_months=input.points_validity_months,
            expiry_policy=input.expiry_policy,
            pending_days=input.pending_days,
            transfer_limit_per_month=input.transfer_limit_per_month,
            hold_minutes=input.hold_minutes,
            dormant_after_days=input.dormant_after_days,
            tier_window_months=input.tier_window_months,
            tier_grace_days=input.tier_grace_days,
        )
        programme, errors = await run_use_case(
            info, lambda actor, uow, clock: update_programme(command, actor=actor, uow=uow, clock=clock)
        )
        return UpdateProgrammePayload(
            programme=ProgrammeSettings.from_domain(programme) if programme else None, errors=errors
        )
