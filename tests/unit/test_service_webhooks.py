"""Webhook subscriptions over the fakes: admins only; URLs, event types and owners checked before
anything is written; a secret made per subscription and per rotation; redelivery of a known event
only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import events
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.services.webhooks import (
    SubscriptionWithSecret,
    create_webhook_subscription,
    redeliver_webhook_event,
    rotate_webhook_secret,
    update_webhook_subscription,
)
from domain.webhooks import DeliveryStatus, OwnerKind, SubscriptionStatus
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.test_services import ADMIN, given_merchant, raised

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
MEMBER = Actor(Role.MEMBER, "member-1", member_id=1)
CLOCK = FixedClock(NOW)


async def subscribe(db: FakeDatabase, **fields: object) -> SubscriptionWithSecret:
    values: dict[str, object] = {
        "url": "https://hooks.example/in",
        "event_types": ["points.adjusted"],
        "owner_kind": OwnerKind.APP,
        "owner_id": None,
        "description": None,
        **fields,
    }
    return await create_webhook_subscription(
        **values,  # type: ignore[arg-type]
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=CLOCK,
    )


async def test_an_admin_subscribes_a_merchant_and_gets_its_secret_once() -> None:
    db = FakeDatabase()
    merchant = await given_merchant(db)

    made = await subscribe(db, owner_kind=OwnerKind.MERCHANT, owner_id=merchant.id, event_types=[])

    assert made.secret.startswith("whsec_")
    assert made.subscription.owner_id == merchant.id
    assert made.subscription.event_types == ()
    assert made.subscription.wants("purchase.posted")
    assert db.tables.webhook_secrets[made.subscription.id] == (made.secret,)
    [audited] = db.tables.audit
    assert audited.action == "createWebhookSubscription"
    assert made.secret not in str(audited)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://hooks.example"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://user:pw@hooks.example"}, "url"),
        ({"event_types": ["points.stolen"]}, "eventTypes"),
        ({"owner_kind": OwnerKind.PARTNER}, "ownerId"),
        ({"owner_kind": OwnerKind.MERCHANT, "owner_id": 999}, "ownerId"),
        ({"owner_id": 5}, "ownerId"),
    ],
)
async def test_bad_input_makes_nothing(fields: dict[str, object], field: str) -> None:
    db = FakeDatabase()
    error = await raised(subscribe(db, **fields))
    assert error.field == (field,)
    assert error.code in (ErrorCode.VALIDATION, ErrorCode.NOT_FOUND)
    assert db.tables.webhook_subscriptions == {}


async def test_only_an_admin_manages_webhooks() -> None:
    db = FakeDatabase()
    error = await raised(
        create_webhook_subscription(
            url="https://hooks.example",
            event_types=[],
            owner_kind=OwnerKind.APP,
            owner_id=None,
            description=None,
            actor=MEMBER,
            uow=FakeUnitOfWork(db),
            clock=CLOCK,
        )
    )
    assert error.code is ErrorCode.FORBIDDEN


async def test_a_rotation_makes_a_new_secret_and_keeps_the_old_one_signing() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    rotated = await rotate_webhook_secret(
        made.subscription.id, keep_old_hours=24, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
    )
    assert rotated.secret != made.secret
    assert db.tables.webhook_secrets[made.subscription.id] == (rotated.secret, made.secret)
    error = await raised(
        rotate_webhook_secret(
            made.subscription.id, keep_old_hours=24 * 8, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
        )
    )
    assert error.field == ("keepOldSecretHours",)


async def test_disabling_and_changing_types() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    changed = await update_webhook_subscription(
        made.subscription.id,
        url=None,
        event_types=["tier.changed", "points.adjusted"],
        description=None,
        status=SubscriptionStatus.DISABLED,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=CLOCK,
    )
    assert changed.event_types == ("points.adjusted", "tier.changed")
    assert not changed.wants("points.adjusted")  # disabled
    missing = await raised(
        update_webhook_subscription(
            12345,
            url=None,
            event_types=None,
            description=None,
            status=None,
            actor=ADMIN,
            uow=FakeUnitOfWork(db),
            clock=CLOCK,
        )
    )
    assert missing.code is ErrorCode.NOT_FOUND


async def test_redelivery_of_a_known_event_only() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    event = events.points_adjusted(member_id=1, adjustment_id=2, points=3, at=NOW)
    db.tables.outbox.append(event)

    again = await redeliver_webhook_event(
        event.id, made.subscription.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
    )

    assert (again.status, again.attempts, again.event_id, again.next_attempt_at) == (
        DeliveryStatus.PENDING,
        0,
        event.id,
        NOW,
    )
    unknown = await raised(
        redeliver_webhook_event(
            "nope", made.subscription.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
        )
    )
    assert unknown.field == ("eventId",)
