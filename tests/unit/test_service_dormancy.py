"""The dormancy job over the fakes: an ACTIVE member with no activity of its own for the programme's
`dormant_after_days` is marked dormant, exactly at that age and not before, once; acting wakes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import domain.services.dormancy as dormancy
from domain.clock import FixedClock
from domain.members import Member, MemberStatus
from domain.services.dormancy import DormancyRun, run_dormancy
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import given_member, given_merchant

ENROLLED = datetime(2023, 1, 1, tzinfo=UTC)  # when given_member enrols
CUTOFF = ENROLLED + timedelta(days=365)  # the default dormant_after_days


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(CUTOFF)


async def run(db: FakeDatabase, clock: FixedClock, progress: list[int] | None = None) -> DormancyRun:
    return await run_dormancy(
        lambda: FakeUnitOfWork(db), clock, None if progress is None else progress.append
    )


async def read(db: FakeDatabase, member_id: int) -> Member:
    uow = FakeUnitOfWork(db)
    async with uow:
        member = await uow.members.get(member_id)
    assert member is not None
    return member


async def test_a_member_idle_for_exactly_the_period_is_marked_dormant_and_not_a_microsecond_sooner(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    assert (await read(db, member.id)).last_activity_at == ENROLLED  # enrolment starts the clock

    clock.at = CUTOFF - timedelta(microseconds=1)
    assert await run(db, clock) == DormancyRun(0)
    assert (await read(db, member.id)).shown_status is MemberStatus.ACTIVE

    clock.at = CUTOFF
    assert await run(db, clock) == DormancyRun(1)

    marked = await read(db, member.id)
    assert (marked.status, marked.shown_status, marked.dormant_since) == (
        MemberStatus.ACTIVE,
        MemberStatus.DORMANT,
        CUTOFF,
    )


async def test_a_dormant_member_is_not_marked_again(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await run(db, clock)

    clock.at += timedelta(days=30)
    assert await run(db, clock) == DormancyRun(0)
    assert (await read(db, member.id)).dormant_since == CUTOFF


@pytest.mark.parametrize("status", [MemberStatus.LOCKED, MemberStatus.CLOSED])
async def test_a_locked_or_closed_member_is_never_marked(clock: FixedClock, status: MemberStatus) -> None:
    db = FakeDatabase()
    member = await given_member(db, status=status)

    assert await run(db, clock) == DormancyRun(0)
    assert (await read(db, member.id)).shown_status is status


async def test_a_purchase_that_earned_nothing_still_wakes_the_member_and_restarts_its_clock(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await run(db, clock)
    woke_at = CUTOFF + timedelta(days=10)
    clock.at = woke_at

    bought = await buy(db, clock, merchant.id, member.id, 50, "pos-1")  # 0.50: no points, no entry

    assert bought.points_earned == 0
    awake = await read(db, member.id)
    assert (awake.shown_status, awake.dormant_since, awake.last_activity_at) == (
        MemberStatus.ACTIVE,
        None,
        woke_at,
    )
    clock.at = woke_at + timedelta(days=365) - timedelta(microseconds=1)
    assert await run(db, clock) == DormancyRun(0)
    clock.at = woke_at + timedelta(days=365)
    assert await run(db, clock) == DormancyRun(1)


async def test_a_purchase_that_earns_wakes_the_member_through_its_journal_entry(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await run(db, clock)

    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")

    assert (await read(db, member.id)).shown_status is MemberStatus.ACTIVE


async def test_the_period_is_the_programmes_setting(clock: FixedClock) -> None:
    db = FakeDatabase(replace(DEFAULT_PROGRAMME, dormant_after_days=30))
    await given_member(db)
    clock.at = ENROLLED + timedelta(days=30)

    assert await run(db, clock) == DormancyRun(1)


async def test_the_job_marks_in_batches_until_a_batch_is_not_full(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dormancy, "BATCH", 2)
    db = FakeDatabase()
    members = [await given_member(db, f"CRM-{n}") for n in range(5)]
    progress: list[int] = []

    assert await run(db, clock, progress) == DormancyRun(5)

    assert progress == [2, 4, 5]
    assert [(await read(db, m.id)).dormant_since for m in members] == [CUTOFF] * 5


async def test_a_full_last_batch_is_followed_by_an_empty_one_and_no_progress_for_it(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dormancy, "BATCH", 2)
    db = FakeDatabase()
    for n in range(4):
        await given_member(db, f"CRM-{n}")
    progress: list[int] = []

    assert await run(db, clock, progress) == DormancyRun(4)
    assert progress == [2, 4]
