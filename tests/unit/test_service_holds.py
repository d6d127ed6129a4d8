"""POS holds released by the job, over the fakes: a lapsed hold once, one busy member's row waited
for after the batch, the points back with their lots' dates, a reward's unit back to stock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import FixedClock
from domain.commands import AuthorizeRedemption
from domain.ledger import EntryKind, OriginType
from domain.rewards import RedemptionKind, RedemptionStatus
from domain.services import holds
from domain.services.holds import HoldReleaseRun, merchant_name, release_held, run_hold_release
from domain.services.pos_redemptions import authorize_redemption, create_redemption_code
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import (
    LATER,
    SOON,
    balance,
    given_lot,
    given_member,
    given_merchant,
    lots_of,
    member_actor,
    merchant_actor,
)

NOW = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)
LAPSED = NOW + timedelta(minutes=30)


async def hold(
    db: FakeDatabase,
    member_id: int,
    merchant_id: int,
    key: str,
    *,
    points: int | None = None,
    reward_id: int | None = None,
) -> int:
    code = await create_redemption_code(
        actor=member_actor(member_id), uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    result = await authorize_redemption(
        AuthorizeRedemption(code.code, key, points=points, reward_id=reward_id),
        actor=merchant_actor(merchant_id),
        uow=FakeUnitOfWork(db),
        clock=FixedClock(NOW),
    )
    return result.redemption_id


async def test_a_lapsed_hold_goes_back_with_its_dates_its_reward_to_stock_and_is_counted() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 30, SOON)
    await given_lot(db, member.id, 30, LATER)
    seed = FakeUnitOfWork(db)
    async with seed:
        reward = await seed.rewards.add(name="Mug", cost_points=40, stock=1, active=True, at=NOW)
        await seed.commit()
    redemption_id = await hold(db, member.id, merchant.id, "a-1", reward_id=reward.id)
    seen: list[int] = []

    run = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED), seen.append)

    assert run == HoldReleaseRun(1, 40)
    assert seen == [1]
    expired = db.tables.redemptions[redemption_id]
    assert (expired.status, expired.finalized_at) == (RedemptionStatus.EXPIRED, LAPSED)
    assert db.tables.rewards[reward.id].stock == 1
    b = balance(db, member.id)
    assert (b.available, b.held) == (60, 0)
    [released] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.RELEASE]
    assert (released.entry.description, released.at) == ("Released: the hold at Tea House expired", LAPSED)
    assert sorted(
        (lot.points, lot.expires_at) for lot in lots_of(db, member.id) if lot.earned_at == LAPSED
    ) == [
        (10, LATER),
        (30, SOON),
    ]


async def test_holds_are_released_in_id_order_and_a_busy_member_is_waited_for_after_the_others() -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    first = await given_member(db, "CRM-1")
    second = await given_member(db, "CRM-2")
    for member in (first, second):
        await given_lot(db, member.id, 100, LATER)
    busy_hold = await hold(db, first.id, merchant.id, "a-1", points=10)
    free_hold = await hold(db, second.id, merchant.id, "a-2", points=20)
    db.locked_elsewhere = {first.id}
    order: list[int] = []

    def progress(holds: int) -> None:
        order.append(holds)

    run = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED), progress)

    assert run == HoldReleaseRun(2, 30)
    assert order == [2]
    assert [db.tables.redemptions[i].status for i in (busy_hold, free_hold)] == [RedemptionStatus.EXPIRED] * 2
    released = [p.entry.origin_id for p in db.tables.journal.values() if p.entry.kind is EntryKind.RELEASE]
    assert released == [free_hold, busy_hold]  # the busy member's after the batch, by waiting
    assert (balance(db, first.id).available, balance(db, second.id).available) == (100, 100)


async def test_nothing_is_released_before_its_time_or_twice() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    await hold(db, member.id, merchant.id, "a-1", points=70)
    calls: list[int] = []

    early = await run_hold_release(
        lambda: FakeUnitOfWork(db), FixedClock(LAPSED - timedelta(seconds=1)), calls.append
    )
    on_time = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED))
    again = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED + timedelta(days=1)))

    assert (early, on_time, again) == (HoldReleaseRun(0, 0), HoldReleaseRun(1, 70), HoldReleaseRun(0, 0))
    assert calls == []  # no batch, no progress


async def test_a_hold_resolved_between_the_batch_and_its_release_is_skipped() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    redemption_id = await hold(db, member.id, merchant.id, "a-1", points=70)
    factories = 0

    def factory() -> FakeUnitOfWork:
        nonlocal factories
        factories += 1
        uow = FakeUnitOfWork(db)
        if factories == 2:  # the hold's own transaction: someone voided it a moment before

            async def lost(*_: object, **__: object) -> bool:
                return False

            uow.redemptions.finish = lost  # type: ignore[method-assign]
        return uow

    run = await run_hold_release(factory, FixedClock(LAPSED))

    assert run == HoldReleaseRun(0, 0)
    assert db.tables.redemptions[redemption_id].status is RedemptionStatus.AUTHORIZED
    assert balance(db, member.id).held == 70


async def test_a_merchant_gone_from_the_catalogue_is_named_a_merchant() -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db, "Noodle Bar")
    uow = FakeUnitOfWork(db)

    assert await merchant_name(uow, merchant.id) == "Noodle Bar"
    assert await merchant_name(uow, 404) == "a merchant"
    assert await merchant_name(uow, None) == "a merchant"


async def test_releasing_a_hold_kept_whole_books_nothing() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    redemption_id = await hold(db, member.id, merchant.id, "a-1", points=70)
    entries = dict(db.tables.journal)
    uow = FakeUnitOfWork(db)

    async with uow:
        kept_whole = await release_held(uow, db.tables.redemptions[redemption_id], 70, "none", LAPSED)
        one_back = await release_held(uow, db.tables.redemptions[redemption_id], 69, "one", LAPSED)
        new = [p for i, p in db.tables.journal.items() if i not in entries]

    assert (kept_whole, one_back) == (0, 1)
    assert [(p.entry.kind, p.entry.description) for p in new] == [(EntryKind.RELEASE, "one")]
    assert db.tables.redemptions[redemption_id].kind is RedemptionKind.POS


async def test_holds_are_read_in_batches_after_the_last_id_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)
    member = await given_member(db)
    await given_lot(db, member.id, 100, LATER)
    for key, points in (("a-1", 10), ("a-2", 20), ("a-3", 30)):
        await hold(db, member.id, merchant.id, key, points=points)
    monkeypatch.setattr(holds, "BATCH", 2)
    progress: list[int] = []

    run = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED), progress.append)

    assert run == HoldReleaseRun(3, 60)
    assert progress == [2, 3]
    assert balance(db, member.id).available == 100


async def test_a_hold_voided_or_gone_between_the_batch_and_its_release_counts_nothing() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    await given_lot(db, member.id, 100, LATER)
    voided = await hold(db, member.id, merchant.id, "a-1", points=10)
    gone = await hold(db, member.id, merchant.id, "a-2", points=20)
    factories = 0

    def factory() -> FakeUnitOfWork:
        nonlocal factories
        factories += 1
        if factories == 2:  # after the batch was read: one hold voided, one row no longer there
            db.tables.redemptions[voided] = replace(
                db.tables.redemptions[voided], status=RedemptionStatus.VOIDED
            )
            del db.tables.redemptions[gone]
        return FakeUnitOfWork(db)

    run = await run_hold_release(factory, FixedClock(LAPSED))

    assert run == HoldReleaseRun(0, 0)
    assert [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.RELEASE] == []


async def test_the_first_redemption_of_all_is_released_too() -> None:
    db = FakeDatabase()
    seed = FakeUnitOfWork(db)
    async with seed:
        # the very first row: redemption ids start at 1, as in the database
        first = await seed.redemptions.add(
            member_id=2,
            reward_id=None,
            points=70,
            status=RedemptionStatus.AUTHORIZED,
            at=NOW,
            kind=RedemptionKind.POS,
            hold_expires_at=LAPSED,
        )
        await seed.commit()
    member = await given_member(db)
    assert (first.id, member.id) == (1, 2)
    db.tables.balances[member.id] = replace(db.tables.balances[member.id], held=70, lifetime_earned=70)

    run = await run_hold_release(lambda: FakeUnitOfWork(db), FixedClock(LAPSED))

    assert run == HoldReleaseRun(1, 70)
    assert db.tables.redemptions[first.id].status is RedemptionStatus.EXPIRED
    [released] = [p for p in db.tables.journal.values() if p.entry.kind is EntryKind.RELEASE]
    assert (released.entry.member_id, released.entry.origin_type, released.entry.origin_id) == (
        member.id,
        OriginType.REDEMPTION,
        first.id,
    )
    assert released.entry.description == "Released: the hold at a merchant expired"
