"""closeMyAccount, reopenMember and the forfeiture job over the fakes, in detail: the one EXPIRE entry
that forfeits every lot (expired points expire on their own first), the member's closed state and its
audit, each refusal's message, the replay, reopening up to the instant the grace ends, and the job's
batches, exact totals and the members it must pass over."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

import domain.services.closure as closure
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import EraseMember, RedeemReward
from domain.errors import ErrorCode
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import Balance, Member, MemberStatus
from domain.movements import Expiration
from domain.programme import ClosurePolicy
from domain.services.closure import (
    CloseMyAccount,
    ClosureResult,
    ForfeitureRun,
    ReopenMember,
    close_my_account,
    forfeit_closed,
    reopen_member,
    run_closure_forfeiture,
)
from domain.services.erasure import erase_member
from domain.services.redemptions import redeem_reward
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.database import PostedEntry
from tests.unit.test_services import (
    ADMIN,
    LATER,
    SOON,
    balance,
    given_lot,
    given_member,
    given_reward,
    member_actor,
    raised,
    snapshot,
)

GRACE = timedelta(days=10)


def keep_points(db: FakeDatabase) -> None:
    db.tables.programme = replace(
        db.tables.programme, closure_policy=ClosurePolicy.KEEP, closure_grace_days=10
    )


async def close(db: FakeDatabase, member_id: int, key: str = "c-1", at: datetime = NOW) -> ClosureResult:
    return await close_my_account(
        CloseMyAccount(key), actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=FixedClock(at)
    )


async def reopen(db: FakeDatabase, member_id: int, reason: str = "asked", at: datetime = NOW) -> Member:
    return await reopen_member(
        ReopenMember(member_id, reason), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(at)
    )


async def forfeit(db: FakeDatabase, at: datetime, progress: list[int] | None = None) -> ForfeitureRun:
    return await run_closure_forfeiture(
        lambda: FakeUnitOfWork(db), FixedClock(at), None if progress is None else progress.append
    )


def expire_entries(db: FakeDatabase) -> list[PostedEntry]:
    return [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.EXPIRE]


# --- closing --------------------------------------------------------------------------------------


async def test_forfeit_books_every_live_lot_in_one_entry_after_the_expired_points_expire() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    later = await given_lot(db, member.id, 300, LATER)
    soon = await given_lot(db, member.id, 200, SOON)
    await given_lot(db, member.id, 50, NOW)  # expires at this instant

    result = await close(db, member.id)

    assert result == ClosureResult(member.id, NOW.isoformat(), 500, None)
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 550, 0)
    expired, forfeited = sorted(db.tables.expirations.values(), key=lambda e: e.points)
    assert (expired.member_id, expired.points, expired.created_at) == (member.id, 50, NOW)
    assert forfeited == Expiration(forfeited.id, member.id, 500, NOW)
    [entry] = [p for p in expire_entries(db) if p.entry.origin_id == forfeited.id]
    assert (entry.entry.member_id, entry.entry.origin_type, entry.entry.description, entry.at) == (
        member.id,
        OriginType.EXPIRATION,
        "Forfeited: account closed",
        NOW,
    )
    assert entry.entry.postings == (
        Posting(Account.available(member.id), -500),
        Posting(Account(AccountKind.EXPIRY), 500),
    )
    assert sorted((d.lot_id, d.points) for e, d in db.tables.lot_draws if e == entry.id) == [
        (later, 300),
        (soon, 200),
    ]
    assert db.tables.lot_draws_at[entry.id] == NOW


async def test_a_closed_member_is_stored_and_audited_as_closed_by_itself() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    await close(db, member.id)

    stored = db.tables.members[member.id]
    assert (stored.status, stored.status_reason, stored.closed_at, stored.points_forfeit_at) == (
        MemberStatus.CLOSED,
        "closed by the member",
        NOW,
        None,
    )
    [event] = db.tables.audit
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        f"member-{member.id}",
        "closeMyAccount",
        "Member",
        member.id,
        NOW,
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.before["closed_at"]) == ("ACTIVE", None)
    assert {k: event.after[k] for k in ("status", "status_reason", "closed_at", "points_forfeit_at")} == {
        "status": "CLOSED",
        "status_reason": "closed by the member",
        "closed_at": str(NOW),
        "points_forfeit_at": None,
    }


async def test_under_keep_the_answer_and_the_audit_say_when_the_points_go() -> None:
    db = FakeDatabase()
    keep_points(db)
    member = await given_member(db)
    await given_lot(db, member.id, 80, LATER)

    result = await close(db, member.id)

    assert result == ClosureResult(member.id, NOW.isoformat(), 0, (NOW + GRACE).isoformat())
    assert balance(db, member.id).available == 80
    assert db.tables.members[member.id].points_forfeit_at == NOW + GRACE
    [event] = db.tables.audit
    assert event.after is not None
    assert event.after["points_forfeit_at"] == str(NOW + GRACE)


async def test_closing_without_points_forfeits_nothing() -> None:
    db = FakeDatabase()
    member = await given_member(db)

    result = await close(db, member.id)

    assert result.points_forfeited == 0
    assert db.tables.expirations == {}
    assert expire_entries(db) == []


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_another_key_is_refused() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 70, LATER)

    first = await close(db, member.id)
    again = await close(db, member.id, at=NOW + timedelta(minutes=1))
    other = await raised(close(db, member.id, "c-2"))

    assert again == first == ClosureResult(member.id, NOW.isoformat(), 70, None)
    assert (other.code, other.message) == (ErrorCode.MEMBER_LOCKED, "member is closed")
    assert len(db.tables.expirations) == 1


@pytest.mark.parametrize(
    ("column", "what"),
    [("pending", "pending"), ("held", "held at a merchant"), ("under_review", "under risk review")],
)
async def test_points_in_flight_keep_the_account_open(column: str, what: str) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 300, LATER)
    db.tables.balances[member.id] = replace(db.tables.balances[member.id], **{column: 25})
    before = snapshot(db)

    error = await raised(close(db, member.id))

    assert (error.code, error.message) == (
        ErrorCode.VALIDATION,
        f"25 points are still {what}: close the account once they are settled",
    )
    assert db.tables == before


async def test_a_reward_redeemed_but_not_handed_over_keeps_the_account_open() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    reward = await given_reward(db, 40)
    await redeem_reward(
        RedeemReward(reward.id, "r-1"),
        actor=member_actor(member.id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    before = snapshot(db)

    error = await raised(close(db, member.id))

    assert (error.code, error.message) == (
        ErrorCode.VALIDATION,
        "a redeemed reward is not handed over yet: use or cancel its voucher first",
    )
    assert db.tables == before


async def test_a_member_token_naming_no_member_closes_nothing() -> None:
    db = FakeDatabase()
    await given_member(db)

    error = await raised(
        close_my_account(
            CloseMyAccount("c-1"),
            actor=Actor(Role.MEMBER, "member-?"),
            uow=FakeUnitOfWork(db),
            clock=FixedClock(NOW),
        )
    )

    assert (error.code, error.message) == (ErrorCode.FORBIDDEN, "the token names no member")


# --- reopening ------------------------------------------------------------------------------------


async def test_reopening_restores_the_member_with_the_admins_reason_and_is_audited() -> None:
    db = FakeDatabase()
    keep_points(db)
    member = await given_member(db)
    await given_lot(db, member.id, 60, LATER)
    await close(db, member.id)

    reopened = await reopen(db, member.id, "  asked by phone ", NOW + timedelta(days=1))

    assert db.tables.members[member.id] == reopened
    assert (reopened.status, reopened.status_reason, reopened.closed_at, reopened.points_forfeit_at) == (
        MemberStatus.ACTIVE,
        "asked by phone",
        None,
        None,
    )
    assert balance(db, member.id).available == 60
    event = db.tables.audit[-1]
    assert (event.actor, event.action, event.target_type, event.target_id, event.at) == (
        "admin-ada",
        "reopenMember",
        "Member",
        member.id,
        NOW + timedelta(days=1),
    )
    assert event.before is not None
    assert event.after is not None
    assert (event.before["status"], event.before["status_reason"]) == ("CLOSED", "closed by the member")
    assert {k: event.after[k] for k in ("status", "status_reason", "closed_at", "points_forfeit_at")} == {
        "status": "ACTIVE",
        "status_reason": "asked by phone",
        "closed_at": None,
        "points_forfeit_at": None,
    }


async def test_a_reason_is_at_most_500_characters() -> None:
    db = FakeDatabase()
    keep_points(db)
    first, second = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    await close(db, first.id)
    await close(db, second.id, "c-2")

    too_long = await raised(reopen(db, first.id, "r" * 501))
    longest = await reopen(db, second.id, "r" * 500)

    assert (too_long.code, too_long.message, too_long.field) == (
        ErrorCode.VALIDATION,
        "must be at most 500 characters",
        ("reason",),
    )
    assert db.tables.members[first.id].status is MemberStatus.CLOSED
    assert longest.status_reason == "r" * 500


async def test_only_a_closed_member_is_reopened() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    before = snapshot(db)

    error = await raised(reopen(db, member.id))

    assert (error.code, error.message, error.field) == (
        ErrorCode.VALIDATION,
        "the member is active, not closed",
        ("memberId",),
    )
    assert db.tables == before


async def test_reopening_works_until_the_instant_the_grace_ends_and_never_under_forfeit() -> None:
    db = FakeDatabase()
    keep_points(db)
    late, just_in_time = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    await close(db, late.id)
    await close(db, just_in_time.id, "c-2")
    db.tables.programme = replace(db.tables.programme, closure_policy=ClosurePolicy.FORFEIT)
    forfeited = await given_member(db, "CRM-3")
    await close(db, forfeited.id, "c-3")

    at_the_end = await raised(reopen(db, late.id, at=NOW + GRACE))
    under_forfeit = await raised(reopen(db, forfeited.id))
    reopened = await reopen(db, just_in_time.id, at=NOW + GRACE - timedelta(microseconds=1))

    for error in (at_the_end, under_forfeit):
        assert (error.code, error.message, error.field) == (
            ErrorCode.VALIDATION,
            "the account's grace period is over: it stays closed",
            ("memberId",),
        )
    assert reopened.status is MemberStatus.ACTIVE
    assert db.tables.members[late.id].status is MemberStatus.CLOSED


# --- the forfeiture job ---------------------------------------------------------------------------


async def test_the_job_forfeits_in_batches_with_exact_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(closure, "BATCH", 2)
    db = FakeDatabase()
    keep_points(db)
    members = [await given_member(db, f"CRM-{i}") for i in range(3)]
    for i, member in enumerate(members):
        await given_lot(db, member.id, 10 * (i + 1), LATER)
        await close(db, member.id, f"c-{i}")
    seen: list[int] = []

    run = await forfeit(db, NOW + GRACE, seen)
    again = await forfeit(db, NOW + GRACE)

    assert (run, seen) == (ForfeitureRun(3, 60), [2, 3])
    assert again == ForfeitureRun(0, 0)
    assert [balance(db, m.id).available for m in members] == [0, 0, 0]
    assert sorted(e.points for e in db.tables.expirations.values()) == [10, 20, 30]
    assert all(db.tables.members[m.id].points_forfeit_at is None for m in members)


async def test_a_member_another_process_holds_is_left_for_the_next_run() -> None:
    db = FakeDatabase()
    keep_points(db)
    member = await given_member(db)
    await given_lot(db, member.id, 40, LATER)
    await close(db, member.id)
    db.locked_elsewhere = {member.id}

    busy = await forfeit(db, NOW + GRACE)
    db.locked_elsewhere = set()
    free = await forfeit(db, NOW + GRACE)

    assert (busy, free) == (ForfeitureRun(0, 0), ForfeitureRun(1, 40))


async def test_points_that_expire_during_the_grace_expire_and_only_the_rest_is_forfeited() -> None:
    db = FakeDatabase()
    keep_points(db)
    member = await given_member(db)
    await given_lot(db, member.id, 100, NOW + timedelta(days=5))
    await given_lot(db, member.id, 50, LATER)
    await close(db, member.id)

    run = await forfeit(db, NOW + GRACE)

    assert run == ForfeitureRun(1, 50)
    assert sorted((e.points, e.created_at) for e in db.tables.expirations.values()) == [
        (50, NOW + GRACE),
        (100, NOW + GRACE),
    ]
    [forfeiture] = [p for p in expire_entries(db) if p.entry.description == "Forfeited: account closed"]
    assert forfeiture.at == NOW + GRACE
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 150, 0)


async def forfeit_one(db: FakeDatabase, member_id: int, at: datetime) -> int | None:
    uow = FakeUnitOfWork(db)
    async with uow:
        points = await forfeit_closed(uow, member_id, at)
        await uow.commit()
    return points


async def test_a_member_listed_as_due_but_changed_since_is_passed_over() -> None:
    """Members are listed before each is locked: by then one may have been forfeited by another run,
    or erased; and a member not due yet is never forfeited early."""
    db = FakeDatabase()
    keep_points(db)
    waiting, erased = await given_member(db, "CRM-1"), await given_member(db, "CRM-2")
    await given_lot(db, waiting.id, 30, LATER)
    await close(db, waiting.id)
    await close(db, erased.id, "c-2")  # no points: it may be erased
    await erase_member(EraseMember(erased.id), actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW))
    db.tables.programme = replace(db.tables.programme, closure_policy=ClosurePolicy.FORFEIT)
    gone = await given_member(db, "CRM-3")
    await close(db, gone.id, "c-3")
    before = snapshot(db)

    early = await forfeit_one(db, waiting.id, NOW + GRACE - timedelta(microseconds=1))
    already = await forfeit_one(db, gone.id, NOW + GRACE)
    not_closed = await forfeit_one(db, erased.id, NOW + GRACE)

    assert (early, already, not_closed) == (None, None, None)
    assert db.tables == before
    assert await forfeit_one(db, waiting.id, NOW + GRACE) == 30
