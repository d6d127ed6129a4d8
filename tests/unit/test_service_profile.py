"""updateMyProfile over the fakes, beyond the partial update: every field given is stored (cleaned as
at enrolment), the audit names the member with its contact masked before and after, a closed or erased
member and a token without a member are refused with the messages a client reads, and changing
nothing writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.members import Contact, IncomeBand, Member, MemberStatus, Profile
from domain.services.profile import UpdateMyProfile, update_my_profile
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import given_member, member_actor, raised, snapshot


async def update(db: FakeDatabase, member_id: int, cmd: UpdateMyProfile, clock: FixedClock) -> Member:
    return await update_my_profile(cmd, actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=clock)


async def test_every_field_given_is_stored_cleaned_and_the_change_audited_with_contact_masked(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await given_member(db)

    changed = await update(
        db,
        member.id,
        UpdateMyProfile(
            birth_year=1988,
            region="Suzhou",
            income_band=IncomeBand.HIGH,
            tags=("Tea", "coffee", "tea"),
            phone="13812345678",
            email="li@example.cn",
        ),
        clock,
    )

    assert (changed.profile, changed.contact) == (
        Profile(1988, "Suzhou", IncomeBand.HIGH, ("coffee", "tea")),
        Contact("13812345678", "li@example.cn"),
    )
    assert db.tables.members[member.id] == changed
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        f"member-{member.id}",
        "updateMyProfile",
        "Member",
        member.id,
        NOW,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["profile"], event.before["contact"]) == (
        {"birth_year": None, "region": None, "income_band": None, "tags": [], "time_zone": None},
        {"phone": None, "email": None},
    )
    assert (event.after["profile"], event.after["contact"]) == (
        {
            "birth_year": 1988,
            "region": "Suzhou",
            "income_band": "HIGH",
            "tags": ["coffee", "tea"],
            "time_zone": None,
        },
        {"phone": "138****5678", "email": "l***@example.cn"},
    )


async def test_what_is_not_given_is_kept_and_none_clears_a_field(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db)
    await update(
        db,
        member.id,
        UpdateMyProfile(income_band=IncomeBand.LOW, tags=("golf",), phone="+86 21 5555 0000", email="a@b.cn"),
        clock,
    )

    kept = await update(db, member.id, UpdateMyProfile(region="Ningbo"), clock)
    cleared = await update(db, member.id, UpdateMyProfile(phone=None, income_band=None, tags=()), clock)

    assert (kept.profile, kept.contact) == (
        Profile(None, "Ningbo", IncomeBand.LOW, ("golf",)),
        Contact("+86 21 5555 0000", "a@b.cn"),
    )
    assert (cleared.profile, cleared.contact) == (Profile(None, "Ningbo", None, ()), Contact(None, "a@b.cn"))


@pytest.mark.parametrize("status", [MemberStatus.CLOSED, MemberStatus.ERASED])
async def test_a_closed_or_erased_member_changes_nothing(
    db: FakeDatabase, clock: FixedClock, status: MemberStatus
) -> None:
    member = await given_member(db, status=status)
    before = snapshot(db)

    error = await raised(update(db, member.id, UpdateMyProfile(region="Suzhou"), clock))

    assert (error.code, error.message, error.field) == (
        ErrorCode.MEMBER_LOCKED,
        f"member is {status.value.lower()}",
        ("memberId",),
    )
    assert db.tables == before


async def test_a_locked_member_may_still_change_its_profile(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db, status=MemberStatus.LOCKED)

    changed = await update(db, member.id, UpdateMyProfile(region="Suzhou"), clock)

    assert changed.profile.region == "Suzhou"


async def test_a_member_token_naming_no_member_is_forbidden(db: FakeDatabase, clock: FixedClock) -> None:
    await given_member(db)
    before = snapshot(db)

    error = await raised(
        update_my_profile(
            UpdateMyProfile(region="Suzhou"),
            actor=Actor(Role.MEMBER, "member-?"),
            uow=FakeUnitOfWork(db),
            clock=clock,
        )
    )

    assert (error.code, error.message) == (ErrorCode.FORBIDDEN, "the token names no member")
    assert db.tables == before


async def test_giving_what_is_already_there_writes_nothing(db: FakeDatabase, clock: FixedClock) -> None:
    member = await given_member(db)
    first = await update(db, member.id, UpdateMyProfile(region="Suzhou", marketing_consent=True), clock)
    before = snapshot(db)

    again = await update(
        db,
        member.id,
        UpdateMyProfile(region=" Suzhou ", marketing_consent=True),
        FixedClock(NOW + timedelta(days=1)),
    )

    assert again == first
    assert again.marketing_consent_at == NOW
    assert db.tables == before
