"""Erasure of a member's personal data (PIPL's and GDPR's right to erasure), by pseudonymisation.

The member's contact and profile are emptied, its externalRef and referral code replaced by random
ones, and its status becomes ERASED, which no use case accepts: it can no longer earn, redeem,
transfer or be unlocked. The ledger, lots and history stay exactly as they were, so every balance
still equals its journal; the audit log never held its plain contact data, so it stays as well.

Points: erasure is refused while the member has available, pending or held points (the member
spends them, or an admin adjusts them off with a reason, first), so no points are silently lost or
left spendable on a record nobody can act for. A points debt does not block it: it stays on the
ledger as owed.

Erasing an erased member changes nothing and audits nothing: the request is idempotent by itself.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import Clock
from domain.commands import EraseMember
from domain.errors import NotFound, Validation
from domain.members import Contact, Member, MemberStatus, Profile
from domain.ports import UnitOfWork
from domain.services.admin import new_referral_code
from domain.services.common import existing_member, require_role
from domain.services.posting import lock_members

ERASED_REASON = "personal data erased"


def pseudonym() -> str:
    return "erased-" + secrets.token_hex(8)


async def erase_member(cmd: EraseMember, *, actor: Actor, uow: UnitOfWork, clock: Clock) -> Member:
    require_role(actor, Role.ADMIN, Role.MEMBER)
    if actor.role is Role.MEMBER and actor.member_id != cmd.member_id:
        raise NotFound("no such member", ("memberId",))  # the same answer as for no member at all
    now = clock.now()
    async with uow:
        member = await existing_member(uow, cmd.member_id)
        if member.status is MemberStatus.ERASED:
            return member
        # The balance row's lock keeps a purchase from earning between the check and the erasure.
        balance = (await lock_members(uow, [member.id]))[member.id]
        remaining = balance.available + balance.pending + balance.held
        if remaining:
            raise Validation(
                f"the member still has {remaining} points (available, pending or held): "
                "they must be spent or adjusted off before erasure",
                ("memberId",),
            )
        erased = replace(
            member,
            external_ref=pseudonym(),
            referral_code=new_referral_code(),
            status=MemberStatus.ERASED,
            status_reason=ERASED_REASON,
            profile=Profile(),
            contact=Contact(),
        )
        await uow.members.erase(member.id, pseudonym=erased.external_ref, referral_code=erased.referral_code)
        # Every merchant's reference for the member retires: none may act for it any more.
        await uow.member_links.unlink_all(member.id, now)
        # Only the status: the audit row must not bring back what the erasure removes.
        await uow.audit.record(
            AuditEvent(
                actor.subject,
                "eraseMember",
                "Member",
                member.id,
                {"status": member.status.value},
                {"status": erased.status.value, "by": actor.role.value},
                actor.request_id,
                now,
            )
        )
        await uow.commit()
    return erased
