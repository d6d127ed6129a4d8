"""Member operations: enrol, lock, unlock, adjust points (admin), erase (admin or the member)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN, ADMIN_OR_MEMBER
from api.types.activity import Adjustment
from api.types.enums import IncomeBand, ReasonCode
from api.types.ids import decode_id
from api.types.members import Member
from domain import commands
from domain.members import Contact, Profile
from domain.services.adjustments import adjust_points
from domain.services.admin import enroll_member, lock_member, unlock_member
from domain.services.erasure import erase_member


@strawberry.input(description="What offers may target the member by; every field optional.")
class MemberProfileInput:
    birth_year: int | None = strawberry.field(default=None, description="Four digits, e.g. 1990.")
    region: str | None = strawberry.field(default=None, description="The member's region, as offers name it.")
    income_band: IncomeBand | None = strawberry.field(default=None, description="The member's income band.")
    tags: list[str] = strawberry.field(default_factory=list, description="Free labels offers may target.")


@strawberry.input(description="A new member's identity, profile and contact.")
class EnrollMemberInput:
    external_ref: str = strawberry.field(description="The bank's or wallet's own customer id; unique.")
    profile: MemberProfileInput | None = strawberry.field(
        default=None, description="Omitted: an empty profile."
    )
    phone: str | None = strawberry.field(default=None, description="The member's phone number.")
    email: str | None = strawberry.field(default=None, description="The member's email address.")
    referral_code: str | None = strawberry.field(default=None, description="The referring member's code.")


@strawberry.type(description="The new member, or why it was not enrolled.")
class EnrollMemberPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The member to lock and why.")
class LockMemberInput:
    member_id: relay.GlobalID = strawberry.field(description="The member's global id.")
    reason: str = strawberry.field(description="Why, kept as the member's statusReason.")


@strawberry.type(description="The member as it now stands, or why nothing changed.")
class LockMemberPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="The member to unlock and why.")
class UnlockMemberInput:
    member_id: relay.GlobalID = strawberry.field(description="The member's global id.")
    reason: str = strawberry.field(description="Why, kept as the member's statusReason.")


@strawberry.type(description="The member as it now stands, or why nothing changed.")
class UnlockMemberPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A manual change to a member's points.")
class AdjustPointsInput:
    member_id: relay.GlobalID = strawberry.field(description="The member's global id.")
    points: int = strawberry.field(description="Signed: positive adds a lot, negative consumes lots.")
    reason_code: ReasonCode = strawberry.field(description="Why, for the audit.")
    idempotency_key: str = strawberry.field(
        description="Repeating it with the same input replays the answer."
    )
    note: str | None = strawberry.field(default=None, description="Free text kept with the adjustment.")


@strawberry.type(description="The adjustment made, or why nothing changed.")
class AdjustPointsPayload:
    adjustment: Adjustment | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")
    member_id: strawberry.Private[int | None] = None

    @strawberry.field(description="The member adjusted, as it now stands.")
    async def member(self, info: Info) -> Member | None:
        # As the adjustment committed it (primed from the use case's result); only a replayed answer
        # reads the member afresh, through the loaders, which retry a lost connection.
        if self.member_id is None:
            return None
        found = await info.context.loaders.members.load(self.member_id)
        return Member.from_domain(found) if found else None


@strawberry.input(description="The member whose personal data is to be erased.")
class EraseMemberInput:
    member_id: relay.GlobalID = strawberry.field(
        description="The member's global id; a MEMBER may name only itself."
    )


@strawberry.type(description="The member as erasure left it, or why nothing changed.")
class EraseMemberPayload:
    member: Member | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class MemberMutations:
    @strawberry.mutation(permission_classes=ADMIN, description="Enrol a new member (ADMIN).")
    async def enroll_member(
        self,
        info: Info,
        input: Annotated[EnrollMemberInput, strawberry.argument(description="The new member.")],
    ) -> EnrollMemberPayload:
        profile = input.profile or MemberProfileInput()
        member, errors = await run_use_case(
            info,
            lambda actor, uow, clock: enroll_member(
                commands.EnrollMember(
                    external_ref=input.external_ref,
                    profile=Profile(
                        birth_year=profile.birth_year,
                        region=profile.region,
                        income_band=profile.income_band,
                        tags=tuple(profile.tags),
                    ),
                    contact=Contact(phone=input.phone, email=input.email),
                    referral_code=input.referral_code,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return EnrollMemberPayload(member=Member.from_domain(member) if member else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN_OR_MEMBER,
        description="Erase a member's personal data (ADMIN, audited; or the MEMBER itself): contact and "
        "profile removed, externalRef and referral code replaced by random ones, status ERASED for good. "
        "Its ledger and the audit log stay as they are. Refused (VALIDATION) while it has available, "
        "pending or held points. Erasing an erased member changes nothing, so no idempotency key is "
        "needed.",
    )
    async def erase_member(
        self,
        info: Info,
        input: Annotated[EraseMemberInput, strawberry.argument(description="The member to erase.")],
    ) -> EraseMemberPayload:
        member, errors = await run_use_case(
            info,
            lambda actor, uow, clock: erase_member(
                commands.EraseMember(decode_id(input.member_id, "Member", "memberId")),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return EraseMemberPayload(member=Member.from_domain(member) if member else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Stop the member earning and spending (ADMIN)."
    )
    async def lock_member(
        self,
        info: Info,
        input: Annotated[LockMemberInput, strawberry.argument(description="The member and why.")],
    ) -> LockMemberPayload:
        member, errors = await run_use_case(
            info,
            lambda actor, uow, clock: lock_member(
                commands.ChangeMemberStatus(decode_id(input.member_id, "Member", "memberId"), input.reason),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return LockMemberPayload(member=Member.from_domain(member) if member else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Let a locked member earn and spend again (ADMIN)."
    )
    async def unlock_member(
        self,
        info: Info,
        input: Annotated[UnlockMemberInput, strawberry.argument(description="The member and why.")],
    ) -> UnlockMemberPayload:
        member, errors = await run_use_case(
            info,
            lambda actor, uow, clock: unlock_member(
                commands.ChangeMemberStatus(decode_id(input.member_id, "Member", "memberId"), input.reason),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return UnlockMemberPayload(member=Member.from_domain(member) if member else None, errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Add or remove points with a reason; audited (ADMIN)."
    )
    async def adjust_points(
        self,
        info: Info,
        input: Annotated[
            AdjustPointsInput, strawberry.argument(description="The member, the points and the reason.")
        ],
    ) -> AdjustPointsPayload:
        result, errors = await run_use_case(
            info,
            lambda actor, uow, clock: adjust_points(
                commands.AdjustPoints(
                    member_id=decode_id(input.member_id, "Member", "memberId"),
                    points=input.points,
                    reason_code=input.reason_code,
                    idempotency_key=input.idempotency_key,
                    note=input.note,
                ),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        if result is None:
            return AdjustPointsPayload(adjustment=None, errors=errors)
        if result.member is not None and result.balance is not None:
            info.context.loaders.members.prime(result.member.id, result.member)
            info.context.loaders.balances.prime(result.balance.member_id, result.balance)
        adjustment = result.adjustment()
        if adjustment is None:  # an answer stored before results kept the adjustment
            adjustment = await info.context.loaders.adjustments.load(result.adjustment_id)
        return AdjustPointsPayload(
            adjustment=Adjustment.from_domain(adjustment) if adjustment else None,
            errors=[],
            member_id=result.member_id,
        )
