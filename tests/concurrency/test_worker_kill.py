"""Delivery workers as separate processes on PostgreSQL: three share the outbox (SKIP LOCKED), one
is killed with SIGKILL mid-run, and still every event reaches the receiver (at least once), none is
lost, and no event is ever being sent twice at the same moment."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain import events
from domain.webhooks import DeliveryStatus, OwnerKind, Transport, new_secret
from persistence.delivery import SqlDeliveryStore
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.conftest import PERSONAL_DATA_KEYS, PERSONAL_DATA_LOOKUP_KEY, Backend
from tests.webhook_receiver import Receiver

REPO = Path(__file__).parents[2]
EVENTS = 300
# The worker opens the subscription's sealed secret with the suite's personal-data keys.
RUN = (
    "import asyncio, sys; from scripts.worker import WorkerSettings, run_worker; "
    "from persistence.personal_data import PersonalDataVault; "
    "vault = PersonalDataVault(sys.argv[2].split(','), sys.argv[3]); "
    "asyncio.run(run_worker(sys.argv[1], WorkerSettings.from_env(), once=False, vault=vault))"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(new_secret(), delay_seconds=0.01).start()
    yield started
    started.stop()


def start_worker(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WEBHOOK_LEASE_SECONDS": "3",
        "WEBHOOK_TIMEOUT_SECONDS": "2",  # within the lease
        "WEBHOOK_BACKOFF_SECONDS": "0.2",
        "WORKER_POLL_SECONDS": "0.05",
        "WORKER_BATCH": "20",
    }
    env.pop("NATS_URL", None)
    keys = ",".join(PERSONAL_DATA_KEYS)
    command = [sys.executable, "-c", RUN, url, keys, PERSONAL_DATA_LOOKUP_KEY]
    return subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE)


async def wait_for(condition: object, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_run_loses_no_event(pg_backend: Backend, receiver: Receiver) -> None:
    store = SqlDeliveryStore(pg_backend.database.write_engine)
    now = datetime.now(UTC)
    await store.add_subscription(
        transport=Transport.WEBHOOK,
        url=receiver.url,
        event_types=[],
        owner_kind=OwnerKind.APP,
        owner_id=None,
        description="kill -9",
        secret=receiver.secret,
        at=now,
    )
    made = [
        events.points_adjusted(member_id=1 + i % 50, adjustment_id=i, points=i + 1, at=now)
        for i in range(EVENTS)
    ]
    async with SqlAlchemyUnitOfWork(pg_backend.database.write_engine) as uow:
        await uow.outbox.add(*made)
        await uow.commit()

    workers = [start_worker(pg_backend.url) for _ in range(3)]
    try:
        await wait_for(lambda: len(receiver.ids()) >= EVENTS // 4, "a quarter delivered")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        await wait_for(lambda: set(receiver.ids()) >= {e.id for e in made}, "every event delivered")
    finally:
        for process in workers[1:]:
            process.send_signal(signal.SIGTERM)
        for process in workers[1:]:
            process.wait(30)
    assert workers[0].returncode == -signal.SIGKILL
    assert [p.returncode for p in workers[1:]] == [0, 0]

    assert set(receiver.ids()) == {e.id for e in made}
    assert receiver.overlapping == 0
    assert receiver.bad_signatures == 0
    assert await store.counts() == {DeliveryStatus.DELIVERED: EVENTS}
    # Each member's events arrived in the order they were written.
    order = {e.id: n for n, e in enumerate(made)}
    by_member: dict[int, list[int]] = {}
    for got in receiver.got:
        by_member.setdefault(got.body["memberId"], []).append(order[got.msg_id])
    for seen in by_member.values():
        first_times = list(dict.fromkeys(seen))
        assert first_times == sorted(first_times)
