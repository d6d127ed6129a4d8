"""Webhook signatures as the Standard Webhooks specification says, checked by that specification's
own library (a receiver's view): one secret, both secrets during a rotation, and replays refused
once their timestamp is more than five minutes old. Backoff: full jitter under a doubling ceiling."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain import webhooks
from domain.webhooks import DeliveryStatus, after_failure, backoff_seconds

BODY = b'{"id":"018f","type":"points.adjusted","data":{"points":5}}'


def test_a_new_secret_is_prefixed_base64_of_24_random_bytes() -> None:
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert len(webhooks._key(secret)) == 24
    assert secret != webhooks.new_secret()


def test_the_library_verifies_our_signature() -> None:
    secret = webhooks.new_secret()
    now = int(time.time())
    sent = webhooks.headers([secret], "msg_1", now, BODY)
    assert Webhook(secret).verify(BODY, sent) == {
        "id": "018f",
        "type": "points.adjusted",
        "data": {"points": 5},
    }
    assert sent["webhook-signature"] == Webhook(secret).sign("msg_1", _dt(now), BODY.decode())


def test_during_a_rotation_both_secrets_sign_and_either_verifies() -> None:
    new, old = webhooks.new_secret(), webhooks.new_secret()
    sent = webhooks.headers([new, old], "msg_2", int(time.time()), BODY)
    assert len(sent["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, sent)
    Webhook(old).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(BODY, sent)


def test_a_changed_body_or_id_fails_verification() -> None:
    secret = webhooks.new_secret()
    sent = webhooks.headers([secret], "msg_3", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"5", b"6"), sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**sent, "webhook-id": "msg_4"})


def test_a_receiver_refuses_a_timestamp_older_than_five_minutes() -> None:
    secret = webhooks.new_secret()
    stale = webhooks.headers([secret], "msg_5", int(time.time()) - 301, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, stale)
    fresh = webhooks.headers([secret], "msg_5", int(time.time()) - 290, BODY)
    Webhook(secret).verify(BODY, fresh)


def test_backoff_is_uniform_under_a_doubling_capped_ceiling() -> None:
    rand = random.Random(7)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (20, 3_600.0)]:
        waits = [backoff_seconds(attempts, rand=rand) for _ in range(300)]
        assert min(waits) >= 0
        assert max(waits) <= ceiling
        assert max(waits) > ceiling * 0.9
        assert min(waits) < ceiling * 0.1


def test_the_last_attempt_dead_letters() -> None:
    assert after_failure(7, 8) is DeliveryStatus.PENDING
    assert after_failure(8, 8) is DeliveryStatus.DEAD


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
