"""The maturation job over the fakes: a purchase's pending points become available once its return
window has passed, not a moment before, once, in a lot dated from that day."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import domain.services.maturation as maturation
from domain.clock import FixedClock
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting
from domain.members import Balance
from domain.services.maturation import MaturationRun, run_maturation
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import balance, given_member, given_merchant, lots_of

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def pending_db() -> FakeDatabase:
    return FakeDatabase(replace(DEFAULT_PROGRAMME, pending_days=14))


async def mature(db: FakeDatabase, clock: FixedClock, progress: list[int] | None = None) -> MaturationRun:
    return await run_maturation(
        lambda: FakeUnitOfWork(db), clock, None if progress is None else progress.append
    )


async def test_pending_points_mature_at_the_end_of_the_window_and_not_a_microsecond_before(
    clock: FixedClock,
) -> None:
    db = pending_db()
    member = await given_member(db)
    merchant = await given_merchant(db)
    bought = await buy(db, clock, merchant.id, member.id, 25_000, "pos-1")
    assert balance(db, member.id) == Balance(member.id, 0, 250, 0, 250, 0)

    clock.at = NOW + WINDOW - timedelta(microseconds=1)
    assert await mature(db, clock) == MaturationRun(0, 0)
    assert balance(db, member.id) == Balance(member.id, 0, 250, 0, 250, 0)

    clock.at = NOW + WINDOW
    assert await mature(db, clock) == MaturationRun(1, 250)

    assert balance(db, member.id) == Balance(member.id, 250, 0, 0, 250, 0)  # earned once, not twice
    [posted] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.MATURE]
    assert (posted.entry.origin_type, posted.entry.origin_id, posted.at) == (
        OriginType.PURCHASE,
        bought.purchase_id,
        NOW + WINDOW,
    )
    assert posted.entry.postings == (
        Posting(Account(AccountKind.MEMBER_PENDING, member.id), -250),
        Posting(Account.available(member.id), 250),
    )
    # the lot lives its full validity from the day it matured
    assert [(lot.points, lot.earned_at, lot.expires_at) for lot in lots_of(db, member.id)] == [
        (250, NOW + WINDOW, datetime(2026, 3, 15, 12, 0, tzinfo=UTC))
    ]
    assert db.tables.purchases[bought.purchase_id].points_pending == 0


async def test_a_second_run_finds_nothing_left_to_mature(clock: FixedClock) -> None:
    db = pending_db()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    clock.at = NOW + WINDOW + timedelta(days=3)
    await mature(db, clock)
    before = (dict(db.tables.journal), dict(db.tables.balances), dict(db.tables.lots))

    assert await mature(db, clock) == MaturationRun(0, 0)
    assert (dict(db.tables.journal), dict(db.tables.balances), dict(db.tables.lots)) == before


async def test_each_purchase_matures_on_its_own_date(clock: FixedClock) -> None:
    db = pending_db()
    li = await given_member(db, "CRM-1")
    wang = await given_member(db, "CRM-2")
    merchant = await given_merchant(db)
    await buy(db, clock, merchant.id, li.id, 10_000, "pos-1")
    clock.at = NOW + timedelta(days=1)
    await buy(db, clock, merchant.id, wang.id, 3_000, "pos-2")
    await buy(db, clock, merchant.id, li.id, 2_000, "pos-3")

    clock.at = NOW + WINDOW
    first = await mature(db, clock)
    clock.at = NOW + WINDOW + timedelta(days=1)
    second = await mature(db, clock)

    assert (first, second) == (MaturationRun(1, 100), MaturationRun(2, 50))
    assert balance(db, li.id) == Balance(li.id, 120, 0, 0, 120, 0)
    assert balance(db, wang.id) == Balance(wang.id, 30, 0, 0, 30, 0)


async def test_the_job_pages_through_every_due_purchase_and_reports_progress(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maturation, "BATCH", 2)
    db = pending_db()
    merchant = await given_merchant(db)
    members = [await given_member(db, f"CRM-{n}") for n in range(5)]
    for n, member in enumerate(members):
        await buy(db, clock, merchant.id, member.id, 1_000 * (n + 1), f"pos-{n}")
    clock.at = NOW + WINDOW
    progress: list[int] = []

    run = await mature(db, clock, progress)

    assert run == MaturationRun(5, 10 + 20 + 30 + 40 + 50)
    assert progress == [2, 4, 5]
    assert [balance(db, m.id).available for m in members] == [10, 20, 30, 40, 50]


async def test_a_merchants_own_return_window_replaces_the_programmes(clock: FixedClock) -> None:
    db = pending_db()
    member = await given_member(db)
    merchant = await given_merchant(db)
    db.tables.merchants[merchant.id] = replace(merchant, pending_days=3)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")

    clock.at = NOW + timedelta(days=3)

    assert await mature(db, clock) == MaturationRun(1, 100)


async def test_points_that_mature_repay_a_debt_first(clock: FixedClock) -> None:
    db = pending_db()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    db.tables.balances[member.id] = replace(db.tables.balances[member.id], debt=40)
    clock.at = NOW + WINDOW

    assert await mature(db, clock) == MaturationRun(1, 100)

    assert balance(db, member.id) == Balance(member.id, 60, 0, 0, 100, 0, 0)
    assert [lot.points for lot in lots_of(db, member.id)] == [60]


async def test_without_a_return_window_nothing_is_ever_pending(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    clock.at = NOW + timedelta(days=365)

    assert await mature(db, clock) == MaturationRun(0, 0)
    assert balance(db, member.id) == Balance(member.id, 100, 0, 0, 100, 0)


async def test_a_member_another_transaction_holds_is_left_for_the_next_run_and_the_rest_mature(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maturation, "BATCH", 2)
    db = pending_db()
    merchant = await given_merchant(db)
    busy = await given_member(db, "CRM-1")
    free = await given_member(db, "CRM-2")
    held = await buy(db, clock, merchant.id, busy.id, 1_000, "pos-1")
    await buy(db, clock, merchant.id, free.id, 2_000, "pos-2")
    clock.at = NOW + WINDOW
    db.locked_elsewhere = {busy.id}
    progress: list[int] = []

    def step(purchases: int) -> None:
        progress.append(purchases)
        if len(progress) > 5:
            raise AssertionError("the run keeps coming back to the same purchases")

    run = await run_maturation(lambda: FakeUnitOfWork(db), clock, step)

    assert run == MaturationRun(1, 20)
    assert progress == [1]  # one batch of both: the held one skipped, the other matured
    assert balance(db, busy.id) == Balance(busy.id, 0, 10, 0, 10, 0)
    assert balance(db, free.id) == Balance(free.id, 20, 0, 0, 20, 0)
    assert db.tables.purchases[held.purchase_id].points_pending == 10

    db.locked_elsewhere = set()
    assert await mature(db, clock) == MaturationRun(1, 10)
    assert balance(db, busy.id) == Balance(busy.id, 10, 0, 0, 10, 0)


async def test_the_very_first_purchase_matures_too(clock: FixedClock) -> None:
    db = pending_db()
    merchant = await given_merchant(db)
    member = await given_member(db)
    db._ids = itertools.count(1)  # an SQL table numbers its own rows from 1: this purchase is number 1
    bought = await buy(db, clock, merchant.id, member.id, 1_000, "pos-1")
    assert bought.purchase_id == 1
    clock.at = NOW + WINDOW

    assert await mature(db, clock) == MaturationRun(1, 10)
    assert balance(db, member.id).available == 10
