"""Webhook subscription use cases over the fakes, value by value: each refusal's message and field,
the limits at their edges, what is stored and committed, and each audit record in full."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain import events
from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import FixedClock
from domain.errors import DomainError, ErrorCode
from domain.merchants import PartnerKind
from domain.services.webhooks import (
    SubscriptionWithSecret,
    clean_types,
    clean_url,
    create_webhook_subscription,
    redeliver_webhook_event,
    rotate_webhook_secret,
    update_webhook_subscription,
)
from domain.webhooks import Delivery, OwnerKind, Subscription, SubscriptionStatus, Transport
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork
from tests.unit.fakes.webhooks import FakeWebhookRepository
from tests.unit.test_services import ADMIN, given_merchant, raised

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)
MEMBER = Actor(Role.MEMBER, "member-1", member_id=1)


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


async def given_partner(db: FakeDatabase) -> int:
    async with (uow := FakeUnitOfWork(db)):
        partner = await uow.partners.add(name="Air", kind=PartnerKind.AIRLINE, at=NOW)
        await uow.commit()
    return partner.id


def audited(action: str, sub: Subscription) -> AuditEvent:
    after: dict[str, object] = {
        "url": sub.url,
        "eventTypes": list(sub.event_types),
        "ownerKind": sub.owner_kind.value,
        "ownerId": sub.owner_id,
        "status": sub.status.value,
    }
    return AuditEvent("admin-ada", action, "WebhookSubscription", sub.id, None, after, "req-1", NOW)


def refusal(error: DomainError) -> tuple[str, str, tuple[str, ...] | None]:
    return error.code.value, error.message, error.field


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example", "an http(s) URL with a host"),
        ("https://", "an http(s) URL with a host"),
        ("hooks.example/in", "an http(s) URL with a host"),
        ("https://user@hooks.example", "no credentials in the URL: receivers verify the signature"),
        ("https://:pw@hooks.example", "no credentials in the URL: receivers verify the signature"),
        ("https://" + "a" * 1_990 + ".example", "must be at most 2000 characters"),
        ("   ", "must not be blank"),
    ],
)
def test_a_bad_url_is_refused_with_why(url: str, message: str) -> None:
    with pytest.raises(DomainError) as info:
        clean_url(url)
    assert refusal(info.value) == ("VALIDATION", message, ("url",))


def test_an_http_or_https_url_up_to_2000_characters_is_kept_trimmed() -> None:
    longest = "https://" + "a" * 1_984 + ".example"
    assert len(longest) == 2_000
    assert clean_url(longest) == longest
    assert clean_url(" http://hooks.example/in ") == "http://hooks.example/in"
    assert clean_url("https://hooks.example:8443/in?x=1") == "https://hooks.example:8443/in?x=1"


def test_event_types_are_sorted_once_each_and_unknown_ones_named() -> None:
    assert clean_types(["tier.changed", "points.adjusted", "tier.changed"]) == [
        "points.adjusted",
        "tier.changed",
    ]
    assert clean_types([]) == []
    with pytest.raises(DomainError) as info:
        clean_types(["points.stolen", "tier.changed", "a.b", "a.b"])
    assert refusal(info.value) == ("VALIDATION", "no such event type: a.b, points.stolen", ("eventTypes",))


async def test_a_subscription_is_stored_as_given_committed_and_audited_without_its_secret() -> None:
    db = FakeDatabase()
    made = await subscribe(
        db,
        url=" https://hooks.example/in ",
        event_types=["tier.changed", "points.adjusted"],
        description="  CRM sync ",
    )
    sub = made.subscription
    assert sub == Subscription(
        sub.id,
        Transport.WEBHOOK,
        "https://hooks.example/in",
        ("points.adjusted", "tier.changed"),
        OwnerKind.APP,
        None,
        "CRM sync",
        SubscriptionStatus.ACTIVE,
        NOW,
    )
    assert db.tables.webhook_subscriptions == {sub.id: sub}
    assert db.tables.webhook_secrets == {sub.id: (made.secret,)}
    assert db.tables.audit == [audited("createWebhookSubscription", sub)]


@pytest.mark.parametrize(
    ("description", "stored"),
    [(None, None), ("   ", None), ("d" * 200, "d" * 200)],
)
async def test_a_description_is_optional_up_to_200_characters(
    description: str | None, stored: str | None
) -> None:
    db = FakeDatabase()
    made = await subscribe(db, description=description)
    assert made.subscription.description == stored


async def test_a_description_over_200_characters_is_refused() -> None:
    db = FakeDatabase()
    error = await raised(subscribe(db, description="d" * 201))
    assert refusal(error) == ("VALIDATION", "must be at most 200 characters", ("description",))
    assert db.tables.webhook_subscriptions == {}


async def test_a_partner_or_a_merchant_subscription_names_one_that_exists() -> None:
    db = FakeDatabase()
    partner_id = await given_partner(db)
    merchant = await given_merchant(db)
    for_partner = await subscribe(db, owner_kind=OwnerKind.PARTNER, owner_id=partner_id)
    for_merchant = await subscribe(db, owner_kind=OwnerKind.MERCHANT, owner_id=merchant.id)
    assert (for_partner.subscription.owner_kind, for_partner.subscription.owner_id) == (
        OwnerKind.PARTNER,
        partner_id,
    )
    assert (for_merchant.subscription.owner_kind, for_merchant.subscription.owner_id) == (
        OwnerKind.MERCHANT,
        merchant.id,
    )
    # Each kind looks in its own table: a merchant's id is no partner, nor the reverse.
    no_partner = await raised(subscribe(db, owner_kind=OwnerKind.PARTNER, owner_id=merchant.id))
    no_merchant = await raised(subscribe(db, owner_kind=OwnerKind.MERCHANT, owner_id=partner_id))
    assert refusal(no_partner) == ("NOT_FOUND", "no such partner", ("ownerId",))
    assert refusal(no_merchant) == ("NOT_FOUND", "no such merchant", ("ownerId",))


@pytest.mark.parametrize(
    ("kind", "owner_id", "message"),
    [
        (OwnerKind.APP, 5, "an app subscription names no owner id"),
        (OwnerKind.PARTNER, None, "name the partner"),
        (OwnerKind.MERCHANT, None, "name the merchant"),
    ],
)
async def test_the_owner_id_goes_with_the_owner_kind(
    kind: OwnerKind, owner_id: int | None, message: str
) -> None:
    db = FakeDatabase()
    error = await raised(subscribe(db, owner_kind=kind, owner_id=owner_id))
    assert refusal(error) == ("VALIDATION", message, ("ownerId",))
    assert db.tables.webhook_subscriptions == {}


async def test_an_update_changes_what_it_names_and_is_audited() -> None:
    db = FakeDatabase()
    made = await subscribe(db, description="old")
    changed = await update_webhook_subscription(
        made.subscription.id,
        url=" https://other.example/in ",
        event_types=["tier.changed", "tier.changed"],
        description=" new ",
        status=SubscriptionStatus.DISABLED,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=CLOCK,
    )
    assert changed == replace(
        made.subscription,
        url="https://other.example/in",
        event_types=("tier.changed",),
        description="new",
        status=SubscriptionStatus.DISABLED,
    )
    assert db.tables.webhook_subscriptions[changed.id] == changed
    assert db.tables.audit[-1] == audited("updateWebhookSubscription", changed)
    kept = await update_webhook_subscription(
        changed.id,
        url=None,
        event_types=None,
        description=None,
        status=None,
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=CLOCK,
    )
    assert kept == changed


async def test_an_update_checks_its_url_and_types() -> None:
    db = FakeDatabase()
    made = await subscribe(db)

    async def update(**fields: object) -> DomainError:
        values: dict[str, object] = {"url": None, "event_types": None, "description": None, "status": None}
        return await raised(
            update_webhook_subscription(
                made.subscription.id,
                **{**values, **fields},  # type: ignore[arg-type]
                actor=ADMIN,
                uow=FakeUnitOfWork(db),
                clock=CLOCK,
            )
        )

    assert refusal(await update(url="ftp://x.example")) == (
        "VALIDATION",
        "an http(s) URL with a host",
        ("url",),
    )
    assert refusal(await update(event_types=["nope"])) == (
        "VALIDATION",
        "no such event type: nope",
        ("eventTypes",),
    )
    assert refusal(await update(description="d" * 201)) == (
        "VALIDATION",
        "must be at most 200 characters",
        ("description",),
    )
    assert db.tables.webhook_subscriptions == {made.subscription.id: made.subscription}


async def nats_subscription(db: FakeDatabase) -> int:
    made = await subscribe(db)
    nats = replace(made.subscription, transport=Transport.NATS)
    db.tables.webhook_subscriptions[nats.id] = nats
    return nats.id


async def test_a_nats_subscription_or_none_is_no_webhook_to_update_or_rotate() -> None:
    db = FakeDatabase()
    nats = await nats_subscription(db)
    for subscription_id in (nats, 999):
        updated = await raised(
            update_webhook_subscription(
                subscription_id,
                url=None,
                event_types=None,
                description=None,
                status=None,
                actor=ADMIN,
                uow=FakeUnitOfWork(db),
                clock=CLOCK,
            )
        )
        rotated = await raised(
            rotate_webhook_secret(
                subscription_id, keep_old_hours=1, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
            )
        )
        assert (
            refusal(updated)
            == refusal(rotated)
            == (
                "NOT_FOUND",
                "no such webhook subscription",
                ("subscriptionId",),
            )
        )


class RotationSpy(FakeWebhookRepository):
    """Keeps until when the old secret is to sign (the fake itself does not)."""

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.until: list[datetime] = []

    async def rotate_secret(
        self, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
    ) -> Subscription | None:
        self.until.append(old_valid_until)
        assert at == NOW
        return await super().rotate_secret(subscription_id, new_secret, old_valid_until, at)


@pytest.mark.parametrize("hours", [0, 1, 168])
async def test_the_old_secret_signs_for_0_to_168_hours_more(hours: int) -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    uow = FakeUnitOfWork(db)
    uow.webhooks = spy = RotationSpy(db)
    rotated = await rotate_webhook_secret(
        made.subscription.id, keep_old_hours=hours, actor=ADMIN, uow=uow, clock=CLOCK
    )
    assert spy.until == [NOW + timedelta(hours=hours)]
    assert rotated.secret.startswith("whsec_")
    assert rotated.subscription == made.subscription
    assert db.tables.webhook_secrets[made.subscription.id] == (rotated.secret, made.secret)
    assert db.tables.audit[-1] == audited("rotateWebhookSecret", made.subscription)


@pytest.mark.parametrize("hours", [-1, 169])
async def test_keeping_the_old_secret_less_than_0_or_more_than_168_hours_is_refused(hours: int) -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    error = await raised(
        rotate_webhook_secret(
            made.subscription.id, keep_old_hours=hours, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
        )
    )
    assert refusal(error) == ("VALIDATION", "0 to 168 hours", ("keepOldSecretHours",))
    assert db.tables.webhook_secrets[made.subscription.id] == (made.secret,)


async def test_a_redelivery_is_committed_and_audited_with_the_event_and_the_delivery() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    event = events.points_adjusted(member_id=1, adjustment_id=2, points=3, at=NOW)
    db.tables.outbox.append(event)

    again = await redeliver_webhook_event(
        f" {event.id} ", made.subscription.id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
    )

    assert len(event.id) == 36
    assert again.event_id == event.id
    assert db.tables.webhook_deliveries == {again.id: again}
    assert db.tables.audit[-1] == AuditEvent(
        "admin-ada",
        "redeliverWebhookEvent",
        "WebhookSubscription",
        made.subscription.id,
        None,
        {"eventId": event.id, "deliveryId": again.id},
        "req-1",
        NOW,
    )


async def test_a_redelivery_names_a_subscription_and_an_event_that_exist() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    event = events.points_adjusted(member_id=1, adjustment_id=2, points=3, at=NOW)
    db.tables.outbox.append(event)

    def redeliver(event_id: str, subscription_id: int) -> Coroutine[object, object, Delivery]:
        return redeliver_webhook_event(
            event_id, subscription_id, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK
        )

    no_sub = await raised(redeliver(event.id, 999))
    no_event = await raised(redeliver("e" * 36, made.subscription.id))
    too_long = await raised(redeliver("e" * 37, made.subscription.id))
    blank = await raised(redeliver(" ", made.subscription.id))
    assert refusal(no_sub) == ("NOT_FOUND", "no such subscription", ("subscriptionId",))
    assert refusal(no_event) == ("NOT_FOUND", "no such event", ("eventId",))
    assert refusal(too_long) == ("VALIDATION", "must be at most 36 characters", ("eventId",))
    assert refusal(blank) == ("VALIDATION", "must not be blank", ("eventId",))
    assert db.tables.webhook_deliveries == {}


async def test_a_nats_subscription_can_have_an_event_redelivered() -> None:
    db = FakeDatabase()
    nats = await nats_subscription(db)
    event = events.points_adjusted(member_id=1, adjustment_id=2, points=3, at=NOW)
    db.tables.outbox.append(event)
    again = await redeliver_webhook_event(event.id, nats, actor=ADMIN, uow=FakeUnitOfWork(db), clock=CLOCK)
    assert again.subscription_id == nats


async def test_only_an_admin_updates_rotates_or_redelivers() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    sub_id = made.subscription.id
    updated = await raised(
        update_webhook_subscription(
            sub_id,
            url=None,
            event_types=None,
            description=None,
            status=SubscriptionStatus.DISABLED,
            actor=MEMBER,
            uow=FakeUnitOfWork(db),
            clock=CLOCK,
        )
    )
    rotated = await raised(
        rotate_webhook_secret(sub_id, keep_old_hours=1, actor=MEMBER, uow=FakeUnitOfWork(db), clock=CLOCK)
    )
    redelivered = await raised(
        redeliver_webhook_event("e", sub_id, actor=MEMBER, uow=FakeUnitOfWork(db), clock=CLOCK)
    )
    assert {updated.code, rotated.code, redelivered.code} == {ErrorCode.FORBIDDEN}
    assert db.tables.webhook_subscriptions == {sub_id: made.subscription}
    assert db.tables.webhook_secrets == {sub_id: (made.secret,)}


class UpdateSpy(FakeWebhookRepository):
    """Keeps the time each update is stamped with (the fake itself does not keep it)."""

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.stamped: list[datetime] = []

    async def update_subscription(
        self,
        subscription_id: int,
        *,
        url: str | None,
        event_types: list[str] | None,
        description: str | None,
        status: SubscriptionStatus | None,
        at: datetime,
    ) -> Subscription | None:
        self.stamped.append(at)
        return await super().update_subscription(
            subscription_id, url=url, event_types=event_types, description=description, status=status, at=at
        )


async def test_an_update_is_stamped_with_the_clocks_time() -> None:
    db = FakeDatabase()
    made = await subscribe(db)
    uow = FakeUnitOfWork(db)
    uow.webhooks = spy = UpdateSpy(db)
    await update_webhook_subscription(
        made.subscription.id,
        url=None,
        event_types=None,
        description=None,
        status=SubscriptionStatus.DISABLED,
        actor=ADMIN,
        uow=uow,
        clock=CLOCK,
    )
    assert spy.stamped == [NOW]
