"""Erasure over the fakes, beyond test_erasure.py: the answer as stored, the pseudonyms' form, every
merchant link retired, the audit row whole, and the refusal's full message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.commands import EraseMember
from domain.errors import ErrorCode
from domain.members import Balance, MemberStatus
from domain.services.erasure import ERASED_REASON, erase_member, pseudonym
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.member_links import linked
from tests.unit.test_services import ADMIN, given_member, given_merchant, raised

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_a_pseudonym_is_erased_and_sixteen_random_hex_digits() -> None:
    names = {pseudonym() for _ in range(20)}

    assert len(names) == 20
    assert all(re.fullmatch(r"erased-[0-9a-f]{16}", name) for name in names)


async def test_the_member_erased_is_the_member_stored_with_every_merchant_link_retired() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    tea = await given_merchant(db)
    noodles = await given_merchant(db, "Noodle Bar")
    linked(db, tea.id, member.id)
    linked(db, noodles.id, member.id)
    itself = Actor(Role.MEMBER, f"member-{member.id}", member_id=member.id, request_id="req-4")
    at = NOW + timedelta(hours=1)

    erased = await erase_member(
        EraseMember(member.id), actor=itself, uow=FakeUnitOfWork(db), clock=FixedClock(at)
    )

    assert erased == db.tables.members[member.id]
    assert (erased.status, erased.status_reason) == (MemberStatus.ERASED, ERASED_REASON)
    assert re.fullmatch(r"erased-[0-9a-f]{16}", erased.external_ref)
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", erased.referral_code)
    assert [row.unlinked_at for row in db.tables.member_links.values()] == [at, at]
    assert db.tables.audit == [
        AuditEvent(
            f"member-{member.id}",
            "eraseMember",
            "Member",
            member.id,
            {"status": "ACTIVE"},
            {"status": "ERASED", "by": "member"},
            "req-4",
            at,
        )
    ]


async def test_the_refusal_says_how_many_points_remain_and_what_to_do() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    db.tables.balances[member.id] = Balance(member.id, 1, 2, 3, 100, 0)

    error = await raised(
        erase_member(EraseMember(member.id), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "the member still has 6 points (available, pending or held): "
        "they must be spent or adjusted off before erasure",
        ("memberId",),
    )


async def test_erasing_an_unknown_member_is_not_found_and_only_admins_and_members_erase() -> None:
    db = FakeDatabase()

    unknown = await raised(
        erase_member(EraseMember(404), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )
    partner = await raised(
        erase_member(
            EraseMember(404), actor=Actor(Role.PARTNER, "p"), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
        )
    )

    assert (unknown.code, unknown.message, unknown.field) == (
        ErrorCode.NOT_FOUND,
        "no such member",
        ("memberId",),
    )
    assert (partner.code, partner.message) == (
        ErrorCode.FORBIDDEN,
        "this operation needs the role admin or member",
    )


async def test_a_member_asking_to_erase_another_is_told_there_is_no_such_member() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    other = Actor(Role.MEMBER, "member-99", member_id=member.id + 1)

    error = await raised(
        erase_member(EraseMember(member.id), actor=other, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    )

    assert (error.code, error.message, error.field) == (ErrorCode.NOT_FOUND, "no such member", ("memberId",))
    assert db.tables.members[member.id].status is MemberStatus.ACTIVE
