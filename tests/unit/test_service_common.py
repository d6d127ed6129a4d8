"""The look-ups every use case repeats: who may call, and a member that must exist or be active,
with the messages and fields clients see."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from domain.errors import ErrorCode, Forbidden
from domain.members import MemberStatus
from domain.services.common import active_member, existing_member, require_role
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import given_member, raised


def test_a_caller_of_another_role_is_told_every_role_that_may_call() -> None:
    require_role(Actor(Role.MEMBER, "m"), Role.ADMIN, Role.MEMBER)

    with pytest.raises(Forbidden) as one:
        require_role(Actor(Role.MEMBER, "m"), Role.ADMIN)
    with pytest.raises(Forbidden) as two:
        require_role(Actor(Role.PARTNER, "p"), Role.MERCHANT, Role.PROCESSOR)

    assert (one.value.code, one.value.message, one.value.field) == (
        ErrorCode.FORBIDDEN,
        "this operation needs the role admin",
        None,
    )
    assert two.value.message == "this operation needs the role merchant or processor"


async def test_a_member_that_does_not_exist_is_not_found_on_the_field_named() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    uow = FakeUnitOfWork(db)

    assert await existing_member(uow, member.id) == member
    default = await raised(existing_member(uow, 404))
    named = await raised(active_member(uow, 404, "code"))

    assert (default.code, default.message, default.field) == (
        ErrorCode.NOT_FOUND,
        "no such member",
        ("memberId",),
    )
    assert (named.code, named.message, named.field) == (ErrorCode.NOT_FOUND, "no such member", ("code",))


@pytest.mark.parametrize("status", [MemberStatus.LOCKED, MemberStatus.CLOSED, MemberStatus.ERASED])
async def test_only_an_active_member_may_act_and_the_message_names_its_status(status: MemberStatus) -> None:
    db = FakeDatabase()
    member = await given_member(db, status=status)
    uow = FakeUnitOfWork(db)

    default = await raised(active_member(uow, member.id))
    named = await raised(active_member(uow, member.id, "toReferralCode"))

    assert (default.code, default.message, default.field) == (
        ErrorCode.MEMBER_LOCKED,
        f"member is {status.value.lower()}",
        ("memberId",),
    )
    assert named.field == ("toReferralCode",)
    assert await existing_member(uow, member.id) == member


async def test_an_active_member_is_returned() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    assert await active_member(FakeUnitOfWork(db), member.id) == member
