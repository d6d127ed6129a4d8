"""Small look-ups every use case repeats, with their typed errors."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.errors import Forbidden, MemberLocked, NotFound
from domain.members import Member, MemberStatus
from domain.ports import UnitOfWork


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise Forbidden(f"this operation needs the role {' or '.join(r.value for r in roles)}")


async def existing_member(uow: UnitOfWork, member_id: int, field: str = "memberId") -> Member:
    member = await uow.members.get(member_id)
    if member is None:
        raise NotFound("no such member", (field,))
    return member


async def active_member(uow: UnitOfWork, member_id: int, field: str = "memberId") -> Member:
    member = await existing_member(uow, member_id, field)
    if member.status is not MemberStatus.ACTIVE:
        raise MemberLocked(f"member is {member.status.value.lower()}", (field,))
    return member
