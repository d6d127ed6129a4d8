"""Webhook subscriptions and their deliveries, for admins (README, "Events and webhooks")."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from api.types.enums import describe_values
from api.types.ids import encode_id
from domain import webhooks as dw

strawberry.enum(
    dw.OwnerKind,
    name="WebhookOwnerKind",
    description="Whom a subscription's events are for: a partner brand, a merchant, or an app.",
)
describe_values(
    dw.OwnerKind,
    {
        dw.OwnerKind.PARTNER: "A partner brand (ownerId names it).",
        dw.OwnerKind.MERCHANT: "A merchant (ownerId names it).",
        dw.OwnerKind.APP: "An app of the programme's own (no ownerId).",
    },
)
WebhookOwnerKind = dw.OwnerKind
strawberry.enum(
    dw.SubscriptionStatus,
    name="WebhookSubscriptionStatus",
    description="ACTIVE subscriptions get events; DISABLED ones none (their pending deliveries wait).",
)
describe_values(
    dw.SubscriptionStatus,
    {
        dw.SubscriptionStatus.ACTIVE: "Events are delivered.",
        dw.SubscriptionStatus.DISABLED: "Nothing is delivered until it is ACTIVE again.",
    },
)
WebhookSubscriptionStatus = dw.SubscriptionStatus
strawberry.enum(
    dw.Transport,
    name="WebhookTransport",
    description="How a subscription's events travel: a signed HTTP POST, or NATS JetStream.",
)
describe_values(
    dw.Transport,
    {
        dw.Transport.WEBHOOK: "A signed HTTP POST to the subscription's URL (Standard Webhooks).",
        dw.Transport.NATS: "NATS JetStream, subject loyalty.events.<type> (the worker's, with NATS_URL).",
    },
)
WebhookTransport = dw.Transport
strawberry.enum(
    dw.DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING (due at its next attempt), DELIVERED, or DEAD (every attempt failed).",
)
describe_values(
    dw.DeliveryStatus,
    {
        dw.DeliveryStatus.PENDING: "Due at nextAttemptAt, or being sent.",
        dw.DeliveryStatus.DELIVERED: "The receiver answered 2xx.",
        dw.DeliveryStatus.DEAD: "Every attempt failed; redeliverWebhookEvent sends it again.",
    },
)
WebhookDeliveryStatus = dw.DeliveryStatus


@strawberry.type(description="Where events go, and which (ADMIN). The secret is shown only when made.")
class WebhookSubscription:
    id: relay.GlobalID = strawberry.field(description="The subscription's id.")
    transport: WebhookTransport = strawberry.field(description="How its events travel.")
    url: str = strawberry.field(description="Where they are POSTed (for NATS, the subject prefix).")
    event_types: list[str] = strawberry.field(
        description="The event types it gets (see the README's catalogue); empty: every type."
    )
    owner_kind: WebhookOwnerKind = strawberry.field(description="Whom the events are for.")
    owner_id: relay.GlobalID | None = strawberry.field(
        description="The partner brand or merchant; null for an app."
    )
    description: str | None = strawberry.field(description="What it is for, in a few words.")
    status: WebhookSubscriptionStatus = strawberry.field(description="Whether events are delivered.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @classmethod
    def from_domain(cls, s: dw.Subscription) -> WebhookSubscription:
        owner = None
        if s.owner_id is not None:
            owner = encode_id(
                "PartnerBrand" if s.owner_kind is dw.OwnerKind.PARTNER else "Merchant", s.owner_id
            )
        return cls(
            id=encode_id("WebhookSubscription", s.id),
            transport=s.transport,
            url=s.url,
            event_types=list(s.event_types),
            owner_kind=s.owner_kind,
            owner_id=owner,
            description=s.description,
            status=s.status,
            created_at=s.created_at,
        )


@strawberry.type(description="One event for one subscription, and how its delivery goes (ADMIN).")
class WebhookDelivery:
    id: relay.GlobalID = strawberry.field(description="The delivery's id.")
    event_id: str = strawberry.field(description="The event's id: the receiver's de-duplication key.")
    event_type: str = strawberry.field(description="The event's type.")
    member_id: relay.GlobalID | None = strawberry.field(description="The member it is about, if any.")
    subscription_id: relay.GlobalID = strawberry.field(description="The subscription it goes to.")
    status: WebhookDeliveryStatus = strawberry.field(description="Pending, delivered or dead.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime = strawberry.field(description="When a PENDING delivery is next tried.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed (null: it did not).")
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last failed attempt, when the receiver answered."
    )
    created_at: datetime = strawberry.field(description="When the event was fanned out to it.")
    delivered_at: datetime | None = strawberry.field(description="When the receiver accepted it.")

    @classmethod
    def from_domain(cls, d: dw.Delivery) -> WebhookDelivery:
        return cls(
            id=encode_id("WebhookDelivery", d.id),
            event_id=d.event_id,
            event_type=d.type,
            member_id=None if d.member_id is None else encode_id("Member", d.member_id),
            subscription_id=encode_id("WebhookSubscription", d.subscription_id),
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
            last_status_code=d.last_status_code,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )
