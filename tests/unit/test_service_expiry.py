"""The expiry job over the fakes: what is left of a lot leaves the member's available balance for the
expiry account at the lot's date, not a moment before, once, in one entry per member and run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import domain.services.expiry as expiry
from domain.clock import FixedClock
from domain.commands import TransferPoints
from domain.ledger import Account, AccountKind, EntryKind, OriginType, Posting, transfer
from domain.lots import LotDraw
from domain.members import Balance
from domain.movements import Expiration
from domain.programme import ExpiryPolicy
from domain.services.expiry import ExpiryRun, expire_member_lots, run_expiry
from domain.services.posting import post_entry
from domain.services.transfers import transfer_points
from tests.unit.fakes import DEFAULT_PROGRAMME, FakeDatabase, FakeUnitOfWork, PostedEntry
from tests.unit.steps import buy
from tests.unit.test_services import balance, given_lot, given_member, given_merchant, member_actor

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
DUE = datetime(2024, 6, 30, tzinfo=UTC)
LATER = datetime(2025, 6, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def expire(db: FakeDatabase, clock: FixedClock, progress: list[int] | None = None) -> ExpiryRun:
    return await run_expiry(lambda: FakeUnitOfWork(db), clock, None if progress is None else progress.append)


def expire_entries(db: FakeDatabase) -> list[PostedEntry]:
    return [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.EXPIRE]


async def spend(db: FakeDatabase, member_id: int, lot_id: int, points: int) -> None:
    """Points redeemed from one lot, as a redemption would book them."""
    seed = FakeUnitOfWork(db)
    async with seed:
        entry_id = await post_entry(
            seed,
            transfer(
                kind=EntryKind.REDEEM,
                member_id=member_id,
                origin_type=OriginType.REDEMPTION,
                origin_id=0,
                source=Account.available(member_id),
                destination=Account(AccountKind.REDEMPTION),
                points=points,
                description="spent",
            ),
            NOW,
        )
        await seed.lots.consume(entry_id, member_id, [LotDraw(lot_id, points)], NOW)
        await seed.commit()


async def test_what_is_left_of_a_lot_expires_at_its_date_and_not_a_microsecond_before(
    clock: FixedClock,
) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    due = await given_lot(db, member.id, 300, DUE)
    later = await given_lot(db, member.id, 200, LATER)
    await spend(db, member.id, due, 80)

    clock.at = DUE - timedelta(microseconds=1)
    assert await expire(db, clock) == ExpiryRun(0, 0)
    assert expire_entries(db) == []

    clock.at = DUE
    assert await expire(db, clock) == ExpiryRun(1, 220)

    [posted] = expire_entries(db)
    assert posted.entry.postings == (
        Posting(Account.available(member.id), -220),
        Posting(Account(AccountKind.EXPIRY), 220),
    )
    assert (posted.entry.member_id, posted.entry.origin_type) == (member.id, OriginType.EXPIRATION)
    assert posted.at == DUE
    assert posted.entry.description == "Expired (valid until 2024-06-30)"
    assert db.tables.expirations == {
        posted.entry.origin_id: Expiration(posted.entry.origin_id, member.id, 220, DUE)
    }
    assert (db.tables.lots[due].remaining, db.tables.lots[later].remaining) == (0, 200)
    assert db.tables.lot_draws[-1] == (posted.id, LotDraw(due, 220))
    assert db.tables.lot_draws_at[posted.id] == DUE
    assert balance(db, member.id) == Balance(member.id, 200, 0, 0, 500, 80)


async def test_a_members_expired_lots_leave_in_one_entry_dated_by_the_latest(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    first = await given_lot(db, member.id, 10, DUE - timedelta(days=30))
    second = await given_lot(db, member.id, 20, DUE)

    clock.at = DUE + timedelta(days=1)
    assert await expire(db, clock) == ExpiryRun(1, 30)

    [posted] = expire_entries(db)
    assert posted.entry.description == "Expired (valid until 2024-06-30)"
    assert db.tables.lot_draws[-2:] == [(posted.id, LotDraw(first, 10)), (posted.id, LotDraw(second, 20))]
    assert balance(db, member.id).available == 0


async def test_a_second_run_expires_nothing_again(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 100, DUE)
    clock.at = DUE
    await expire(db, clock)
    before = (dict(db.tables.journal), dict(db.tables.balances), dict(db.tables.lots))

    assert await expire(db, clock) == ExpiryRun(0, 0)
    assert (dict(db.tables.journal), dict(db.tables.balances), dict(db.tables.lots)) == before


async def test_the_job_pages_through_every_member_holding_expired_points(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expiry, "BATCH", 2)
    db = FakeDatabase()
    members = [await given_member(db, f"CRM-{n}") for n in range(5)]
    for n, member in enumerate(members):
        await given_lot(db, member.id, 10 * (n + 1), DUE if n != 2 else LATER)
    clock.at = DUE
    progress: list[int] = []

    run = await expire(db, clock, progress)

    assert run == ExpiryRun(4, 10 + 20 + 40 + 50)
    assert progress == [2, 4]
    assert [balance(db, m.id).available for m in members] == [0, 0, 30, 0, 0]


async def test_points_earned_at_the_end_of_month_policy_expire_at_that_months_last_instant(
    clock: FixedClock,
) -> None:
    db = FakeDatabase(
        replace(DEFAULT_PROGRAMME, points_validity_months=12, expiry_policy=ExpiryPolicy.END_OF_MONTH)
    )
    member = await given_member(db)
    merchant = await given_merchant(db)
    clock.at = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    last_instant = datetime(2025, 4, 1, tzinfo=UTC) - timedelta(microseconds=1)

    clock.at = last_instant - timedelta(microseconds=1)
    assert await expire(db, clock) == ExpiryRun(0, 0)
    clock.at = last_instant
    assert await expire(db, clock) == ExpiryRun(1, 100)
    assert balance(db, member.id) == Balance(member.id, 0, 0, 0, 100, 0)


async def test_the_job_leaves_a_member_another_transaction_holds_for_its_next_run(clock: FixedClock) -> None:
    db = FakeDatabase()
    busy = await given_member(db, "CRM-1")
    free = await given_member(db, "CRM-2")
    await given_lot(db, busy.id, 300, DUE)
    await given_lot(db, free.id, 100, DUE)
    clock.at = DUE
    db.locked_elsewhere = {busy.id}

    assert await expire(db, clock) == ExpiryRun(1, 100)
    assert balance(db, busy.id).available == 300
    assert balance(db, free.id).available == 0

    db.locked_elsewhere = set()
    assert await expire(db, clock) == ExpiryRun(1, 300)
    assert balance(db, busy.id).available == 0


async def test_a_debit_waits_for_the_members_lock_and_expires_its_points_first(clock: FixedClock) -> None:
    db = FakeDatabase()
    giver = await given_member(db, "CRM-1")
    await given_member(db, "CRM-2")
    due = await given_lot(db, giver.id, 300, DUE)
    later = await given_lot(db, giver.id, 50, LATER)
    clock.at = DUE
    db.locked_elsewhere = {giver.id}  # until the transaction holding it ends: a debit waits for it

    await transfer_points(
        TransferPoints(40, "t-1", to_external_ref="CRM-2"),
        actor=member_actor(giver.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )

    [posted] = expire_entries(db)
    assert posted.entry.postings[0] == Posting(Account.available(giver.id), -300)
    assert (db.tables.lots[due].remaining, db.tables.lots[later].remaining) == (0, 10)
    assert balance(db, giver.id).available == 10


async def test_expiring_a_member_with_nothing_due_expires_no_points(clock: FixedClock) -> None:
    db = FakeDatabase()
    member = await given_member(db)
    await given_lot(db, member.id, 300, LATER)
    uow = FakeUnitOfWork(db)
    async with uow:
        assert await expire_member_lots(uow, member.id, DUE) == 0
        assert await expire_member_lots(uow, member.id, LATER) == 300
    assert expire_entries(db) == []  # never committed
