"""A member's own account: its profile, contact and marketing consent, and closing it; an admin
reopens a closed account within its grace period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN, MEMBER
from api.types.enums import IncomeBand
from api.types.ids import decode_id
from api.types.members import Member, load_member
from domain.services.closure import CloseMyAccount, ReopenMember, close_my_account, reopen_member
from domain.services.profile import KEEP, Keep, UpdateMyProfile, update_my_profile

T = TypeVar("T")


def _kept(value: T) -> T | Keep:
    """An input field left out (UNSET) keeps its value; null clears it."""
    return KEEP if value is strawberry.UNSET else value


@strawberry.input(description="Only the fields given change; null clears one.")
class UpdateMyProfileInput:
    birth_year: int | None = strawberry.field(default=strawberry.UNSET, description="Four digits, e.g. 1990.")
    region: str | None = strawberry.field(
        default=strawberry.UNSET, description="Its region, as offers name it."
    )
    income_band: IncomeBand | None = strawberry.field(
        default=strawberry.UNSET, description="Its income band."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Free labels offers may target (up to 20); null clears them."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An IANA time zone (Asia/Shanghai) for its notifications' quiet hours; null: UTC.",
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Digits, spaces, + and -; stored encrypted."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Stored encrypted.")
    marketing_consent: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether the programme may send it marketing; the time it changes is recorded.",
    )


@strawberry.type(description="The member as the change left it, or why nothing changed.")
class UpdateMyProfilePayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Closing the caller's own account.")
class CloseMyAccountInput:
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )


@strawberry.type(description="The closed account and what became of its points, or why nothing changed.")
class CloseMyAccountPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    points_forfeited: int | None = strawberry.field(
        description="Available points forfeited at once (policy FORFEIT); 0 under KEEP."
    )
    points_forfeit_at: datetime | None = strawberry.field(
        description="When the kept points will be forfeited unless an admin reopens the account (KEEP)."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The closed account to reopen and why.")
class ReopenMemberInput:
    member_id: relay.GlobalID = strawberry.field(description="The member's global id.")
    reason: str = strawberry.field(description="Why, for the audit.")


@strawberry.type(description="The reopened member, or why nothing changed.")
class ReopenMemberPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Change the caller's own profile, contact data and marketing consent (MEMBER). "
        "Validated as at enrolment; audited with contact data masked.",
    )
    async def update_my_profile(
        self,
        info: Info,
        input: Annotated[UpdateMyProfileInput, strawberry.argument(description="The fields to change.")],
    ) -> UpdateMyProfilePayload:
        tags = input.tags
        command = UpdateMyProfile(
            birth_year=_kept(input.birth_year),
            region=_kept(input.region),
            income_band=_kept(input.income_band),
            tags=KEEP if tags is strawberry.UNSET else tuple(tags or ()),
            time_zone=_kept(input.time_zone),
            phone=_kept(input.phone),
            email=_kept(input.email),
            marketing_consent=KEEP
            if input.marketing_consent is strawberry.UNSET
            else bool(input.marketing_consent),
        )
        member, errors = await run_use_case(
            info, lambda actor, uow, clock: update_my_profile(command, actor=actor, uow=uow, clock=clock)
        )
        return UpdateMyProfilePayload(member=Member.from_domain(member) if member else None, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBER,
        description="Close the caller's own account (MEMBER): it earns and spends nothing more. Its "
        "available points follow the programme's closurePolicy. Refused while points are pending, held "
        "or under review, or a redeemed reward is not handed over yet.",
    )
    async def close_my_account(
        self,
        info: Info,
        input: Annotated[CloseMyAccountInput, strawberry.argument(description="The idempotency key.")],
    ) -> CloseMyAccountPayload:
        command = CloseMyAccount(idempotency_key=input.idempotency_key)
        result, errors = await run_use_case(
            info, lambda actor, uow, clock: close_my_account(command, actor=actor, uow=uow, clock=clock)
        )
        if result is None:
            return CloseMyAccountPayload(
                member=None, points_forfeited=None, points_forfeit_at=None, errors=errors
            )
        return CloseMyAccountPayload(
            member=await load_member(info, result.member_id),
            points_forfeited=result.points_forfeited,
            points_forfeit_at=None
            if result.points_forfeit_at is None
            else datetime.fromisoformat(result.points_forfeit_at),
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Reopen a closed account while its points wait (closurePolicy KEEP, before "
        "pointsForfeitAt): ACTIVE again with its points. Audited (ADMIN).",
    )
    async def reopen_member(
        self,
        info: Info,
        input: Annotated[ReopenMemberInput, strawberry.argument(description="The member and why.")],
    ) -> ReopenMemberPayload:
        member, errors = await run_use_case(
            info,
            # The id is decoded inside the use case's run, so a malformed one is answered as data.
            lambda actor, uow, clock: reopen_member(
                ReopenMember(decode_id(input.member_id, "Member", "memberId"), input.reason),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return ReopenMemberPayload(member=Member.from_domain(member) if member else None, errors=errors)
