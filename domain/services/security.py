"""Recording security events: in the `security_events` table (lockouts, for `securityEvents`) and in
the audit log, where every security event is kept beside the admin actions (`security.*` actions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.actors import Actor
from domain.audit import AuditEvent
from domain.ports import UnitOfWork
from domain.security import SecurityEvent

# Security events concern a caller rather than an object of the programme.
CALLER = "Caller"


def lockout_audit(event: SecurityEvent) -> AuditEvent:
    return AuditEvent(
        actor=event.principal,
        action=f"security.{event.kind.value.lower()}",
        target_type=CALLER,
        target_id=0,
        before=None,
        after={
            "secret": event.secret.value if event.secret else None,
            "clientAddress": event.client_address,
            "failures": event.failures,
            "cooldownSeconds": event.cooldown_seconds,
        },
        request_id=event.request_id,
        at=event.at,
    )


def refusals_audit(
    action: str, principal: str, count: int, since: datetime, request_id: str, at: datetime
) -> AuditEvent:
    """`count` refusals of one kind for one caller since `since` (see api/refusals.py)."""
    return AuditEvent(
        actor=principal,
        action=action,
        target_type=CALLER,
        target_id=0,
        before=None,
        after={"count": count, "since": since.isoformat()},
        request_id=request_id,
        at=at,
    )


def personal_data_read(actor: Actor, member_id: int, fields: Sequence[str], at: datetime) -> AuditEvent:
    return AuditEvent(
        actor=actor.subject,
        action="personal_data.read",
        target_type="Member",
        target_id=member_id,
        before=None,
        after={"fields": list(fields), "role": actor.role.value},
        request_id=actor.request_id,
        at=at,
        member_id=member_id,
    )


async def record_security_event(event: SecurityEvent, *, uow: UnitOfWork) -> None:
    """In a short transaction of its own: the refused request's work is rolled back, this is kept."""
    async with uow:
        await uow.security_events.record(event)
        await uow.audit.record(lockout_audit(event))
        await uow.commit()


async def record_audit_events(events: Sequence[AuditEvent], *, uow: UnitOfWork) -> None:
    """Events that come without a transaction of their own (reads, refusals), in one of their own."""
    if not events:
        return
    async with uow:
        for event in events:
            await uow.audit.record(event)
        await uow.commit()


async def record_audit_event(event: AuditEvent, *, uow: UnitOfWork) -> None:
    await record_audit_events([event], uow=uow)
