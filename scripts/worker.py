"""`scripts/worker`: delivers the outbox's business events (README, "Events and webhooks").

Each round: fan new events out to the subscriptions that want them (one worker at a time), then
claim due deliveries (FOR UPDATE SKIP LOCKED on PostgreSQL, so any number of workers share the
work and never send one delivery at once) and send them: webhooks as signed HTTP POSTs (Standard
Webhooks), and, when NATS_URL is set, every event to NATS JetStream. A failure is retried with
exponential backoff and full jitter, and dead-lettered after WEBHOOK_MAX_ATTEMPTS; admins
redeliver. A worker killed at any point loses nothing: what it had claimed is due again when its
lease ends. `--once` delivers what is due now and exits (for cron and tests); otherwise it runs until
SIGTERM or SIGINT. On SQLite run a single worker.

Settings (environment): DATABASE_URL as for the server; NATS_URL (none: no NATS);
WEBHOOK_MAX_ATTEMPTS (8), WEBHOOK_BACKOFF_SECONDS (2: the first retry's ceiling),
WEBHOOK_TIMEOUT_SECONDS (10), WEBHOOK_LEASE_SECONDS (60: longer than a request may take),
WORKER_POLL_SECONDS (0.1: the pause when nothing is due), WORKER_BATCH (100), WEBHOOK_CONCURRENCY (8:
requests at once to one receiver).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.app import migration_keys, personal_data_vault
from api.settings import Settings
from domain.clock import SystemClock
from domain.services.triggers import run_reactions
from domain.webhooks import (
    BACKOFF_BASE_SECONDS,
    MAX_ATTEMPTS,
    DeliveryStatus,
    Transport,
    after_failure,
    backoff_seconds,
    headers,
)
from persistence.delivery import Claimed, SqlDeliveryStore
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head
from persistence.personal_data import PersonalDataVault
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from telemetry.logs import configure_logging
from telemetry.metrics import serve_metrics, set_outbox_lag

NATS_STREAM = "LOYALTY_EVENTS"
NATS_SUBJECTS = "loyalty.events.>"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_attempts: int = MAX_ATTEMPTS
    backoff_seconds: float = BACKOFF_BASE_SECONDS
    timeout_seconds: float = 10.0
    lease_seconds: float = 60.0
    poll_seconds: float = 0.1
    batch: int = 100
    per_receiver: int = 8
    nats_url: str | None = None

    def __post_init__(self) -> None:
        if self.lease_seconds <= self.timeout_seconds:
            # a request must be able to end within its claim's lease, or none is ever sent
            raise ValueError("WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_SECONDS")
        if self.per_receiver < 1 or self.batch < 1:
            raise ValueError("WEBHOOK_CONCURRENCY and WORKER_BATCH must be at least 1")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WorkerSettings:
        env = dict(os.environ) if env is None else env
        return cls(
            max_attempts=int(env.get("WEBHOOK_MAX_ATTEMPTS", MAX_ATTEMPTS)),
            backoff_seconds=float(env.get("WEBHOOK_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)),
            timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
            lease_seconds=float(env.get("WEBHOOK_LEASE_SECONDS", "60")),
            poll_seconds=float(env.get("WORKER_POLL_SECONDS", "0.1")),
            batch=int(env.get("WORKER_BATCH", "100")),
            per_receiver=int(env.get("WEBHOOK_CONCURRENCY", "8")),
            nats_url=env.get("NATS_URL") or None,
        )


class LeaseEnding(Exception):
    """A claimed delivery waited so long for its turn that its lease could end mid-request."""


class Failure(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def body_of(claimed: Claimed) -> bytes:
    """What a receiver gets: the Standard Webhooks envelope (type, timestamp, data) with the event's
    id, version and member."""
    envelope = {
        "id": claimed.event_id,
        "type": claimed.type,
        "version": claimed.version,
        "timestamp": claimed.occurred_at.isoformat(),
        "memberId": claimed.member_id,
        "data": claimed.payload,
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


class WebhookSender:
    """Signed POSTs, through one HTTP client per receiver (scheme, host and port), each sending at
    most `per_receiver` requests at once: a receiver is never flooded by a batch, and a client's
    pool stays small, where its bookkeeping costs a pass over its connections for every request
    (with 200 requests queued on 100 connections that was half the worker's time)."""

    def __init__(self, timeout: float, per_receiver: int) -> None:
        self.timeout_seconds = timeout
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.per_receiver = per_receiver
        self.receivers: dict[tuple[str, str, int | None], tuple[httpx.AsyncClient, asyncio.Semaphore]] = {}

    def _receiver(self, url: str) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        parsed = httpx.URL(url)
        origin = (parsed.scheme, parsed.host, parsed.port)
        if origin not in self.receivers:
            client = httpx.AsyncClient(
                timeout=self.timeout,
                limits=httpx.Limits(
                    max_connections=self.per_receiver, max_keepalive_connections=self.per_receiver
                ),
                follow_redirects=False,
            )
            self.receivers[origin] = (client, asyncio.Semaphore(self.per_receiver))
        return self.receivers[origin]

    async def send(self, claimed: Claimed, lease_ends: float) -> int:
        """POST it; `LeaseEnding` instead when its turn comes too late for the request to end within
        the claim's lease (`lease_ends`, time.monotonic())."""
        body = body_of(claimed)
        client, turn = self._receiver(claimed.url)
        async with turn:
            if time.monotonic() + self.timeout_seconds >= lease_ends:
                raise LeaseEnding  # another worker may claim it once the lease ends: never send twice
            sent = headers(claimed.secrets, claimed.event_id, int(time.time()), body)
            try:
                response = await client.post(claimed.url, content=body, headers=sent)
            except httpx.HTTPError as error:
                raise Failure(f"{type(error).__name__}: {error}"[:500]) from error
        if not 200 <= response.status_code < 300:
            raise Failure(f"HTTP {response.status_code}", response.status_code)
        return response.status_code

    async def close(self) -> None:
        for client, _ in self.receivers.values():
            await client.aclose()


class NatsPublisher:
    """JetStream: subject loyalty.events.<type>, header Nats-Msg-Id = the event id, so the stream
    drops a second publication of one event within its duplicate window."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.nc: Any = None
        self.js: Any = None

    async def connect(self) -> None:
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        self.nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=3)
        self.js = self.nc.jetstream()
        try:
            await self.js.stream_info(NATS_STREAM)
        except NotFoundError:
            await self.js.add_stream(StreamConfig(name=NATS_STREAM, subjects=[NATS_SUBJECTS]))

    async def send(self, claimed: Claimed, lease_ends: float) -> int:
        """Publish it; one publication, bounded by its 5 s timeout, waits for no turn."""
        if self.js is None:
            await self.connect()
        try:
            await self.js.publish(
                f"loyalty.events.{claimed.type}",
                body_of(claimed),
                headers={"Nats-Msg-Id": claimed.event_id},
                timeout=5,
            )
        except Exception as error:  # any NATS failure is a failed attempt, retried later
            raise Failure(f"NATS {type(error).__name__}: {error}"[:500]) from error
        return 0

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.drain()


Clock = Callable[[], datetime]


LAG_EVERY_SECONDS = 1.0  # the lag gauge is read this often: one small query, not one per round
IN_FLIGHT = 4  # claims' worth of deliveries (WORKER_BATCH each) being sent at once by one worker


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Worker:
    store: SqlDeliveryStore
    settings: WorkerSettings
    clock: Clock = utc_now
    webhooks: WebhookSender | None = None
    nats: NatsPublisher | None = None
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0  # claims given back unsent, their lease too near its end
    sending: Counter[int] = field(default_factory=Counter)  # deliveries being sent, by subscription
    on_delivered: Callable[[Claimed, datetime], None] | None = None
    # Tier notices and triggered campaigns over new outbox events (domain/services/triggers.py):
    # one batch per call. `round` runs it before its dispatch, so what it emits goes out in the same
    # round; `run` runs it in a loop of its own.
    reactions: Callable[[], Awaitable[int]] | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.webhooks = WebhookSender(self.settings.timeout_seconds, self.settings.per_receiver)
        if self.settings.nats_url:
            await self.store.ensure_nats(self.clock())
            self.nats = NatsPublisher(self.settings.nats_url)

    async def close(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.close()
        if self.nats is not None:
            await self.nats.close()

    async def round(self) -> int:
        """One step of everything, in order: react, dispatch what is new, send what is due and wait
        for the answers; how much was done. `--once` and the tests drive the worker with it."""
        reacted = await self._react()
        dispatched = await self.store.dispatch(self.clock())
        claimed = await self.store.claim(self.clock(), self.settings.batch, self.settings.lease_seconds)
        await self._send(claimed, self._lease_ends())
        return reacted + dispatched + len(claimed)

    async def measure_lag(self) -> None:
        """The outbox lag gauge (/metrics): how long the oldest waiting event has waited, 0 when none."""
        oldest = await self.store.oldest_waiting()
        set_outbox_lag(0.0 if oldest is None else (self.clock() - oldest).total_seconds())

    async def run(self, *, once: bool = False) -> None:
        if once:
            while await self.round():
                pass
            return
        reacting = asyncio.create_task(self._react_until_stopped())
        try:
            await self._deliver_until_stopped()
        except BaseException:
            reacting.cancel()  # its open batch rolls back and is handled again by the next worker
            raise
        await reacting

    async def _react_until_stopped(self) -> None:
        """Reactions in their own loop, beside delivery: what they emit is dispatched by the next
        delivery step, and their batches never delay a delivery."""
        if self.reactions is None:
            return
        while not self.stopping.is_set():
            if not await self._react():
                await self._pause()

    async def _deliver_until_stopped(self) -> None:
        """Dispatch and claim again while earlier claims are still being sent, up to IN_FLIGHT
        claims' worth of deliveries at once: an event waits for the next claim, not for the last
        claim's answers. Per-member order still holds, as a claimed delivery stays PENDING (and
        blocks the member's later ones) until its outcome is written."""
        tasks: set[asyncio.Task[None]] = set()
        most = IN_FLIGHT * self.settings.batch
        measured = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - measured >= LAG_EVERY_SECONDS:
                    await self.measure_lag()
                    measured = time.monotonic()
                dispatched = await self.store.dispatch(self.clock())
                lease_ends = self._lease_ends()
                claimed = await self.store.claim(
                    self.clock(), self.settings.batch, self.settings.lease_seconds, self._busy()
                )
                if claimed:
                    tasks.add(asyncio.create_task(self._send(claimed, lease_ends)))
                full = sum(self.sending.values()) >= most
                if tasks and (full or not (claimed or dispatched)):
                    # wake when a claim's sends end (a busy subscription may be free again)
                    await asyncio.wait(tasks, timeout=self.settings.poll_seconds, return_when=FIRST_COMPLETED)
                elif not (claimed or dispatched):
                    await self._pause()
                for task in [t for t in tasks if t.done()]:
                    tasks.discard(task)
                    task.result()  # a send's unexpected error (its database gone) stops the worker
        finally:
            if tasks:  # what was claimed is sent and recorded before the worker stops
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), self.settings.poll_seconds)

    async def _react(self) -> int:
        if self.reactions is None:
            return 0
        try:
            return await self.reactions()
        except Exception as error:  # its batch rolled back and is retried; deliveries go on
            print(f"worker: reactions failed, retried next round: {error!r}", file=sys.stderr)
            return 0

    def _lease_ends(self) -> float:
        """When a claim made now stops being this worker's, on the monotonic clock (read before the
        claim, so never later than the lease the database holds)."""
        return time.monotonic() + self.settings.lease_seconds

    def _busy(self) -> list[int]:
        """The subscriptions with a full turn being sent and a claim's worth waiting behind it: the
        next claim leaves them out, so a slow receiver holds at most about that much, never every
        claim in flight, and the others' deliveries go on."""
        most = self.settings.per_receiver + self.settings.batch
        return [sub for sub, n in self.sending.items() if n >= most]

    async def _send(self, claimed: list[Claimed], lease_ends: float) -> None:
        """Send a claim's deliveries at once. Each subscription's successes are recorded together
        as soon as its own are done: a slow receiver does not delay another's."""
        groups: dict[int, list[Claimed]] = {}
        for c in claimed:
            groups.setdefault(c.subscription_id, []).append(c)
        await asyncio.gather(*(self._send_group(group, lease_ends) for group in groups.values()))

    async def _send_group(self, group: list[Claimed], lease_ends: float) -> None:
        subscription = group[0].subscription_id
        self.sending[subscription] += len(group)
        try:
            sent = await asyncio.gather(*(self._deliver(c, lease_ends) for c in group))
        finally:
            self.sending[subscription] -= len(group)
            if not self.sending[subscription]:
                del self.sending[subscription]
        done = [c for c, ok in zip(group, sent, strict=True) if ok]
        now = self.clock()
        await self.store.delivered([c.delivery_id for c in done], now, None)
        self.delivered += len(done)
        if self.on_delivered is not None:
            for c in done:
                self.on_delivered(c, now)

    async def _deliver(self, claimed: Claimed, lease_ends: float) -> bool:
        """Send one; a failure is recorded at once, a success with its subscription's others in the
        claim, and a delivery whose turn came too late is given back."""
        sender: WebhookSender | NatsPublisher | None
        sender = self.nats if claimed.transport is Transport.NATS else self.webhooks
        try:
            if sender is None:
                raise Failure("NATS_URL is not set on this worker")
            await sender.send(claimed, lease_ends)
        except LeaseEnding:
            await self.store.release(claimed.delivery_id, self.clock())
            self.released += 1
            return False
        except Failure as failure:
            await self._failed(claimed, str(failure), failure.status_code)
            return False
        return True

    async def _failed(self, claimed: Claimed, error: str, status_code: int | None) -> None:
        status = after_failure(claimed.attempts, self.settings.max_attempts)
        wait = backoff_seconds(claimed.attempts, base=self.settings.backoff_seconds)
        await self.store.failed(
            claimed.delivery_id,
            status=status,
            next_attempt_at=self.clock() + timedelta(seconds=wait),
            error=error,
            status_code=status_code,
        )
        self.failed += 1
        if status is DeliveryStatus.DEAD:
            self.dead += 1


async def run_worker(
    database_url: str, settings: WorkerSettings, *, once: bool, vault: PersonalDataVault | None = None
) -> Worker:
    database = create_database(database_url, vault=vault)
    engine = database.write_engine

    async def reactions() -> int:
        run = await run_reactions(lambda: SqlAlchemyUnitOfWork(engine), SystemClock(), once=True)
        return run.events

    worker = Worker(SqlDeliveryStore(engine), settings, reactions=reactions)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stopping.set)
    try:
        await worker.start()
        await worker.run(once=once)
    finally:
        await worker.close()
        await database.dispose()
    return worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/worker", description=__doc__)
    parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url, migration_keys(settings))
    configure_logging(settings.log_format)
    if port := os.environ.get("METRICS_PORT"):  # the worker's own /metrics: the outbox lag, its jobs
        serve_metrics(int(port), os.environ.get("METRICS_HOST", "127.0.0.1"))
    worker = asyncio.run(
        run_worker(
            settings.database_url,
            WorkerSettings.from_env(),
            once=args.once,
            vault=personal_data_vault(settings),
        )
    )
    print(f"worker: {worker.delivered:,} delivered, {worker.failed:,} failed attempts, {worker.dead:,} dead")
    return 0


if __name__ == "__main__":
    sys.exit(main())
