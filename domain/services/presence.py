"""Who a merchant or processor may act for: the member that presented itself, and links.

A merchant names a member only through what the member gave it: the one-time code from its wallet
(which also serves that checkout's payment, `authorizeRedemption`), or the reference of the member's
standing link to that merchant. Anything else, an internal id included, gets `NotPresented`: the
same refusal whether the member exists, is locked, or not. A processor (the bank's card
processing) posts for any member, named by id or externalRef, at a merchant it names.
"""

from __future__ import annotations

from datetime import datetime

from domain import member_links, redemption_codes
from domain.actors import Actor, Role
from domain.commands import PresentedMember
from domain.errors import Forbidden, MemberLocked, NotFound, NotPresented, Validation
from domain.member_links import MerchantLink
from domain.members import Member, MemberStatus
from domain.ports import UnitOfWork
from domain.services.common import active_member, existing_member, require_role

_REF_ATTEMPTS = 5  # fresh references drawn if one is taken (at ~99 bits, never in practice)


def _one_way(presented: PresentedMember) -> tuple[str, str | int]:
    given = [
        (field, value)
        for field, value in (
            ("memberCode", presented.code),
            ("memberRef", presented.ref),
            ("memberId", presented.member_id),
            ("memberExternalRef", presented.external_ref),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise Validation("name the member in exactly one way", ("member",))
    return given[0]


async def merchant_member(
    uow: UnitOfWork, merchant_id: int, presented: PresentedMember, now: datetime, *, checkout: bool
) -> Member:
    """The member a merchant acts for. `checkout` uses the code for this checkout's earning (a dry
    run only checks it). Call inside the unit of work: a refusal later rolls the code's use back."""
    field, value = _one_way(presented)
    member_id: int | None = None
    if field == "memberCode" and redemption_codes.well_formed(str(value)):
        code_hash = redemption_codes.code_hash(str(value))
        codes = uow.redemption_codes
        member_id = await (codes.use_for_purchase if checkout else codes.holder)(code_hash, now)
    elif field == "memberRef" and member_links.well_formed(str(value)):
        member_id = await uow.member_links.member_for_ref(merchant_id, member_links.normalize(str(value)))
    member = None if member_id is None else await uow.members.get(member_id)
    if member is None:
        raise NotPresented(field)
    if member.status is not MemberStatus.ACTIVE:
        # It did present itself (its own code, its own link): the merchant may know it is locked.
        raise MemberLocked(f"member is {member.status.value.lower()}", (field,))
    return member


async def processor_member(uow: UnitOfWork, presented: PresentedMember) -> Member:
    field, value = _one_way(presented)
    if field == "memberId":
        return await active_member(uow, int(value), field)
    if field == "memberExternalRef":
        found = await uow.members.get_by_external_ref(str(value))
        if found is None:
            raise NotFound("no such member", (field,))
        return await active_member(uow, found.id, field)
    raise Validation("a processor names the member by memberId or memberExternalRef", (field,))


async def link_merchant(merchant_id: int, *, actor: Actor, uow: UnitOfWork, now: datetime) -> MerchantLink:
    """The calling member links itself to a merchant (idempotent: a standing link is returned)."""
    member_id = _member_of(actor)
    async with uow:
        await active_member(uow, member_id, "memberId")
        if await uow.merchants.get(merchant_id) is None:
            raise NotFound("no such merchant", ("merchantId",))
        for _ in range(_REF_ATTEMPTS):
            link = await uow.member_links.link(merchant_id, member_id, member_links.new_member_ref(), now)
            if link is not None:
                await uow.commit()
                return link
    raise RuntimeError("could not draw an unused member reference")


async def unlink_merchant(merchant_id: int, *, actor: Actor, uow: UnitOfWork, now: datetime) -> bool:
    """The calling member withdraws its link; the merchant's reference stops working for good."""
    member_id = _member_of(actor)
    async with uow:
        await existing_member(uow, member_id, "memberId")
        if not await uow.member_links.unlink(merchant_id, member_id, now):
            raise NotFound("the member has no link to this merchant", ("merchantId",))
        await uow.commit()
    return True


def _member_of(actor: Actor) -> int:
    require_role(actor, Role.MEMBER)
    if actor.member_id is None:
        raise Forbidden("the token names no member")
    return actor.member_id
