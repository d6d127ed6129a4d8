"""Admins manage webhook subscriptions (for a partner, a merchant or an app, filtered by event type),
rotate their secrets and redeliver events. Each change is audited; a secret is shown once, in the
answer that made it, and never written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from domain import validation
from domain.actors import Actor, Role
from domain.audit import AuditEvent
from domain.clock import Clock
from domain.errors import NotFound, Validation
from domain.events import EventType
from domain.ports import UnitOfWork
from domain.services.common import require_role
from domain.webhooks import Delivery, OwnerKind, Subscription, SubscriptionStatus, Transport, new_secret

MAX_URL = 2_000
MAX_KEEP_OLD_HOURS = 24 * 7


@dataclass(frozen=True, slots=True)
class SubscriptionWithSecret:
    subscription: Subscription
    secret: str  # shown once


def clean_url(url: str) -> str:
    url = validation.text(url, ("url",), max_length=MAX_URL)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Validation("an http(s) URL with a host", ("url",))
    if parts.username or parts.password:
        raise Validation("no credentials in the URL: receivers verify the signature", ("url",))
    return url


def clean_types(event_types: list[str]) -> list[str]:
    known = {t.value for t in EventType}
    unknown = sorted(set(event_types) - known)
    if unknown:
        raise Validation(f"no such event type: {', '.join(unknown)}", ("eventTypes",))
    return sorted(set(event_types))


async def _owner(uow: UnitOfWork, kind: OwnerKind, owner_id: int | None) -> None:
    if kind is OwnerKind.APP:
        if owner_id is not None:
            raise Validation("an app subscription names no owner id", ("ownerId",))
        return
    if owner_id is None:
        raise Validation(f"name the {kind.value.lower()}", ("ownerId",))
    found = await (uow.partners.get(owner_id) if kind is OwnerKind.PARTNER else uow.merchants.get(owner_id))
    if found is None:
        raise NotFound(f"no such {kind.value.lower()}", ("ownerId",))


def _audit(actor: Actor, action: str, sub: Subscription, at: datetime) -> AuditEvent:
    after: dict[str, object] = {
        "url": sub.url,
        "eventTypes": list(sub.event_types),
        "ownerKind": sub.owner_kind.value,
        "ownerId": sub.owner_id,
        "status": sub.status.value,
    }
    return AuditEvent(actor.subject, action, "WebhookSubscription", sub.id, None, after, actor.request_id, at)


async def create_webhook_subscription(
    *,
    url: str,
    event_types: list[str],
    owner_kind: OwnerKind,
    owner_id: int | None,
    description: str | None,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
) -> SubscriptionWithSecret:
    require_role(actor, Role.ADMIN)
    url = clean_url(url)
    types = clean_types(event_types)
    description = validation.optional_text(description, ("description",), max_length=200)
    now = clock.now()
    secret = new_secret()
    async with uow:
        await _owner(uow, owner_kind, owner_id)
        sub = await uow.webhooks.add_subscription(
            url=url,
            event_types=types,
            owner_kind=owner_kind,
            owner_id=owner_id,
            description=description,
            secret=secret,
            at=now,
        )
        await uow.audit.record(_audit(actor, "createWebhookSubscription", sub, now))
        await uow.commit()
    return SubscriptionWithSecret(sub, secret)


async def _webhook(uow: UnitOfWork, subscription_id: int) -> Subscription:
    sub = await uow.webhooks.subscription(subscription_id)
    if sub is None or sub.transport is not Transport.WEBHOOK:
        raise NotFound("no such webhook subscription", ("subscriptionId",))
    return sub


async def update_webhook_subscription(
    subscription_id: int,
    *,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    status: SubscriptionStatus | None,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
) -> Subscription:
    """Omitted fields stay; DISABLED stops deliveries (those pending wait), ACTIVE resumes them."""
    require_role(actor, Role.ADMIN)
    url = None if url is None else clean_url(url)
    types = None if event_types is None else clean_types(event_types)
    description = validation.optional_text(description, ("description",), max_length=200)
    now = clock.now()
    async with uow:
        await _webhook(uow, subscription_id)
        sub = await uow.webhooks.update_subscription(
            subscription_id, url=url, event_types=types, description=description, status=status, at=now
        )
        assert sub is not None
        await uow.audit.record(_audit(actor, "updateWebhookSubscription", sub, now))
        await uow.commit()
    return sub


async def rotate_webhook_secret(
    subscription_id: int, *, keep_old_hours: int, actor: Actor, uow: UnitOfWork, clock: Clock
) -> SubscriptionWithSecret:
    """A new secret signs from now on; the old one signs too for `keep_old_hours` (0 to a week), so
    receivers can move to the new one without refusing a request."""
    require_role(actor, Role.ADMIN)
    if not 0 <= keep_old_hours <= MAX_KEEP_OLD_HOURS:
        raise Validation(f"0 to {MAX_KEEP_OLD_HOURS} hours", ("keepOldSecretHours",))
    now = clock.now()
    secret = new_secret()
    async with uow:
        await _webhook(uow, subscription_id)
        sub = await uow.webhooks.rotate_secret(
            subscription_id, secret, now + timedelta(hours=keep_old_hours), now
        )
        assert sub is not None
        await uow.audit.record(_audit(actor, "rotateWebhookSecret", sub, now))
        await uow.commit()
    return SubscriptionWithSecret(sub, secret)


async def redeliver_webhook_event(
    event_id: str, subscription_id: int, *, actor: Actor, uow: UnitOfWork, clock: Clock
) -> Delivery:
    """The event goes to the subscription again, with a fresh count of attempts (a dead delivery
    comes back to life; an event from before the subscription existed is sent too)."""
    require_role(actor, Role.ADMIN)
    event_id = validation.text(event_id, ("eventId",), max_length=36)
    now = clock.now()
    async with uow:
        sub = await uow.webhooks.subscription(subscription_id)
        if sub is None:
            raise NotFound("no such subscription", ("subscriptionId",))
        delivery = await uow.webhooks.redeliver(event_id, subscription_id, now)
        if delivery is None:
            raise NotFound("no such event", ("eventId",))
        await uow.audit.record(
            AuditEvent(
                actor.subject,
                "redeliverWebhookEvent",
                "WebhookSubscription",
                subscription_id,
                None,
                {"eventId": event_id, "deliveryId": delivery.id},
                actor.request_id,
                now,
            )
        )
        await uow.commit()
    return delivery
