"""Webhook subscriptions for admins: create, update, disable, rotate the secret, redeliver an event,
and read subscriptions and deliveries (README, "Events and webhooks")."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError, bad_input
from api.mutations.payload import retrying, run_use_case
from api.permissions import ADMIN
from api.types.ids import decode_id, try_decode_id
from api.types.pagination import After, First, connection
from api.types.webhooks import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookOwnerKind,
    WebhookSubscription,
    WebhookSubscriptionStatus,
)
from domain.services import webhooks as service
from domain.webhooks import Delivery, Subscription, SubscriptionStatus


def _owner_id(kind: WebhookOwnerKind, owner_id: relay.GlobalID | None) -> int | None:
    if owner_id is None:
        return None
    type_name = {WebhookOwnerKind.PARTNER: "PartnerBrand", WebhookOwnerKind.MERCHANT: "Merchant"}.get(kind)
    if type_name is None:
        return -1  # an app names no owner: the use case refuses any id
    return decode_id(owner_id, type_name, "ownerId")


@strawberry.input(description="A new webhook subscription (ADMIN).")
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(description="Where events are POSTed: http(s), no credentials in it.")
    event_types: list[str] = strawberry.field(
        description="The event types to get, from the README's catalogue; empty: every type."
    )
    owner_kind: WebhookOwnerKind = strawberry.field(description="Whom the events are for.")
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The partner brand or merchant; omitted for an app."
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.type(description="The subscription made and its signing secret (shown this once), or why not.")
class CreateWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None = strawberry.field(description="Null when errors is not empty.")
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): give it to the receiver; it is not shown again."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A subscription's new settings; omitted ones stay (ADMIN).")
class UpdateWebhookSubscriptionInput:
    subscription_id: relay.GlobalID = strawberry.field(description="The webhook subscription.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="The new list of types; empty: every type."
    )
    description: str | None = strawberry.field(default=None, description="A new description.")
    status: WebhookSubscriptionStatus | None = strawberry.field(
        default=None, description="ACTIVE or DISABLED."
    )


@strawberry.type(description="The subscription as it now stands, or why nothing changed.")
class UpdateWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Stop delivering to a subscription (ADMIN); its pending deliveries wait.")
class DisableWebhookSubscriptionInput:
    subscription_id: relay.GlobalID = strawberry.field(description="The webhook subscription.")


@strawberry.type(description="The subscription, now DISABLED, or why nothing changed.")
class DisableWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="A new signing secret for a subscription (ADMIN).")
class RotateWebhookSecretInput:
    subscription_id: relay.GlobalID = strawberry.field(description="The webhook subscription.")
    keep_old_secret_hours: int = strawberry.field(
        default=24, description="How long the old secret also signs (0 to 168), for the receiver to move."
    )


@strawberry.type(description="The new secret (shown this once), or why nothing changed.")
class RotateWebhookSecretPayload:
    subscription: WebhookSubscription | None = strawberry.field(description="Null when errors is not empty.")
    secret: str | None = strawberry.field(description="The new signing secret; not shown again.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Send an event to a subscription again (ADMIN).")
class RedeliverWebhookEventInput:
    event_id: str = strawberry.field(description="The event's id (webhook-id).")
    subscription_id: relay.GlobalID = strawberry.field(description="The subscription to send it to.")


@strawberry.type(description="The delivery, due now with a fresh count of attempts, or why not.")
class RedeliverWebhookEventPayload:
    delivery: WebhookDelivery | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.input(description="Narrows the deliveries; omitted fields do not filter.")
class WebhookDeliveryFilter:
    status: WebhookDeliveryStatus | None = strawberry.field(default=None, description="Only this status.")
    subscription_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this subscription's."
    )


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        permission_classes=ADMIN, description="Every webhook and NATS subscription, by id (ADMIN)."
    )
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscription]:
        async def read() -> list[Subscription]:
            async with info.context.read_uow_factory() as uow:
                return await uow.webhooks.subscriptions()

        return [WebhookSubscription.from_domain(s) for s in await retrying(info, read)]

    @strawberry.field(
        permission_classes=ADMIN, description="Deliveries with their status, newest first (ADMIN)."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            WebhookDeliveryFilter | None,
            strawberry.argument(description="Narrows the list; omitted: every delivery."),
        ] = None,
    ) -> relay.Connection[WebhookDelivery]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        status = None if filter is None else filter.status
        sub = None
        if filter is not None and filter.subscription_id is not None:
            sub = try_decode_id(filter.subscription_id, "WebhookSubscription")
            if sub is None:
                raise bad_input("`subscriptionId` is not a webhook subscription's id")

        async def fetch(before: int | None, limit: int) -> list[Delivery]:
            async def read() -> list[Delivery]:
                async with info.context.read_uow_factory() as uow:
                    return await uow.webhooks.deliveries(status, sub, before, limit)

            return await retrying(info, read)

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda d: d.id, node=WebhookDelivery.from_domain
        )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Subscribe a URL to events, for a partner, a merchant or an app; audited (ADMIN).",
    )
    async def create_webhook_subscription(
        self,
        info: Info,
        input: Annotated[
            CreateWebhookSubscriptionInput, strawberry.argument(description="The URL, types and owner.")
        ],
    ) -> CreateWebhookSubscriptionPayload:
        made, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.create_webhook_subscription(
                url=input.url,
                event_types=input.event_types,
                owner_kind=input.owner_kind,
                owner_id=_owner_id(input.owner_kind, input.owner_id),
                description=input.description,
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return CreateWebhookSubscriptionPayload(
            subscription=None if made is None else WebhookSubscription.from_domain(made.subscription),
            secret=None if made is None else made.secret,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=ADMIN, description="Change a webhook subscription's settings; audited (ADMIN)."
    )
    async def update_webhook_subscription(
        self,
        info: Info,
        input: Annotated[
            UpdateWebhookSubscriptionInput, strawberry.argument(description="The subscription and changes.")
        ],
    ) -> UpdateWebhookSubscriptionPayload:
        sub, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.update_webhook_subscription(
                decode_id(input.subscription_id, "WebhookSubscription", "subscriptionId"),
                url=input.url,
                event_types=input.event_types,
                description=input.description,
                status=input.status,
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return UpdateWebhookSubscriptionPayload(
            subscription=None if sub is None else WebhookSubscription.from_domain(sub), errors=errors
        )

    @strawberry.mutation(
        permission_classes=ADMIN, description="Stop delivering to a webhook subscription; audited (ADMIN)."
    )
    async def disable_webhook_subscription(
        self,
        info: Info,
        input: Annotated[
            DisableWebhookSubscriptionInput, strawberry.argument(description="The subscription.")
        ],
    ) -> DisableWebhookSubscriptionPayload:
        sub, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.update_webhook_subscription(
                decode_id(input.subscription_id, "WebhookSubscription", "subscriptionId"),
                url=None,
                event_types=None,
                description=None,
                status=SubscriptionStatus.DISABLED,
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return DisableWebhookSubscriptionPayload(
            subscription=None if sub is None else WebhookSubscription.from_domain(sub), errors=errors
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="A new signing secret; the old one also signs for a while; audited (ADMIN).",
    )
    async def rotate_webhook_secret(
        self,
        info: Info,
        input: Annotated[RotateWebhookSecretInput, strawberry.argument(description="The subscription.")],
    ) -> RotateWebhookSecretPayload:
        made, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.rotate_webhook_secret(
                decode_id(input.subscription_id, "WebhookSubscription", "subscriptionId"),
                keep_old_hours=input.keep_old_secret_hours,
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return RotateWebhookSecretPayload(
            subscription=None if made is None else WebhookSubscription.from_domain(made.subscription),
            secret=None if made is None else made.secret,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Send an event to a subscription again, e.g. a dead delivery; audited (ADMIN).",
    )
    async def redeliver_webhook_event(
        self,
        info: Info,
        input: Annotated[RedeliverWebhookEventInput, strawberry.argument(description="The event and where.")],
    ) -> RedeliverWebhookEventPayload:
        delivery, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.redeliver_webhook_event(
                input.event_id,
                decode_id(input.subscription_id, "WebhookSubscription", "subscriptionId"),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return RedeliverWebhookEventPayload(
            delivery=None if delivery is None else WebhookDelivery.from_domain(delivery), errors=errors
        )
