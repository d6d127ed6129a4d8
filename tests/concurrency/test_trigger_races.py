"""PostgreSQL: the same outbox events handled by several consumers at once, and again (a replay),
fire each trigger exactly once per event: exact points, exact coupons, the budget never passed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.clock import FixedClock
from domain.events import EventType
from domain.merchants import MerchantCategory
from domain.services.triggers import TriggerInput, create_trigger, react, run_reactions
from domain.triggers import Action, ActionKind, Condition, ConditionKind
from persistence.repositories.triggers import event_of
from persistence.tables import outbox_events
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids
from tests.concurrency.conftest import Arena
from tests.integration.test_offers_api import create_offer
from tests.unit.test_services import ADMIN

pytestmark = [pytest.mark.asyncio, pytest.mark.concurrency, pytest.mark.postgres]

MEMBERS = 24
NOON = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


async def scalar(arena: Arena, sql: str) -> int:
    async with arena.backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_consumers_racing_and_replaying_fire_each_trigger_once_per_event(pg_arena: Arena) -> None:
    given, backend = pg_arena.given, pg_arena.backend
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731
    window = {
        "startsAt": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "endsAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    airline = await given.merchant("Sky Air", category="TRAVEL")
    hotel = await create_offer(
        given,
        name="Hotel",
        mechanic="PERCENT_DISCOUNT",
        percent=20,
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    bonus = await create_offer(
        given,
        name="Travel bonus",
        mechanic="BONUS_POINTS",
        points=100,
        trigger="CAMPAIGN",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
        limits={"budgetPoints": 2_000},  # 20 awards of 100 for 24 members
        **window,
    )
    assert hotel["errors"] == [], hotel
    assert bonus["errors"] == [], bonus
    hotel_id, bonus_id = Ids(hotel["offer"]["id"]).raw, Ids(bonus["offer"]["id"]).raw
    for conditions, action in (
        (
            (Condition(ConditionKind.FIRST_IN_CATEGORY, category=MerchantCategory.TRAVEL),),
            Action(ActionKind.ISSUE_COUPON, offer_id=hotel_id),
        ),
        ((), Action(ActionKind.AWARD_POINTS, offer_id=bonus_id)),
    ):
        await create_trigger(
            TriggerInput("race", EventType.PURCHASE_POSTED, conditions, (action,)),
            actor=ADMIN,
            uow=uow(),
            clock=FixedClock(NOON),
        )
    members = [await given.member() for _ in range(MEMBERS)]
    for i, m in enumerate(members):
        assert (await given.purchase(airline, m, 1_000, f"p{i}"))["errors"] == []

    # Four consumers share the outbox (SKIP LOCKED) ...
    runs = await asyncio.gather(
        *(run_reactions(uow, FixedClock(NOON), limit=5, once=False) for _ in range(4))
    )
    # ... and four replays handle every event again at the same time, each event in its own
    # transaction, ignoring what was handled.
    async with backend.database.read_engine.connect() as conn:
        every = [event_of(r) for r in await conn.execute(outbox_events.select().order_by(outbox_events.c.id))]

    async def replay() -> int:
        fired = 0
        for event in every:
            async with (u := uow()):
                fired += await react(u, event, NOON)
                await u.commit()
        return fired

    replayed = await asyncio.gather(*(replay() for _ in range(4)))

    assert sum(r.firings for r in runs) == 2 * MEMBERS  # the coupon and the award attempt, per purchase
    assert sum(replayed) == 0
    assert await scalar(pg_arena, f"SELECT count(*) FROM coupons WHERE offer_id = {hotel_id}") == MEMBERS
    assert (
        await scalar(pg_arena, f"SELECT count(DISTINCT member_id) FROM coupons WHERE offer_id = {hotel_id}")
        == MEMBERS
    )
    assert await scalar(pg_arena, f"SELECT points_used FROM offers WHERE id = {bonus_id}") == 2_000
    assert await scalar(pg_arena, "SELECT coalesce(sum(points), 0) FROM member_awards") == 2_000
    assert await scalar(pg_arena, "SELECT count(*) FROM trigger_firings") == 2 * MEMBERS
    assert await scalar(pg_arena, "SELECT count(*) FROM outbox_events WHERE NOT reacted") == 0
    total = sum([(await given.balance(m))["available"] for m in members])
    assert total == MEMBERS * 10 + 2_000
