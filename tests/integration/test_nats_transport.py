"""NATS JetStream as the second transport, against the NATS server at NATS_URL (default
nats://127.0.0.1:4222): every event published to loyalty.events.<type> with Nats-Msg-Id = the
event id, the stream created if missing, and a second publication of one event dropped by the
stream's de-duplication. Skipped, with the reason, when no server answers, unless REQUIRE_NATS=1."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlparse

import nats
import pytest

from domain.webhooks import DeliveryStatus, Transport
from persistence.delivery import SqlDeliveryStore
from scripts.worker import NATS_STREAM, Worker, WorkerSettings
from tests.builders import Scenario
from tests.conftest import Backend
from tests.integration.test_outbox_events import outbox
from tests.integration.test_webhook_delivery import drain

NATS_URL = os.environ.get("NATS_URL") or "nats://127.0.0.1:4222"


def _unreachable() -> str | None:
    parsed = urlparse(NATS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=2):
            return None
    except OSError as error:
        return f"no NATS server at {NATS_URL} ({error}); REQUIRE_NATS=1 makes this a failure"


UNREACHABLE = _unreachable()


@pytest.fixture
def nats_url() -> str:
    if UNREACHABLE is not None:
        if os.environ.get("REQUIRE_NATS") == "1":
            pytest.fail(UNREACHABLE)
        pytest.skip(UNREACHABLE)
    return NATS_URL


@pytest.fixture
async def worker(backend: Backend, nats_url: str) -> AsyncIterator[Worker]:
    made = Worker(
        SqlDeliveryStore(backend.database.write_engine),
        WorkerSettings(max_attempts=3, backoff_seconds=0.0, nats_url=nats_url),
    )
    await made.start()
    yield made
    await made.close()


async def test_every_event_is_published_to_jetstream_once_by_its_id(
    backend: Backend, given: Scenario, worker: Worker, nats_url: str
) -> None:
    [sub] = await worker.store.subscriptions()
    assert sub.transport is Transport.NATS
    member = await given.member()
    for n in range(3):
        assert (await given.adjust(member, 5 + n, f"a{n}"))["errors"] == []
    merchant = await given.merchant()
    assert (await given.purchase(merchant, member, 1_000, "p1"))["errors"] == []

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await drain(worker)  # the first send creates the stream when it is missing
        info = await js.stream_info(NATS_STREAM)
        last = info.state.last_seq
        made = await outbox(backend)
        published = [await js.get_msg(NATS_STREAM, seq) for seq in range(last - len(made) + 1, last + 1)]
        assert [(m.subject, (m.headers or {}).get("Nats-Msg-Id")) for m in published] == [
            (f"loyalty.events.{e['type']}", e["event_id"]) for e in made
        ]
        assert await worker.store.counts() == {DeliveryStatus.DELIVERED: len(made)}

        # Sent again (an admin's redelivery): JetStream drops the duplicate.
        await worker.store.redeliver(made[0]["event_id"], sub.id, datetime.now(UTC))
        await drain(worker)
        assert (await js.stream_info(NATS_STREAM)).state.last_seq == last
        assert await worker.store.counts() == {DeliveryStatus.DELIVERED: len(made)}
    finally:
        await nc.close()
