"""post_entry over the fakes: an entry booked in one statement, as PostgreSQL does for one member,
books exactly what the general path books (SQLite's): the same journal, lines, times, lots and
balances, the same refusals; and a credit to a member who owes points still repays the debt first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock
from domain.commands import RedeemReward, TransferPoints
from domain.errors import ErrorCode
from domain.services.redemptions import redeem_reward
from domain.services.transfers import transfer_points
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy, refund
from tests.unit.test_services import (
    balance,
    given_member,
    given_merchant,
    given_reward,
    member_actor,
    raised,
    snapshot,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


async def a_members_year(db: FakeDatabase) -> tuple[object, ...]:
    """Earnings, a redemption, a refund that leaves a debt, earnings that repay it, a transfer and a
    refused redemption, each at its own time."""
    clock = FixedClock(NOW)
    li = await given_member(db, "CRM-1")
    wang = await given_member(db, "CRM-2")
    merchant = await given_merchant(db)
    mug = await given_reward(db, 80)
    bought = await buy(db, clock, merchant.id, li.id, 10_000, "pos-1")
    clock.at += timedelta(days=1)
    await redeem_reward(
        RedeemReward(mug.id, "w-1"), actor=member_actor(li.id), uow=FakeUnitOfWork(db), clock=clock
    )
    clock.at += timedelta(days=1)
    await refund(db, clock, merchant.id, bought.purchase_id, "r-1")
    assert balance(db, li.id).debt == 80
    clock.at += timedelta(days=1)
    await buy(db, clock, merchant.id, li.id, 20_000, "pos-2")
    assert (balance(db, li.id).available, balance(db, li.id).debt) == (120, 0)
    clock.at += timedelta(days=1)
    await transfer_points(
        TransferPoints(20, "t-1", to_external_ref="CRM-2"),
        actor=member_actor(li.id),
        uow=FakeUnitOfWork(db),
        clock=clock,
    )
    clock.at += timedelta(days=1)
    await redeem_reward(
        RedeemReward(mug.id, "w-2"), actor=member_actor(li.id), uow=FakeUnitOfWork(db), clock=clock
    )
    refused = await raised(
        redeem_reward(
            RedeemReward(mug.id, "w-3"), actor=member_actor(wang.id), uow=FakeUnitOfWork(db), clock=clock
        )
    )
    assert refused.code is ErrorCode.INSUFFICIENT_POINTS
    t = snapshot(db)
    # what posting writes (member links and voucher codes are random, so each run's differ)
    return (t.journal, t.lots, t.lot_draws, t.lot_draws_at, t.balances, t.members, t.purchases, t.refunds)


async def test_an_entry_booked_in_one_statement_books_what_the_general_path_books() -> None:
    general = FakeDatabase()
    one_statement = FakeDatabase()
    one_statement.posts_at_once = True

    assert await a_members_year(one_statement) == await a_members_year(general)
    journal = [p for _, p in sorted(one_statement.tables.journal.items())]
    assert [p.at.date() for p in journal] == [(NOW + timedelta(days=d)).date() for d in (0, 1, 2, 3, 4, 5)]
    assert [lot.points for _, lot in sorted(one_statement.tables.lots.items())] == [100, 120, 20]
