"""Object-level access: who may read which member-scoped objects."""

from __future__ import annotations

from api.context import Info
from domain.actors import Role


async def can_read_member(info: Info, member_id: int) -> bool:
    """Admins read everyone; a member only itself; a merchant the members it has transacted with."""
    actor = info.context.actor
    if actor is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    if actor.role is Role.MEMBER:
        return actor.member_id == member_id
    if actor.role is Role.MERCHANT and actor.merchant_id is not None:
        return await info.context.reader.merchant_knows_member(actor.merchant_id, member_id)
    return False


def owns_member_data(info: Info, member_id: int) -> bool:
    """Admin, or the member itself: the callers allowed to see a member's own history."""
    actor = info.context.actor
    return actor is not None and (
        actor.role is Role.ADMIN or (actor.role is Role.MEMBER and actor.member_id == member_id)
    )
