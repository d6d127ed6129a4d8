"""A member changes its own profile (what offers target it by), contact data and marketing consent.

Only the fields given change (KEEP leaves one as it is; None clears it). The values pass the same
checks as at enrolment. A change is audited as an admin's change of a member is, contact data
masked; a request that changes nothing writes nothing. The consent's time is when it last changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from domain.actors import Actor, Role
from domain.clock import Clock
from domain.errors import Forbidden, MemberLocked
from domain.members import IncomeBand, Member, MemberStatus
from domain.ports import UnitOfWork
from domain.services.admin import audit_event, clean_contact, clean_profile
from domain.services.common import existing_member, require_role


class Keep(Enum):
    KEEP = "KEEP"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class UpdateMyProfile:
    birth_year: int | Keep | None = KEEP
    region: str | Keep | None = KEEP
    income_band: IncomeBand | Keep | None = KEEP
    tags: tuple[str, ...] | Keep = KEEP
    time_zone: str | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    email: str | Keep | None = KEEP
    marketing_consent: bool | Keep = KEEP


def _given(**values: object) -> dict[str, object]:
    return {name: value for name, value in values.items() if value is not KEEP}


async def update_my_profile(cmd: UpdateMyProfile, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    require_role(actor, Role.MEMBER)
    member_id = actor.member_id
    if member_id is None:
        raise Forbidden("the token names no member")
    now = clock.now()
    async with uow:
        member = await existing_member(uow, member_id)
        if member.status in (MemberStatus.CLOSED, MemberStatus.ERASED):
            raise MemberLocked(f"member is {member.status.value.lower()}", ("memberId",))
        profile = clean_profile(
            replace(
                member.profile,
                **_given(  # type: ignore[arg-type]  # KEEP is filtered out
                    birth_year=cmd.birth_year,
                    region=cmd.region,
                    income_band=cmd.income_band,
                    tags=cmd.tags,
                    time_zone=cmd.time_zone,
                ),
            ),
            now,
        )
        contact = clean_contact(
            replace(member.contact, **_given(phone=cmd.phone, email=cmd.email))  # type: ignore[arg-type]  # KEEP is filtered out
        )
        consent = member.marketing_consent if cmd.marketing_consent is KEEP else cmd.marketing_consent
        consent_at = now if consent != member.marketing_consent else member.marketing_consent_at
        changed = replace(
            member,
            profile=profile,
            contact=contact,
            marketing_consent=consent,
            marketing_consent_at=consent_at,
        )
        if changed == member:
            return member
        await uow.members.update_profile(
            member.id,
            profile=profile,
            contact=contact,
            marketing_consent=consent,
            marketing_consent_at=consent_at,
        )
        await uow.audit.record(
            audit_event(actor, "updateMyProfile", "Member", member.id, member, changed, now)
        )
        await uow.commit()
    return changed
