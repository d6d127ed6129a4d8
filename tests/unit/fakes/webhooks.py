"""Webhook subscriptions and deliveries, as the SQL repository keeps them for admins."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.webhooks import (
    Delivery,
    DeliveryStatus,
    OwnerKind,
    Subscription,
    SubscriptionStatus,
    Transport,
)
from tests.unit.fakes.database import Repository


class FakeWebhookRepository(Repository):
    async def add_subscription(
        self,
        *,
        url: str,
        event_types: list[str],
        owner_kind: OwnerKind,
        owner_id: int | None,
        description: str | None,
        secret: str,
        at: datetime,
    ) -> Subscription:
        sub = Subscription(
            self.db.next_id(),
            Transport.WEBHOOK,
            url,
            tuple(event_types),
            owner_kind,
            owner_id,
            description,
            SubscriptionStatus.ACTIVE,
            at,
        )
        self.t.webhook_subscriptions[sub.id] = sub
        self.t.webhook_secrets[sub.id] = (secret,)
        return sub

    async def subscription(self, subscription_id: int) -> Subscription | None:
        return self.t.webhook_subscriptions.get(subscription_id)

    async def subscriptions(self) -> list[Subscription]:
        return [self.t.webhook_subscriptions[i] for i in sorted(self.t.webhook_subscriptions)]

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
        sub = self.t.webhook_subscriptions.get(subscription_id)
        if sub is None:
            return None
        sub = replace(
            sub,
            url=sub.url if url is None else url,
            event_types=sub.event_types if event_types is None else tuple(event_types),
            description=sub.description if description is None else description,
            status=sub.status if status is None else status,
        )
        self.t.webhook_subscriptions[subscription_id] = sub
        return sub

    async def rotate_secret(
        self, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
    ) -> Subscription | None:
        sub = self.t.webhook_subscriptions.get(subscription_id)
        if sub is None:
            return None
        self.t.webhook_secrets[subscription_id] = (new_secret, self.t.webhook_secrets[subscription_id][0])
        return sub

    async def redeliver(self, event_id: str, subscription_id: int, at: datetime) -> Delivery | None:
        event = next((e for e in self.t.outbox if e.id == event_id), None)
        if event is None:
            return None
        found = next(
            (
                d
                for d in self.t.webhook_deliveries.values()
                if d.event_id == event_id and d.subscription_id == subscription_id
            ),
            None,
        )
        if found is None:
            found = Delivery(
                self.db.next_id(),
                event_id,
                event.type.value,
                event.member_id,
                subscription_id,
                DeliveryStatus.PENDING,
                0,
                at,
                None,
                None,
                at,
                None,
            )
        again = replace(
            found, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=at, delivered_at=None
        )
        self.t.webhook_deliveries[again.id] = again
        return again

    async def deliveries(
        self,
        status: DeliveryStatus | None,
        subscription_id: int | None,
        before_id: int | None,
        limit: int,
    ) -> list[Delivery]:
        found = [
            d
            for d in sorted(self.t.webhook_deliveries.values(), key=lambda d: -d.id)
            if (status is None or d.status is status)
            and (subscription_id is None or d.subscription_id == subscription_id)
            and (before_id is None or d.id < before_id)
        ]
        return found[:limit]
