"""The outbox on both databases: the main flows each write their events in their own transaction,
every stored event matches its type's JSON Schema, and an event exists exactly when its transaction
committed (a refused mutation and an idempotent replay add none)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from domain.clock import FixedClock, SystemClock
from domain.events import EventType, points_adjusted
from domain.services.dormancy import run_dormancy
from domain.services.expiry import run_expiry
from domain.services.maturation import run_maturation
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario, raw_id
from tests.conftest import Backend
from tests.integration.test_offers_api import CLAIM, GENERATE, create_offer, partner
from tests.integration.test_refunds import bought, refund, rows
from tests.integration.test_risk_control import APPROVE, decide, open_reviews
from tests.pos_steps import Pos

SCHEMAS = Path(__file__).parents[2] / "domain" / "event_schemas"
CANCEL = """mutation($input: CancelRedemptionInput!) {
  cancelRedemption(input: $input) { errors { code field message } }
}"""
TRANSFER = """mutation($input: TransferPointsInput!) {
  transferPoints(input: $input) { errors { code field message } }
}"""
FULFIL = """mutation($input: FulfilRedemptionInput!) {
  fulfilRedemption(input: $input) { errors { code field message } }
}"""
VOID = """mutation($input: VoidRedemptionInput!) {
  voidRedemption(input: $input) { errors { code field message } }
}"""
PERSONAL = ("phone", "email", "name", "firstName", "lastName", "birthday", "address")


def schema(type_: str, version: int) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{type_}.v{version}.json").read_text())  # type: ignore[no-any-return]


async def outbox(backend: Backend) -> list[dict[str, Any]]:
    found = await rows(
        backend, "SELECT id, event_id, type, version, member_id, payload FROM outbox_events ORDER BY id"
    )
    return [
        {
            "id": r[0],
            "event_id": r[1],
            "type": r[2],
            "version": r[3],
            "member_id": r[4],
            "payload": r[5] if isinstance(r[5], dict) else json.loads(r[5]),
        }
        for r in found
    ]


def check_against_schemas(events: list[dict[str, Any]]) -> None:
    for e in events:
        jsonschema.Draft202012Validator(
            schema(e["type"], e["version"]), format_checker=jsonschema.FormatChecker()
        ).validate(e["payload"])
        text = json.dumps(e["payload"]).lower()
        assert not any(f'"{word.lower()}"' in text for word in PERSONAL), e


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


async def test_the_main_flows_emit_their_events_each_matching_its_schema(
    backend: Backend, given: Scenario, return_window: None
) -> None:
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731
    bank = await partner(given)
    merchant = await given.merchant()
    alice = await given.member("alice", phone="+85291234567", email="alice@example.com")
    bob = await given.member("bob")
    offer = await create_offer(
        given,
        name="Bonus",
        mechanic="BONUS_POINTS",
        points=100,
        funding=[{"kind": "PARTNER", "funderId": bank.gid, "percent": 100}],
        limits={"budgetPoints": 100},
    )
    assert offer["errors"] == [], offer

    # A purchase in the return window: posted, pending, an award that uses the whole budget.
    purchase = await bought(given, merchant, alice, 5_000, "p1")
    first = await outbox(backend)
    assert types(first) == [
        "budget.warning",
        "budget.exhausted",
        "purchase.posted",
        "points.pending",
        "offer.awarded",
    ]
    posted = first[2]
    assert posted["member_id"] == alice.raw
    assert posted["payload"] == {
        "purchaseId": raw_id(purchase),
        "merchantId": merchant.raw,
        "amountMinor": 5_000,
        "currency": "CNY",
        "channel": posted["payload"]["channel"],
        "points": 150,
        "pending": True,
        "held": False,
        "purchasedAt": posted["payload"]["purchasedAt"],
    }
    # The same request again is a replay: no new event.
    await bought(given, merchant, alice, 5_000, "p1")
    assert len(await outbox(backend)) == len(first)

    # The window passes: the points mature; later, lots expire.
    await run_maturation(uow, FixedClock(SystemClock().now() + timedelta(days=15)))
    await run_expiry(uow, FixedClock(SystemClock().now() + timedelta(days=3 * 366)))
    after_jobs = types(await outbox(backend))
    assert after_jobs[-2:] == ["points.matured", "points.expired"]

    # Adjustments, a transfer, a refund, a reward redeemed and cancelled.
    assert (await given.adjust(alice, 1_000, "a1"))["errors"] == []
    code = await given.referral_code(bob)
    sent = await given.gql.data(
        TRANSFER,
        {"input": {"points": 200, "toReferralCode": code, "idempotencyKey": "t1"}},
        given.tokens.member(alice.raw),
    )
    assert sent["transferPoints"]["errors"] == []
    reward = await given.reward(cost_points=100)
    redeemed = await given.redeem(alice, reward, "r1")
    assert redeemed["errors"] == [], redeemed
    cancelled = await given.gql.data(
        CANCEL,
        {
            "input": {
                "redemptionId": redeemed["redemption"]["id"],
                "reason": "changed mind",
                "idempotencyKey": "c1",
            }
        },
        given.admin,
    )
    assert cancelled["cancelRedemption"]["errors"] == []
    handed = await given.redeem(alice, reward, "r2")
    fulfilled = await given.gql.data(
        FULFIL, {"input": {"redemptionId": handed["redemption"]["id"]}}, given.admin
    )
    assert fulfilled["fulfilRedemption"]["errors"] == []
    second = await bought(given, merchant, bob, 2_000, "p2")
    assert (await refund(given, merchant, second, "rf1"))["errors"] == []

    # At the till: a hold captured, a hold voided.
    pos = Pos(given)
    hold = await pos.hold(merchant, alice, 50, "h1")
    assert (await pos.capture(merchant, hold, "cap1"))["errors"] == []
    other = await pos.hold(merchant, alice, 30, "h2")
    voided = await given.gql.data(
        VOID, {"input": {"redemptionId": other, "idempotencyKey": "v1"}}, given.tokens.merchant(merchant.raw)
    )
    assert voided["voidRedemption"]["errors"] == []

    # Coupons generated and claimed.
    coupons = await create_offer(
        given,
        name="Coupon",
        mechanic="BONUS_POINTS",
        points=10,
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    made = await given.gql.data(
        GENERATE, {"input": {"offerId": coupons["offer"]["id"], "count": 2}}, given.admin
    )
    claimed = await given.gql.data(
        CLAIM,
        {"input": {"code": made["generateCoupons"]["coupons"][0]["code"]}},
        given.tokens.member(bob.raw),
    )
    assert claimed["claimCoupon"]["errors"] == []

    # A risk hold, approved.
    await given.risk_rule("MEMBER_VELOCITY", limit=0)
    await bought(given, merchant, bob, 1_000, "p3")
    [review] = await open_reviews(given)
    assert (await decide(given, APPROVE, review["id"], "d1"))["errors"] == []

    # Dormancy: everyone idle for years.
    await run_dormancy(uow, FixedClock(SystemClock().now() + timedelta(days=5 * 366)))

    events = await outbox(backend)
    check_against_schemas(events)
    seen = set(types(events))
    # The notification and nudge events come from jobs and the reactions consumer, checked against
    # their schemas in test_notifications_triggers.py.
    elsewhere = {
        "tier.changed",
        "risk.rejected",
        "member.woken",
        "member.no_purchase",
        "notification.requested",
    }
    expected = {t.value for t in EventType} - elsewhere
    assert expected - seen == set()
    transferred = [e for e in events if e["type"] == "points.transferred"]
    assert {(e["member_id"], e["payload"]["direction"]) for e in transferred} == {
        (alice.raw, "OUT"),
        (bob.raw, "IN"),
    }
    assert len({e["event_id"] for e in events}) == len(events)


async def test_a_refused_mutation_leaves_no_event(backend: Backend, given: Scenario) -> None:
    member = await given.member()
    reward = await given.reward(cost_points=500)
    before = await outbox(backend)
    refused = await given.redeem(member, reward, "r1")  # no points: refused, rolled back
    assert refused["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    bad = await given.adjust(member, 0, "a0")  # bad input: a typed error, nothing changes
    assert bad["errors"]
    assert await outbox(backend) == before == []


async def test_a_transaction_rolled_back_after_its_events_were_added_writes_none(backend: Backend) -> None:
    now = SystemClock().now()

    async def failing() -> None:
        async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
            await uow.outbox.add(points_adjusted(member_id=1, adjustment_id=1, points=5, at=now))
            raise RuntimeError("the use case failed before its commit")

    with pytest.raises(RuntimeError):
        await failing()
    assert await outbox(backend) == []
    async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
        await uow.outbox.add(
            points_adjusted(member_id=1, adjustment_id=1, points=5, at=now),
            points_adjusted(member_id=1, adjustment_id=2, points=6, at=now),
        )
        await uow.commit()
    stored = await outbox(backend)
    assert [e["payload"]["points"] for e in stored] == [5, 6]
    assert stored[0]["event_id"] != stored[1]["event_id"]


async def test_with_the_outbox_off_nothing_is_written(backend: Backend) -> None:
    async with SqlAlchemyUnitOfWork(backend.database.write_engine, outbox=False) as uow:
        await uow.outbox.add(points_adjusted(member_id=1, adjustment_id=1, points=5, at=SystemClock().now()))
        await uow.commit()
    assert await outbox(backend) == []
