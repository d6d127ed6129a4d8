"""Erasure over the in-memory fakes: who may erase, what is kept, and the balance rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import EnrollMember, EraseMember
from domain.errors import DomainError, ErrorCode
from domain.members import Balance, Contact, IncomeBand, MemberStatus, Profile, mask_phone
from domain.services.admin import enroll_member
from domain.services.erasure import erase_member
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

ADMIN = Actor(Role.ADMIN, "admin-ada", request_id="req-1")


async def enrolled(db: FakeDatabase, clock: FixedClock) -> int:
    member = await enroll_member(
        EnrollMember(
            external_ref="CRM-7",
            profile=Profile(birth_year=1990, region="Hangzhou", income_band=IncomeBand.HIGH, tags=("vip",)),
            contact=Contact(phone="13812345678", email="li@example.cn"),
        ),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    return member.id


def test_a_phone_is_masked_to_its_first_three_and_last_four_characters() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+85251234567") == "+85*****4567"
    assert mask_phone("1234567") == "*******"
    assert mask_phone(None) is None


async def test_enrolment_audits_the_contact_masked(db: FakeDatabase, clock: FixedClock) -> None:
    await enrolled(db, clock)

    [event] = db.tables.audit

    assert event.after is not None
    assert event.after["contact"] == {"phone": "138****5678", "email": "l***@example.cn"}


async def test_erasure_pseudonymises_the_member_and_audits_only_its_status(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member_id = await enrolled(db, clock)
    before = db.tables.members[member_id]

    erased = await erase_member(EraseMember(member_id), actor=ADMIN, uow=uow, clock=clock)

    assert db.tables.members[member_id] == erased
    assert erased.status is MemberStatus.ERASED
    assert erased.external_ref.startswith("erased-")
    assert erased.external_ref != before.external_ref
    assert erased.referral_code != before.referral_code
    assert (erased.profile, erased.contact) == (Profile(), Contact())
    assert (erased.enrolled_at, erased.id) == (before.enrolled_at, before.id)
    erasure = db.tables.audit[-1]
    assert (erasure.action, erasure.target_id, erasure.before, erasure.after) == (
        "eraseMember",
        member_id,
        {"status": "ACTIVE"},
        {"status": "ERASED", "by": "admin"},
    )
    assert uow.committed


@pytest.mark.parametrize(
    ("available", "pending", "held"), [(1, 0, 0), (0, 5, 0), (0, 0, 30)], ids=["available", "pending", "held"]
)
async def test_erasure_is_refused_while_points_remain(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock, available: int, pending: int, held: int
) -> None:
    member_id = await enrolled(db, clock)
    db.tables.balances[member_id] = Balance(member_id, available, pending, held, 100, 0)
    before = db.tables.members[member_id]

    with pytest.raises(DomainError) as refused:
        await erase_member(EraseMember(member_id), actor=ADMIN, uow=uow, clock=clock)

    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, ("memberId",))
    assert f"still has {available + pending + held} points" in refused.value.message
    assert db.tables.members[member_id] == before
    assert len(db.tables.audit) == 1  # the enrolment only
    assert not uow.committed


async def test_a_points_debt_does_not_block_erasure(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member_id = await enrolled(db, clock)
    db.tables.balances[member_id] = replace(db.tables.balances[member_id], debt=40)

    erased = await erase_member(EraseMember(member_id), actor=ADMIN, uow=uow, clock=clock)

    assert erased.status is MemberStatus.ERASED
    assert db.tables.balances[member_id].debt == 40


async def test_a_member_erases_only_itself(db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock) -> None:
    member_id = await enrolled(db, clock)
    other = Actor(Role.MEMBER, "member-99", member_id=member_id + 1, request_id="r")
    itself = Actor(Role.MEMBER, f"member-{member_id}", member_id=member_id, request_id="r")
    merchant = Actor(Role.MERCHANT, "pos-1", merchant_id=1, request_id="r")

    with pytest.raises(DomainError) as by_other:
        await erase_member(EraseMember(member_id), actor=other, uow=uow, clock=clock)
    with pytest.raises(DomainError) as by_merchant:
        await erase_member(EraseMember(member_id), actor=merchant, uow=uow, clock=clock)
    erased = await erase_member(EraseMember(member_id), actor=itself, uow=uow, clock=clock)

    assert by_other.value.code is ErrorCode.NOT_FOUND
    assert by_merchant.value.code is ErrorCode.FORBIDDEN
    assert erased.status is MemberStatus.ERASED
    assert db.tables.audit[-1].actor == f"member-{member_id}"


async def test_erasing_an_erased_member_changes_and_audits_nothing(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member_id = await enrolled(db, clock)
    first = await erase_member(EraseMember(member_id), actor=ADMIN, uow=uow, clock=clock)
    audited = len(db.tables.audit)

    again = await erase_member(EraseMember(member_id), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock)

    assert again == first
    assert len(db.tables.audit) == audited
