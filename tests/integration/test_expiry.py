"""Expiry, on both databases: points past their lots' date leave the available balance once, by the
job or before any debit, and the ledger verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.commands import RedeemReward
from domain.errors import InsufficientPoints
from domain.services.expiry import run_expiry
from domain.services.redemptions import redeem_reward
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend

# Points live 24 months; this is safely after that for anything earned today.
LATER = FixedClock(datetime.now(UTC) + timedelta(days=2 * 366))


def uow_factory(backend: Backend):  # type: ignore[no-untyped-def]
    return lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)


async def test_the_job_expires_what_is_due_once_and_the_ledger_verifies(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    alice, bob = await given.member("alice"), await given.member("bob")
    await given.purchase(merchant, alice, 12_300, key="a1")
    await given.purchase(merchant, bob, 4_500, key="b1")

    first = await run_expiry(uow_factory(backend), LATER)
    again = await run_expiry(uow_factory(backend), LATER)

    assert (first.members, first.points) == (2, 123 + 45)
    assert (again.members, again.points) == (0, 0)
    assert [(await given.balance(m))["available"] for m in (alice, bob)] == [0, 0]
    assert (await given.balance(alice))["lifetimeEarned"] == 123
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_redemption_never_spends_expired_points(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    reward = await given.reward("Coffee", cost_points=100)
    await given.purchase(merchant, member, 12_300, key="p1")

    with pytest.raises(InsufficientPoints):
        await redeem_reward(
            RedeemReward(reward.raw, "r1"),
            actor=Actor(Role.MEMBER, "m", member_id=member.raw),
            uow=SqlAlchemyUnitOfWork(backend.database.write_engine),
            clock=LATER,
        )

    assert await check_ledger(backend.database.read_engine) == []


async def test_a_job_and_points_not_yet_due(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 12_300, key="p1")

    run = await run_expiry(uow_factory(backend), FixedClock(datetime.now(UTC) + timedelta(days=300)))

    assert (run.members, run.points) == (0, 0)
    assert (await given.balance(member))["available"] == 123
