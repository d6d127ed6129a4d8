"""The delivery worker on both databases, against a local receiver that verifies every signature
with the Standard Webhooks library: every event reaches each subscription that wants it, once per
success, in order per member; a failing receiver gets retries, then the delivery is dead and an
admin redelivers it; a rotated secret signs with both secrets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from domain.webhooks import DeliveryStatus, OwnerKind, Transport, new_secret
from persistence.delivery import SqlDeliveryStore
from persistence.personal_data import PersonalDataVault
from persistence.tables import webhook_subscriptions
from scripts.rotate_personal_data import rotate_webhook_secrets
from scripts.worker import Worker, WorkerSettings
from tests.builders import Scenario
from tests.conftest import PERSONAL_DATA_KEYS, PERSONAL_DATA_LOOKUP_KEY, TEST_VAULT, Backend
from tests.integration.test_outbox_events import outbox
from tests.webhook_receiver import Receiver

FAST = WorkerSettings(max_attempts=3, backoff_seconds=0.0, timeout_seconds=5, lease_seconds=30, batch=50)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(new_secret()).start()
    yield started
    started.stop()


@pytest.fixture
def second() -> Iterator[Receiver]:
    """Another receiver, for a second subscription."""
    started = Receiver(new_secret()).start()
    yield started
    started.stop()


async def wait_until(done: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    """Poll until `done`, for about `seconds` at most (the assertions after it tell which)."""
    for _ in range(int(seconds / 0.02)):  # what is awaited is the database's state: no event to wait on
        if await done():
            return
        await asyncio.sleep(0.02)


@pytest.fixture
async def store(backend: Backend) -> SqlDeliveryStore:
    return SqlDeliveryStore(backend.database.write_engine)


@pytest.fixture
async def worker(store: SqlDeliveryStore) -> AsyncIterator[Worker]:
    made = Worker(store, FAST)
    await made.start()
    yield made
    await made.close()


async def subscribe(store: SqlDeliveryStore, receiver: Receiver, types: list[str] | None = None) -> int:
    sub = await store.add_subscription(
        transport=Transport.WEBHOOK,
        url=receiver.url,
        event_types=types or [],
        owner_kind=OwnerKind.PARTNER,
        owner_id=None,
        description="test",
        secret=receiver.secret,
        at=datetime.now(UTC),
    )
    return sub.id


async def drain(worker: Worker) -> None:
    """Rounds until nothing is left to do now (a retry due later waits)."""
    for _ in range(100):
        if not await worker.round():
            return
    raise AssertionError("the worker never ran out of work")


async def test_every_event_reaches_the_subscriptions_that_want_it_in_member_order(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    everything = await subscribe(store, receiver)
    other = Receiver(new_secret()).start()
    try:
        adjusted_only = await subscribe(store, other, ["points.adjusted"])
        alice, bob = await given.member("alice"), await given.member("bob")
        for i in range(3):
            assert (await given.adjust(alice, 10 + i, f"a{i}"))["errors"] == []
            assert (await given.adjust(bob, 20 + i, f"b{i}"))["errors"] == []
        merchant = await given.merchant()
        assert (await given.purchase(merchant, alice, 1_000, "p1"))["errors"] == []

        await drain(worker)

        events = await outbox(backend)
        assert sorted(receiver.ids()) == sorted(e["event_id"] for e in events)
        assert sorted(other.ids()) == sorted(e["event_id"] for e in events if e["type"] == "points.adjusted")
        for member in (alice, bob):  # each member's in the order they happened
            mine = [e["event_id"] for e in events if e["member_id"] == member.raw]
            assert [r.msg_id for r in receiver.got if r.body["memberId"] == member.raw] == mine
        assert receiver.bad_signatures == other.bad_signatures == 0
        [first] = [r for r in receiver.got if r.msg_id == events[0]["event_id"]]
        assert first.body == {
            "id": events[0]["event_id"],
            "type": "points.adjusted",
            "version": 1,
            "timestamp": first.body["timestamp"],
            "memberId": alice.raw,
            "data": events[0]["payload"],
        }
        assert [r.body["data"]["points"] for r in receiver.got if r.body["memberId"] == alice.raw][:3] == [
            10,
            11,
            12,
        ]
        counts = await store.counts()
        assert counts == {DeliveryStatus.DELIVERED: len(events) + len(other.ids())}
        assert {d.subscription_id for d in await store.deliveries()} == {everything, adjusted_only}
        # Nothing new: another round sends nothing twice.
        await drain(worker)
        assert len(receiver.ids()) == len(events)
    finally:
        other.stop()


async def test_a_failing_receiver_gets_retries_then_the_delivery_is_dead_until_redelivered(
    given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    sub = await subscribe(store, receiver)
    receiver.answer = lambda _: 503
    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []

    await drain(worker)

    [dead] = await store.deliveries()
    assert (dead.status, dead.attempts, dead.last_status_code, dead.last_error) == (
        DeliveryStatus.DEAD,
        3,
        503,
        "HTTP 503",
    )
    assert (receiver.refused, receiver.ids()) == (3, [])
    assert (worker.failed, worker.dead) == (3, 1)

    receiver.answer = lambda _: 200
    again = await store.redeliver(dead.event_id, sub, datetime.now(UTC))
    assert again is not None
    assert (again.status, again.attempts) == (DeliveryStatus.PENDING, 0)
    await drain(worker)
    [done] = await store.deliveries()
    assert (done.status, done.attempts, done.last_error) == (DeliveryStatus.DELIVERED, 1, None)
    assert receiver.ids() == [dead.event_id]
    assert await store.redeliver("no-such-event", sub, datetime.now(UTC)) is None


async def test_a_members_next_event_waits_until_the_one_before_is_delivered_or_dead(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    refuse_first: dict[str, Any] = {"left": 1}

    def answer(body: dict[str, Any]) -> int:
        if body["data"]["points"] == 1 and refuse_first["left"]:
            refuse_first["left"] -= 1
            return 500
        return 204

    receiver.answer = answer
    alice, bob = await given.member("alice"), await given.member("bob")
    assert (await given.adjust(alice, 1, "a1"))["errors"] == []
    assert (await given.adjust(alice, 2, "a2"))["errors"] == []
    assert (await given.adjust(bob, 3, "b1"))["errors"] == []
    # A retry is due a minute later: meanwhile alice's second event must wait, bob's need not.
    slow = Worker(store, WorkerSettings(max_attempts=5, backoff_seconds=60.0, lease_seconds=30, batch=50))
    await slow.start()
    try:
        await drain(slow)
        assert [r.body["data"]["points"] for r in receiver.got] == [3]
        later = datetime.now(UTC) + timedelta(minutes=2)
        slow.clock = lambda: later
        await drain(slow)
    finally:
        await slow.close()
    assert [r.body["data"]["points"] for r in receiver.got] == [3, 1, 2]


async def test_a_running_worker_claims_again_while_it_sends_and_keeps_each_members_order(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    members = [await given.member(name) for name in ("alice", "bob", "carol")]
    for i in range(3):
        for n, member in enumerate(members):
            assert (await given.adjust(member, 10 * n + i + 1, f"{n}-{i}"))["errors"] == []
    events = await outbox(backend)
    receiver.delay_seconds = 0.1  # a slow receiver: sends overlap only if claims do
    reacted = 0

    async def reactions() -> int:
        nonlocal reacted
        reacted += 1
        return 0

    one_at_a_time = WorkerSettings(batch=1, poll_seconds=0.01, lease_seconds=30)
    worker = Worker(store, one_at_a_time, reactions=reactions)
    await worker.start()
    running = asyncio.create_task(worker.run())

    async def all_arrived() -> bool:
        return len(receiver.ids()) == len(events)

    try:
        await wait_until(all_arrived)
    finally:
        worker.stopping.set()
        await asyncio.wait_for(running, 10)
        await worker.close()

    assert sorted(receiver.ids()) == sorted(e["event_id"] for e in events)
    for member in members:
        mine = [e["event_id"] for e in events if e["member_id"] == member.raw]
        assert [r.msg_id for r in receiver.got if r.body["memberId"] == member.raw] == mine
    assert 1 < receiver.most_at_once <= 3  # one claim of one delivery per member at a time
    assert receiver.overlapping == 0
    assert await store.counts() == {DeliveryStatus.DELIVERED: len(events)}
    assert worker.delivered == len(events)
    assert reacted > 0  # reactions ran in their own loop meanwhile


async def test_a_receiver_gets_at_most_its_share_of_requests_at_once(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    for n in range(6):  # six members: nothing waits for a member's earlier event
        assert (await given.adjust(await given.member(f"m{n}"), 5, f"a{n}"))["errors"] == []
    events = await outbox(backend)
    receiver.delay_seconds = 0.1
    worker = Worker(store, WorkerSettings(batch=50, per_receiver=2))
    await worker.start()
    try:
        await drain(worker)
    finally:
        await worker.close()
    assert sorted(receiver.ids()) == sorted(e["event_id"] for e in events)
    assert receiver.most_at_once == 2


async def test_a_claim_whose_lease_would_end_mid_request_is_given_back_unsent(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []
    now = datetime.now(UTC)
    await store.dispatch(now)
    claimed = await store.claim(now, 50, lease_seconds=30)
    assert claimed

    # its turn comes when the lease has less time left than a request may take
    await worker._send(claimed, lease_ends=time.monotonic())

    assert receiver.ids() == []
    assert worker.released == len(claimed)
    assert {(d.status, d.attempts) for d in await store.deliveries()} == {(DeliveryStatus.PENDING, 0)}
    await drain(worker)  # due again at once, and sent once
    assert sorted(receiver.ids()) == sorted(c.event_id for c in claimed)
    assert {(d.status, d.attempts) for d in await store.deliveries()} == {(DeliveryStatus.DELIVERED, 1)}


async def delivered_to(store: SqlDeliveryStore, subscription_id: int) -> int:
    return sum(
        d.status is DeliveryStatus.DELIVERED for d in await store.deliveries(subscription_id=subscription_id)
    )


async def test_a_claim_leaves_out_the_subscriptions_it_is_told_to_skip(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver, second: Receiver
) -> None:
    busy = await subscribe(store, receiver)
    free = await subscribe(store, second)
    assert (await given.adjust(await given.member(), 5, "a1"))["errors"] == []
    now = datetime.now(UTC)
    await store.dispatch(now)

    taken = await store.claim(now, 50, lease_seconds=30, skip=[busy])

    assert [c.subscription_id for c in taken] == [free]
    assert {c.subscription_id for c in await store.claim(now, 50, lease_seconds=30)} == {busy}


async def test_a_slow_receiver_does_not_hold_back_another_receivers_deliveries(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver, second: Receiver
) -> None:
    slow_sub = await subscribe(store, receiver, ["points.adjusted"])
    fast_sub = await subscribe(store, second, ["points.adjusted"])
    for n in range(8):  # eight members: no event waits for a member's earlier one
        assert (await given.adjust(await given.member(f"m{n}"), 5, f"a{n}"))["errors"] == []
    receiver.delay_seconds = 0.5
    worker = Worker(store, WorkerSettings(batch=1, per_receiver=1, poll_seconds=0.01))
    await worker.start()
    running = asyncio.create_task(worker.run())

    async def fast_all_recorded() -> bool:
        return await delivered_to(store, fast_sub) == 8

    try:
        await wait_until(fast_all_recorded, seconds=4)
        # the fast receiver's eight are sent and recorded while the slow one is on its first two:
        # its subscription is skipped by the claims once it has a full turn in flight
        slow_done = await delivered_to(store, slow_sub)
    finally:
        worker.stopping.set()
        await asyncio.wait_for(running, 30)
        await worker.close()
    assert await delivered_to(store, fast_sub) == 8
    assert slow_done <= 2
    assert second.most_at_once == receiver.most_at_once == 1


async def test_a_claims_successes_are_recorded_per_subscription_as_each_finishes(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver, second: Receiver
) -> None:
    slow_sub = await subscribe(store, receiver, ["points.adjusted"])
    fast_sub = await subscribe(store, second, ["points.adjusted"])
    assert (await given.adjust(await given.member(), 5, "a1"))["errors"] == []
    receiver.delay_seconds = 1.0
    worker = Worker(store, FAST)
    await worker.start()

    async def fast_recorded() -> bool:
        return await delivered_to(store, fast_sub) == 1

    try:
        sending = asyncio.create_task(worker.round())  # one claim: both subscriptions' deliveries
        await wait_until(fast_recorded, seconds=2)
        slow_then = await delivered_to(store, slow_sub)
        await sending
    finally:
        await worker.close()
    assert (await delivered_to(store, fast_sub), slow_then) == (1, 0)
    assert await delivered_to(store, slow_sub) == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lease_seconds": 10.0, "timeout_seconds": 10.0}, "WEBHOOK_LEASE_SECONDS must be longer"),
        ({"per_receiver": 0}, "WEBHOOK_CONCURRENCY and WORKER_BATCH must be at least 1"),
        ({"batch": 0}, "WEBHOOK_CONCURRENCY and WORKER_BATCH must be at least 1"),
    ],
)
def test_worker_settings_refuse_what_could_never_deliver(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerSettings(**settings)
    assert WorkerSettings.from_env({"WEBHOOK_CONCURRENCY": "3"}).per_receiver == 3


async def test_a_send_that_fails_unexpectedly_stops_the_running_worker(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []

    async def gone(*_: Any) -> None:
        raise ConnectionError("the database went away")

    worker = Worker(store, WorkerSettings(poll_seconds=0.01))
    worker.store.delivered = gone  # type: ignore[method-assign]  # the outcome cannot be written
    await worker.start()
    try:
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(worker.run(), 10)
    finally:
        await worker.close()
    assert receiver.ids() != []  # sent, but not recorded: due again when its lease ends
    [pending] = await store.deliveries()
    assert pending.status is DeliveryStatus.PENDING


async def test_after_a_rotation_both_secrets_sign_until_the_old_ones_time_ends(
    given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    sub = await subscribe(store, receiver)
    old = receiver.secret
    new = new_secret()
    await store.rotate_secret(sub, new, datetime.now(UTC) + timedelta(hours=24), datetime.now(UTC))
    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []

    await drain(worker)  # the receiver still holds the old secret: verified

    [got] = receiver.got
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    receiver.secret = new  # the receiver moves to the new secret
    assert (await given.adjust(member, 6, "a2"))["errors"] == []
    await drain(worker)
    assert len(receiver.got) == 2
    assert receiver.bad_signatures == 0
    assert old != new


async def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(
    given: Scenario, store: SqlDeliveryStore, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []
    now = datetime.now(UTC)
    assert await store.dispatch(now) == 1

    [first] = await store.claim(now, 10, lease_seconds=30)  # a worker that then dies

    assert await store.claim(now + timedelta(seconds=29), 10, lease_seconds=30) == []
    [again] = await store.claim(now + timedelta(seconds=31), 10, lease_seconds=30)
    assert (again.delivery_id, again.event_id, again.attempts) == (first.delivery_id, first.event_id, 2)


async def test_the_outbox_lag_is_the_age_of_the_oldest_waiting_event_and_none_when_all_went(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    await subscribe(store, receiver)
    alice = await given.member("alice")
    await drain(worker)  # what enrolment emitted goes first
    assert await store.oldest_waiting() is None
    before = datetime.now(UTC)
    assert (await given.adjust(alice, 10, "a0"))["errors"] == []
    oldest = await store.oldest_waiting()
    assert oldest is not None
    assert before - timedelta(seconds=1) <= oldest <= datetime.now(UTC)
    await store.dispatch(datetime.now(UTC))  # fanned out, still pending: still waiting
    assert await store.oldest_waiting() == oldest
    later = Worker(store, FAST, clock=lambda: oldest + timedelta(seconds=7))
    await later.measure_lag()
    assert REGISTRY.get_sample_value("loyalty_outbox_lag_seconds") == 7.0

    await drain(worker)

    assert await store.oldest_waiting() is None
    await later.measure_lag()
    assert REGISTRY.get_sample_value("loyalty_outbox_lag_seconds") == 0.0


async def test_secrets_are_stored_sealed_and_a_key_rotation_reseals_them(
    backend: Backend, given: Scenario, store: SqlDeliveryStore, worker: Worker, receiver: Receiver
) -> None:
    sub = await subscribe(store, receiver)
    async with backend.database.write_engine.begin() as conn:
        # One stored before secrets were sealed: in the clear, as an older release left it.
        await conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == sub)
            .values(previous_secret=receiver.secret, previous_until=datetime.now(UTC) + timedelta(hours=1))
        )
    [stored] = await stored_secrets(backend, sub)
    assert receiver.secret not in stored[0]
    assert TEST_VAULT.open(stored[0]) == receiver.secret

    member = await given.member()
    assert (await given.adjust(member, 5, "a1"))["errors"] == []
    await drain(worker)
    assert len(receiver.got) == 1
    assert receiver.bad_signatures == 0

    new_key = PersonalDataVault.new_key()
    rotated = PersonalDataVault([new_key, *PERSONAL_DATA_KEYS], PERSONAL_DATA_LOOKUP_KEY)
    changed = await rotate_webhook_secrets(backend.database.write_engine, rotated)
    again = await rotate_webhook_secrets(backend.database.write_engine, rotated)

    only_new = PersonalDataVault([new_key], PERSONAL_DATA_LOOKUP_KEY)
    [(secret, previous)] = await stored_secrets(backend, sub)
    assert (changed, again) == (1, 0)
    assert only_new.open(secret) == only_new.open(previous) == receiver.secret


async def stored_secrets(backend: Backend, subscription_id: int) -> list[tuple[str, str | None]]:
    w = webhook_subscriptions.c
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(select(w.secret, w.previous_secret).where(w.id == subscription_id))
        return [(row.secret, row.previous_secret) for row in rows]
