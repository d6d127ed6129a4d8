"""The triggers figure: how fast the reactions consumer handles outbox events on PostgreSQL.

A database of its own (the bench database's name + `_triggers`) with 2,000 members and two triggers
on purchase.posted: a first TRAVEL purchase gives a coupon, and every TRAVEL purchase awards a
campaign offer's points (a journal entry, a lot, the offer's budget claimed). Half the events are at
a TRAVEL merchant (both triggers fire), half at a DINING one (neither does). The figures: events
handled per second by one consumer, then by four sharing the outbox (SKIP LOCKED), each over its own
batch of events written straight into the outbox.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.actors import Actor, Role
from domain.clock import SystemClock
from domain.events import EventType
from domain.merchants import MerchantCategory
from domain.offers import FunderKind, FundingShare, Limits, Mechanic, Offer, Trigger, Window
from domain.services.offers import create_offer
from domain.services.triggers import TriggerInput, create_trigger, run_reactions
from domain.triggers import Action, ActionKind, Condition, ConditionKind
from persistence.migrate import upgrade_to_head_async
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.benchmarks.dataset import recreate_database
from scripts.benchmarks.report import Figure, Report

ADMIN = Actor(Role.ADMIN, "bench-admin", request_id="bench")
MEMBERS = 2_000
EVENTS = 4_000  # per measurement


async def _setup(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO merchants (name, category, channel, created_at) VALUES"
                " ('Sky Air', 'TRAVEL', 'BOTH', now()), ('Cafe', 'DINING', 'BOTH', now())"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO members (external_ref, status, referral_code, tags, enrolled_at)"
                " SELECT 'trg-' || g, 'ACTIVE', 'T' || lpad(g::text, 10, '0'), '[]', now()"
                " FROM generate_series(1, :n) g"
            ),
            {"n": MEMBERS},
        )
        await conn.execute(
            text(
                "INSERT INTO member_balances (member_id, available, pending, held, lifetime_earned,"
                " lifetime_redeemed, debt, last_activity_at) SELECT id, 0, 0, 0, 0, 0, 0, now() FROM members"
            )
        )
        travel, dining = (await conn.execute(text("SELECT id FROM merchants ORDER BY id"))).scalars().all()
    now = SystemClock().now()
    window = Window(now - timedelta(days=1), now + timedelta(days=30))
    funding = (FundingShare(FunderKind.PROGRAMME, None, 100),)
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    clock = SystemClock()
    coupon = await create_offer(
        Offer(
            0,
            0,
            "Hotel coupon",
            Mechanic.PERCENT_DISCOUNT,
            window=window,
            percent=Decimal(10),
            funding=funding,
            requires_coupon=True,
        ),
        actor=ADMIN,
        uow=uow(),
        clock=clock,
    )
    bonus = await create_offer(
        Offer(
            0,
            0,
            "Trip bonus",
            Mechanic.BONUS_POINTS,
            window=window,
            points=50,
            trigger=Trigger.CAMPAIGN,
            funding=funding,
            limits=Limits(budget_points=10**9),
        ),
        actor=ADMIN,
        uow=uow(),
        clock=clock,
    )
    travel_category = MerchantCategory.TRAVEL
    for conditions, action in (
        (
            (Condition(ConditionKind.FIRST_IN_CATEGORY, category=travel_category),),
            Action(ActionKind.ISSUE_COUPON, offer_id=coupon.id),
        ),
        (
            (Condition(ConditionKind.PURCHASE_CATEGORY, category=travel_category),),
            Action(ActionKind.AWARD_POINTS, offer_id=bonus.id),
        ),
    ):
        await create_trigger(
            TriggerInput("bench", EventType.PURCHASE_POSTED, conditions, (action,)),
            actor=ADMIN,
            uow=uow(),
            clock=clock,
        )
    return travel, dining


async def _events(engine: AsyncEngine, travel: int, dining: int, offset: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": str(uuid.uuid4()),
            "type": EventType.PURCHASE_POSTED.value,
            "member_id": 1 + (offset + i) % MEMBERS,
            "at": now,
            "payload": json.dumps(
                {
                    "purchaseId": offset + i + 1,
                    "merchantId": travel if i % 2 == 0 else dining,
                    "amountMinor": 1_000,
                    "currency": "CNY",
                    "channel": "OFFLINE",
                    "points": 10,
                    "pending": False,
                    "held": False,
                    "purchasedAt": now.isoformat(),
                }
            ),
        }
        for i in range(EVENTS)
    ]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox_events (event_id, type, version, member_id, occurred_at, payload,"
                " dispatched, reacted)"
                " VALUES (:event_id, :type, 1, :member_id, :at, CAST(:payload AS json), true, false)"
            ),
            rows,
        )


async def _handle(engine: AsyncEngine, consumers: int) -> float:
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    started = time.perf_counter()
    await asyncio.gather(*(run_reactions(uow, SystemClock(), once=False) for _ in range(consumers)))
    return EVENTS / (time.perf_counter() - started)


async def figures(bench_url: str, report: Report, progress: Callable[[str], None]) -> None:
    parsed = make_url(bench_url)
    url = parsed.set(database=f"{parsed.database}_triggers").render_as_string(hide_password=False)
    progress(f"triggers: {MEMBERS:,} members, two triggers, {EVENTS:,} events per run ...")
    await recreate_database(url)
    await upgrade_to_head_async(url)
    engine = create_async_engine(url, hide_parameters=True, pool_size=6)
    try:
        travel, dining = await _setup(engine)
        for consumers in (1, 4):
            await _events(engine, travel, dining, offset=consumers * EVENTS)
            rate = await _handle(engine, consumers)
            report.add(
                Figure(
                    "triggers",
                    f"events handled, {consumers} consumer{'s' if consumers > 1 else ''}",
                    rate,
                    "events/s",
                    detail="half fire a coupon and an award, half fire nothing",
                )
            )
    finally:
        await engine.dispose()
