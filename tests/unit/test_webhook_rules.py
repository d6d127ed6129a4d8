"""The webhook rules' exact values: which events a subscription wants, the signature computed from the
specification's recipe by hand, the headers, the backoff's ceiling for each attempt (the random draw
replaced by one that shows its bounds), and the default number of attempts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain import webhooks
from domain.webhooks import (
    DeliveryStatus,
    OwnerKind,
    Subscription,
    SubscriptionStatus,
    Transport,
    after_failure,
    backoff_seconds,
)

KEY = bytes(range(24))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = b'{"points":5}'
SUB = Subscription(
    1,
    Transport.WEBHOOK,
    "https://hooks.example/in",
    ("points.adjusted", "tier.changed"),
    OwnerKind.APP,
    None,
    None,
    SubscriptionStatus.ACTIVE,
    datetime(2026, 1, 1, tzinfo=UTC),
)


def by_hand(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_an_active_subscription_wants_its_types_or_every_type_when_it_names_none() -> None:
    assert SUB.wants("points.adjusted")
    assert SUB.wants("tier.changed")
    assert not SUB.wants("purchase.posted")
    assert replace(SUB, event_types=()).wants("purchase.posted")


def test_a_disabled_subscription_wants_nothing() -> None:
    disabled = replace(SUB, status=SubscriptionStatus.DISABLED)
    assert not disabled.wants("points.adjusted")
    assert not replace(disabled, event_types=()).wants("points.adjusted")


def test_the_key_is_the_secret_without_its_prefix_decoded() -> None:
    assert webhooks._key(SECRET) == KEY


def test_a_new_secret_decodes_to_24_bytes_after_its_prefix() -> None:
    secret = webhooks.new_secret()
    assert secret[:6] == "whsec_"
    assert len(base64.b64decode(secret[6:], validate=True)) == 24


def test_the_signature_is_v1_and_the_hmac_of_id_timestamp_and_body() -> None:
    assert webhooks.signature(SECRET, "msg_1", 1_700_000_000, BODY) == by_hand(
        KEY, "msg_1", 1_700_000_000, BODY
    )


def test_the_headers_carry_the_id_the_timestamp_and_one_signature_per_secret() -> None:
    other = "whsec_" + base64.b64encode(bytes(24)).decode()
    sent = webhooks.headers([SECRET, other], "msg_2", 1_700_000_001, BODY)
    assert sent == {
        "webhook-id": "msg_2",
        "webhook-timestamp": "1700000001",
        "webhook-signature": by_hand(KEY, "msg_2", 1_700_000_001, BODY)
        + " "
        + by_hand(bytes(24), "msg_2", 1_700_000_001, BODY),
        "content-type": "application/json",
    }


class Bounds(random.Random):
    """Returns the upper bound of the uniform draw, and keeps the bounds it was asked for."""

    def __init__(self) -> None:
        super().__init__(0)
        self.asked: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.asked.append((a, b))
        return b


@pytest.mark.parametrize(
    ("attempts", "ceiling"),
    [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (12, 3_600.0), (30, 3_600.0)],
)
def test_the_backoff_draws_from_zero_to_a_doubling_ceiling_capped_at_an_hour(
    attempts: int, ceiling: float
) -> None:
    rand = Bounds()
    assert backoff_seconds(attempts, rand=rand) == ceiling
    assert rand.asked == [(0, ceiling)]


def test_the_backoffs_base_and_cap_can_be_given() -> None:
    rand = Bounds()
    assert backoff_seconds(3, base=0.5, cap=100.0, rand=rand) == 2.0
    assert backoff_seconds(9, base=0.5, cap=100.0, rand=rand) == 100.0


def test_without_a_random_source_the_backoff_uses_the_modules() -> None:
    waits = [backoff_seconds(2) for _ in range(200)]
    assert all(0 <= w <= 4.0 for w in waits)
    assert len(set(waits)) > 1


def test_the_eighth_failure_dead_letters_by_default() -> None:
    assert after_failure(7) is DeliveryStatus.PENDING
    assert after_failure(8) is DeliveryStatus.DEAD
    assert after_failure(9) is DeliveryStatus.DEAD
    assert after_failure(2, 3) is DeliveryStatus.PENDING
    assert after_failure(3, 3) is DeliveryStatus.DEAD
