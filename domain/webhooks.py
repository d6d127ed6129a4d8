"""Webhook subscriptions and delivery rules: signing as the Standard Webhooks specification says
(https://www.standardwebhooks.com/), retries with exponential backoff and full jitter, and what a
delivery's status may be. Pure: the worker (scripts/worker.py) and the store apply these."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SECRET_PREFIX = "whsec_"
MAX_ATTEMPTS = 8  # then DEAD; an admin may redeliver
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3_600.0
# A receiver refuses a timestamp further than this from its own clock (replays).
TOLERANCE_SECONDS = 300


class Transport(StrEnum):
    WEBHOOK = "WEBHOOK"  # an HTTPS POST, signed
    NATS = "NATS"  # NATS JetStream: subject loyalty.events.<type>, de-duplicated by the event id


class OwnerKind(StrEnum):
    PARTNER = "PARTNER"
    MERCHANT = "MERCHANT"
    APP = "APP"


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # due at its next attempt (or being sent, under a worker's lease)
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # every attempt failed


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    transport: Transport
    url: str
    event_types: tuple[str, ...]  # none: every type
    owner_kind: OwnerKind
    owner_id: int | None
    description: str | None
    status: SubscriptionStatus
    created_at: datetime

    def wants(self, event_type: str) -> bool:
        return self.status is SubscriptionStatus.ACTIVE and (
            not self.event_types or event_type in self.event_types
        )


def new_secret() -> str:
    """24 random bytes, base64, with the specification's prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret, space-separated: during a rotation the new and the old, so a receiver
    that still holds the old secret verifies as well as one that already has the new."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets_)


def headers(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def backoff_seconds(
    attempts: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rand: random.Random | None = None,
) -> float:
    """The wait before the next attempt after `attempts` failed ones: full jitter, uniform between
    zero and base·2^(attempts-1), capped, so that retries of many deliveries spread out."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return (rand or random).uniform(0, ceiling)


def after_failure(attempts: int, max_attempts: int = MAX_ATTEMPTS) -> DeliveryStatus:
    return DeliveryStatus.DEAD if attempts >= max_attempts else DeliveryStatus.PENDING


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one subscription, and how its delivery goes."""

    id: int
    event_id: str
    type: str
    member_id: int | None
    subscription_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
