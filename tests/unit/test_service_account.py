"""Account closure and profile changes over the in-memory fakes: the closure policy's exact points,
the refusals while anything is in flight, reopening within the grace, and partial profile updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import DomainError, ErrorCode
from domain.ledger import AccountKind, EntryKind
from domain.members import Balance, MemberStatus
from domain.programme import ClosurePolicy
from domain.services.closure import (
    CloseMyAccount,
    ReopenMember,
    close_my_account,
    reopen_member,
    run_closure_forfeiture,
)
from domain.services.profile import UpdateMyProfile, update_my_profile
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import LATER, balance, given_lot, given_member, member_actor

ADMIN = Actor(Role.ADMIN, "admin-ada", request_id="req-1")


def expired_to_breakage(db: FakeDatabase) -> int:
    return sum(
        p.amount
        for posted in db.tables.journal.values()
        if posted.entry.kind is EntryKind.EXPIRE
        for p in posted.entry.postings
        if p.account.kind is AccountKind.EXPIRY
    )


async def test_closing_under_forfeit_moves_every_available_point_to_breakage(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 300, LATER)
    await given_lot(db, member.id, 200, LATER)

    result = await close_my_account(CloseMyAccount("c1"), actor=member_actor(member.id), uow=uow, clock=clock)

    assert (result.points_forfeited, result.points_forfeit_at) == (500, None)
    assert db.tables.members[member.id].status is MemberStatus.CLOSED
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 500, 0)
    assert expired_to_breakage(db) == 500
    assert all(lot.remaining == 0 for lot in db.tables.lots.values())


async def test_closing_is_refused_while_points_are_pending(
    db: FakeDatabase, uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    member = await given_member(db)
    await given_lot(db, member.id, 300, LATER)
    db.tables.balances[member.id] = replace(db.tables.balances[member.id], pending=40)

    with pytest.raises(DomainError) as refused:
        await close_my_account(CloseMyAccount("c1"), actor=member_actor(member.id), uow=uow, clock=clock)

    assert refused.value.code is ErrorCode.VALIDATION
    assert refused.value.message.startswith("40 points are still pending")
    assert db.tables.members[member.id].status is MemberStatus.ACTIVE
    assert expired_to_breakage(db) == 0


async def test_under_keep_the_points_wait_an_admin_may_reopen_and_the_job_forfeits_after_the_grace(
    db: FakeDatabase, clock: FixedClock
) -> None:
    db.tables.programme = replace(
        db.tables.programme, closure_policy=ClosurePolicy.KEEP, closure_grace_days=10
    )
    kept, back = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    await given_lot(db, kept.id, 300, LATER)
    await given_lot(db, back.id, 70, LATER)

    closed = await close_my_account(
        CloseMyAccount("c1"), actor=member_actor(kept.id), uow=FakeUnitOfWork(db), clock=clock
    )
    await close_my_account(
        CloseMyAccount("c2"), actor=member_actor(back.id), uow=FakeUnitOfWork(db), clock=clock
    )
    reopened = await reopen_member(
        ReopenMember(back.id, "asked"), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
    )
    early = await run_closure_forfeiture(lambda: FakeUnitOfWork(db), FixedClock(NOW + timedelta(days=9)))
    late = await run_closure_forfeiture(lambda: FakeUnitOfWork(db), FixedClock(NOW + timedelta(days=10)))
    with pytest.raises(DomainError) as too_late:
        await reopen_member(
            ReopenMember(kept.id, "late"),
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW + timedelta(days=11)),
        )

    assert (closed.points_forfeited, closed.points_forfeit_at) == (0, (NOW + timedelta(days=10)).isoformat())
    assert (reopened.status, reopened.points_forfeit_at) == (MemberStatus.ACTIVE, None)
    assert (early.members, late.members, late.points) == (0, 1, 300)
    assert too_late.value.code is ErrorCode.VALIDATION
    assert balance(db, kept.id).available == 0
    assert balance(db, back.id).available == 70
    assert db.tables.members[kept.id].points_forfeit_at is None


async def test_a_profile_update_changes_only_what_is_given_and_records_when_consent_changed(
    db: FakeDatabase, clock: FixedClock
) -> None:
    member = await given_member(db)

    first = await update_my_profile(
        UpdateMyProfile(region="Hangzhou", email="li@example.cn", marketing_consent=True),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    later = FixedClock(NOW + timedelta(hours=1))
    second = await update_my_profile(
        UpdateMyProfile(birth_year=1990), actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=later
    )
    withdrawn = await update_my_profile(
        UpdateMyProfile(marketing_consent=False, email=None),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=later,
    )

    assert (first.profile.region, first.contact.email, first.marketing_consent_at) == (
        "Hangzhou",
        "li@example.cn",
        NOW,
    )
    assert (second.profile.region, second.profile.birth_year, second.marketing_consent_at) == (
        "Hangzhou",
        1990,
        NOW,
    )
    assert (withdrawn.marketing_consent, withdrawn.marketing_consent_at, withdrawn.contact.email) == (
        False,
        later.now(),
        None,
    )
    assert db.tables.members[member.id] == withdrawn
    assert [e.action for e in db.tables.audit] == ["updateMyProfile"] * 3
