"""Security events and audit rows for callers: what is recorded, in a transaction of its own, and what
a refused request's rollback keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.security import Secret, SecurityEvent, SecurityEventKind
from domain.services.security import (
    lockout_audit,
    personal_data_read,
    record_audit_event,
    record_audit_events,
    record_security_event,
    refusals_audit,
)
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SINCE = datetime(2024, 5, 1, 11, 45, tzinfo=UTC)


def lockout(secret: Secret | None = Secret.COUPON_CODE) -> SecurityEvent:
    return SecurityEvent(
        SecurityEventKind.GUESSING_LOCKOUT, secret, "merchant:pos-7", "203.0.113.9", 5, 900, "req-7", AT
    )


def test_a_lockout_is_audited_against_the_caller_with_what_was_guessed() -> None:
    assert lockout_audit(lockout()) == AuditEvent(
        actor="merchant:pos-7",
        action="security.guessing_lockout",
        target_type="Caller",
        target_id=0,
        before=None,
        after={
            "secret": "COUPON_CODE",
            "clientAddress": "203.0.113.9",
            "failures": 5,
            "cooldownSeconds": 900,
        },
        request_id="req-7",
        at=AT,
        member_id=None,
    )


def test_a_lockout_without_a_secret_audits_none() -> None:
    after = lockout_audit(lockout(None)).after
    assert after is not None
    assert after["secret"] is None


def test_refusals_are_audited_as_a_count_since_a_time() -> None:
    assert refusals_audit("refused.rate_limited", "member:member-3", 12, SINCE, "req-8", AT) == AuditEvent(
        actor="member:member-3",
        action="refused.rate_limited",
        target_type="Caller",
        target_id=0,
        before=None,
        after={"count": 12, "since": "2024-05-01T11:45:00+00:00"},
        request_id="req-8",
        at=AT,
        member_id=None,
    )


def test_a_read_of_personal_data_names_the_fields_and_the_reader_role() -> None:
    admin = Actor(Role.ADMIN, "admin-ada", request_id="req-1")
    assert personal_data_read(admin, 42, ("email", "phone"), AT) == AuditEvent(
        actor="admin-ada",
        action="personal_data.read",
        target_type="Member",
        target_id=42,
        before=None,
        after={"fields": ["email", "phone"], "role": "admin"},
        request_id="req-1",
        at=AT,
        member_id=42,
    )


async def test_a_security_event_is_kept_with_its_audit_row_in_one_commit() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    await record_security_event(lockout(), uow=uow)

    assert db.tables.security_events == [lockout()]
    assert db.tables.audit == [lockout_audit(lockout())]
    assert uow.commits == 1


async def test_audit_events_are_recorded_in_order_in_one_commit() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)
    first = refusals_audit("refused.a", "member:1", 1, SINCE, "req-1", AT)
    second = refusals_audit("refused.b", "member:1", 2, SINCE, "req-1", AT)

    await record_audit_events([first, second], uow=uow)

    assert db.tables.audit == [first, second]
    assert uow.commits == 1


async def test_no_audit_events_open_no_transaction() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)

    await record_audit_events([], uow=uow)

    assert db.tables.audit == []
    assert uow.commits == 0


async def test_one_audit_event_is_recorded_and_committed() -> None:
    db = FakeDatabase()
    uow = FakeUnitOfWork(db)
    event = refusals_audit("refused.a", "member:1", 1, SINCE, "req-1", AT)

    await record_audit_event(event, uow=uow)

    assert db.tables.audit == [event]
    assert uow.commits == 1
