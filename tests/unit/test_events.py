"""Business events: each type has a JSON Schema its builder's payload matches; ids are time-ordered
UUIDs; budget thresholds are crossed once; the use cases write their events through the unit of
work, so a rolled-back one leaves none (over the fakes)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from domain import events
from domain.clock import FixedClock
from domain.events import Event, EventType
from domain.services.dormancy import run_dormancy
from scripts.event_catalogue import table
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.steps import buy
from tests.unit.test_services import given_member, given_merchant

SCHEMAS = Path(__file__).parents[2] / "domain" / "event_schemas"
AT = datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC)


def one_of_each() -> list[Event]:
    return [
        events.purchase_posted(
            member_id=1,
            purchase_id=2,
            merchant_id=3,
            amount_minor=5_000,
            currency="CNY",
            channel="OFFLINE",
            points=50,
            pending=False,
            held=False,
            purchased_at=AT,
            at=AT,
        ),
        events.points_pending(member_id=1, purchase_id=2, points=50, matures_at=AT, at=AT),
        events.points_matured(member_id=1, purchase_id=2, points=50, at=AT),
        events.points_expired(member_id=1, expiration_id=4, points=50, at=AT),
        events.points_refunded(
            member_id=1, refund_id=5, purchase_id=2, amount_minor=100, currency="CNY", points=1, debt=0, at=AT
        ),
        events.points_adjusted(member_id=1, adjustment_id=6, points=-20, at=AT),
        events.points_transferred(member_id=1, transfer_id=7, sender_id=1, recipient_id=8, points=9, at=AT),
        events.redemption_requested(member_id=1, redemption_id=9, reward_id=10, points=100, at=AT),
        events.redemption_held(member_id=1, redemption_id=9, merchant_id=3, points=100, expires_at=AT, at=AT),
        events.redemption_captured(member_id=1, redemption_id=9, merchant_id=3, points=90, at=AT),
        events.redemption_voided(member_id=1, redemption_id=9, merchant_id=3, points_returned=100, at=AT),
        events.redemption_fulfilled(member_id=1, redemption_id=9, reward_id=10, at=AT),
        events.redemption_cancelled(member_id=1, redemption_id=9, reward_id=None, points_returned=100, at=AT),
        events.tier_changed(member_id=1, from_tier_id=None, to_tier_id=2, reason="UPGRADE", at=AT),
        events.offer_awarded(
            member_id=1, offer_id=11, purchase_id=2, points=88, discount_minor=0, cashback_minor=0, at=AT
        ),
        events.coupon_issued(member_id=None, offer_id=11, coupon_ids=[12, 13], at=AT),
        events.member_dormant(member_id=1, inactive_since=AT, at=AT),
        events.member_woken(member_id=1, dormant_since=AT, at=AT),
        events.risk_held(
            member_id=1, review_id=14, purchase_id=2, points=50, rules=["MEMBER_VELOCITY"], at=AT
        ),
        events.risk_decided(approved=True, member_id=1, review_id=14, points=50, at=AT),
        events.risk_decided(approved=False, member_id=1, review_id=14, points=50, at=AT),
        *events.budget_events(offer_id=11, budget=100, before=0, after=100, unit="POINTS", at=AT),
        events.member_no_purchase(member_id=1, enrolled_at=AT, days=14, at=AT),
        events.notification_requested(
            member_id=1,
            notification_id=15,
            kind="POINTS_EXPIRING",
            category="SERVICE",
            template="points_expiring",
            parameters={"points": 50, "expiresOn": "2026-12-01"},
            not_before=AT,
            at=AT,
        ),
    ]


def validator(event: Event) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{event.type.value}.v{event.version}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_every_type_has_a_schema_and_every_schema_a_type() -> None:
    files = {p.name for p in SCHEMAS.glob("*.json")}
    assert files == {f"{t.value}.v{events.VERSIONS[t]}.json" for t in EventType}


def test_each_builder_makes_a_payload_its_schema_accepts() -> None:
    made = one_of_each()
    assert {e.type for e in made} == set(EventType)
    for event in made:
        validator(event).validate(event.payload)


def test_a_schema_refuses_a_field_it_does_not_name_and_a_missing_one() -> None:
    event = events.points_adjusted(member_id=1, adjustment_id=6, points=5, at=AT)
    with pytest.raises(jsonschema.ValidationError):
        validator(event).validate({**event.payload, "email": "a@example.com"})
    with pytest.raises(jsonschema.ValidationError):
        validator(event).validate({"adjustmentId": 6})


def test_ids_are_unique_version_7_uuids_in_time_order() -> None:
    ids = [events.ordered_id(AT + timedelta(milliseconds=i)) for i in range(50)]
    assert len(set(ids)) == 50
    assert ids == sorted(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}


@pytest.mark.parametrize(
    ("before", "after", "told"),
    [
        (0, 79, []),
        (0, 80, [EventType.BUDGET_WARNING]),
        (79, 99, [EventType.BUDGET_WARNING]),
        (80, 99, []),
        (80, 100, [EventType.BUDGET_EXHAUSTED]),
        (50, 120, [EventType.BUDGET_WARNING, EventType.BUDGET_EXHAUSTED]),
        (100, 110, []),
    ],
)
def test_a_budget_threshold_is_told_when_an_award_crosses_it(
    before: int, after: int, told: list[EventType]
) -> None:
    made = events.budget_events(offer_id=1, budget=100, before=before, after=after, unit="POINTS", at=AT)
    assert [e.type for e in made] == told
    assert all(e.payload["used"] == after and e.member_id is None for e in made)


def test_no_budget_no_threshold() -> None:
    assert events.budget_events(offer_id=1, budget=None, before=0, after=10, unit="POINTS", at=AT) == []


async def test_a_purchase_emits_its_events_and_a_replay_none() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    clock = FixedClock(AT)

    bought = await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")
    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")

    [posted] = db.tables.outbox
    assert (posted.type, posted.member_id) == (EventType.PURCHASE_POSTED, member.id)
    assert posted.payload["purchaseId"] == bought.purchase_id
    assert (posted.payload["points"], posted.payload["amountMinor"]) == (100, 10_000)


async def test_dormancy_then_a_purchase_tell_the_member_dormant_then_woken() -> None:
    db = FakeDatabase()
    member = await given_member(db)
    merchant = await given_merchant(db)
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    await run_dormancy(lambda: FakeUnitOfWork(db), clock)

    await buy(db, clock, merchant.id, member.id, 10_000, "pos-1")

    told = [(e.type, e.member_id) for e in db.tables.outbox]
    assert told == [
        (EventType.MEMBER_DORMANT, member.id),
        (EventType.PURCHASE_POSTED, member.id),
        (EventType.MEMBER_WOKEN, member.id),
    ]


async def test_events_added_in_a_unit_of_work_that_does_not_commit_are_gone() -> None:
    db = FakeDatabase()
    async with (uow := FakeUnitOfWork(db)):
        await uow.outbox.add(events.points_adjusted(member_id=1, adjustment_id=1, points=5, at=AT))
    assert db.tables.outbox == []


def test_the_readme_catalogue_is_the_one_the_schemas_make() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    copied = readme.split("<!-- catalogue -->\n")[1].split("<!-- /catalogue -->")[0]
    assert copied == table(), "run `python -m scripts.event_catalogue` and paste it into the README"
