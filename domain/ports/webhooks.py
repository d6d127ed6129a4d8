"""Webhook subscriptions and their deliveries, as admins manage them (the worker's own side is
persistence/delivery.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.webhooks import Delivery, DeliveryStatus, OwnerKind, Subscription, SubscriptionStatus


class WebhookRepository(Protocol):
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
    ) -> Subscription: ...
    async def subscription(self, subscription_id: int) -> Subscription | None: ...
    async def subscriptions(self) -> list[Subscription]: ...
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
        """Fields given as None stay as they are; None when there is no such subscription."""
        ...

    async def rotate_secret(
        self, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
    ) -> Subscription | None:
        """The new secret signs from now on, the old one too until `old_valid_until`."""
        ...

    async def redeliver(self, event_id: str, subscription_id: int, at: datetime) -> Delivery | None:
        """The event sent to the subscription again, now, with a fresh count of attempts (a delivery
        made when the subscription never had it); None when there is no such event."""
        ...

    async def deliveries(
        self,
        status: DeliveryStatus | None,
        subscription_id: int | None,
        before_id: int | None,
        limit: int,
    ) -> list[Delivery]:
        """Newest first."""
        ...
