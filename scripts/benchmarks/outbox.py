"""The outbox section: earn with the outbox on beside a second server with OUTBOX_ENABLED=false
(A B B A, three times), and the lag to each webhook's arrival at a local receiver while the earn
load runs, with `--delivery-workers` delivery workers (scripts/worker, default one) in their own
processes.

Two lags: from the event's `occurred_at` (the use case's clock, read before its transaction commits,
so it also counts the rest of the request: an upper bound of commit to delivery), and, when
PostgreSQL has `track_commit_timestamp = on`, from the commit itself, for the purchase.posted events."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from domain.webhooks import new_secret
from scripts.benchmarks import dataset, scenarios
from scripts.benchmarks.load import LoadResult
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import ROOT, Server

Measure = Callable[..., Awaitable[LoadResult]]
Paired = Callable[..., Awaitable[tuple[LoadResult, LoadResult]]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    cmd: list[str], *, env: dict[str, str] | None = None, pipe: bool = False
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE if pipe else None)


def _arrivals(path: Path) -> dict[str, float]:
    """The receiver's first arrival of each event id (a redelivery comes later)."""
    arrived: dict[str, float] = {}
    for line in path.read_text().splitlines():
        msg_id, at = line.split("\t")
        arrived.setdefault(msg_id, float(at))
    path.unlink()
    return arrived


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def figures(
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    secret: str,
    workers: int,
    pool: int,
    clients: int,
    seconds: float,
    report: Report,
    measure: Measure,
    paired: Paired,
    progress: Callable[[str], None],
    *,
    delivery_workers: int = 1,
) -> None:
    def earn(target: Server) -> Callable[[float], Awaitable[LoadResult]]:
        return lambda secs: measure(
            target,
            clients=clients,
            seconds=secs,
            headers=lambda c: tokens.processor(),
            body=scenarios.earn_bodies(data.member_ids, data.merchant_ids),
            check=scenarios.earn_succeeded,
        )

    progress(f"earn with the outbox on and off, {clients} clients ...")
    off = Server(
        database_url=data.url,
        workers=workers,
        jwt_secret=secret,
        pool_size=pool,
        settings={"OUTBOX_ENABLED": "false"},
    )
    try:
        # Three rounds: the outbox's cost is about as large as the drift between two A B B A runs.
        on, without = await paired(earn(server), earn(off), seconds, rounds=3)
    finally:
        off.stop()
    report.add(
        Figure.from_load(
            "outbox",
            f"postPurchase, outbox on, {clients} clients",
            on,
            ceiling=without.ops,
            ceiling_label="OUTBOX_ENABLED=false",
            target_ratio=0.9,
        )
    )

    progress(f"webhook delivery under the earn load, {clients} clients, {delivery_workers} worker(s) ...")
    engine = create_async_engine(data.url)
    port = _free_port()
    out = Path(tempfile.mkstemp(suffix=".tsv")[1])
    receiver = _start([sys.executable, "-m", "scripts.benchmarks.receiver", str(port), str(out)], pipe=True)
    running: list[subprocess.Popen[bytes]] = []
    try:
        assert receiver.stdout is not None
        receiver.stdout.readline()  # ready
        async with engine.begin() as conn:
            # Only this run's events: what earlier sections wrote counts as sent.
            await conn.execute(text("UPDATE outbox_events SET dispatched = true WHERE NOT dispatched"))
            await conn.execute(text("UPDATE webhook_subscriptions SET status = 'DISABLED'"))
            now = datetime.now(UTC)
            # The secret in the clear, as releases before sealing stored it: this worker process has
            # no personal-data keys, and signs with it as it is (opening a sealed one is one Fernet
            # decryption per delivery).
            await conn.execute(
                text(
                    "INSERT INTO webhook_subscriptions (transport, url, event_types, owner_kind, secret, "
                    "status, created_at, updated_at) VALUES ('WEBHOOK', :url, '[]', 'APP', :secret, "
                    "'ACTIVE', :now, :now)"
                ),
                {"url": f"http://127.0.0.1:{port}/hooks", "secret": new_secret(), "now": now},
            )
        env = {**os.environ, "DATABASE_URL": data.url, "WORKER_POLL_SECONDS": "0.05", "WORKER_BATCH": "200"}
        env.pop("NATS_URL", None)
        running = [
            _start(
                [
                    sys.executable,
                    "-c",
                    "import asyncio, sys; from scripts.worker import WorkerSettings, run_worker; "
                    "asyncio.run(run_worker(sys.argv[1], WorkerSettings.from_env(), once=False))",
                    data.url,
                ],
                env=env,
            )
            for _ in range(delivery_workers)
        ]
        # The worker is up once a probe event has come through; only then does the load start.
        probe = f"probe-{port}"
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox_events (event_id, type, version, occurred_at, payload, dispatched) "
                    "VALUES (:id, 'points.adjusted', 1, :now, '{}', false)"
                ),
                {"id": probe, "now": datetime.now(UTC)},
            )
        for _ in range(1200):
            async with engine.connect() as conn:
                done = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM webhook_deliveries d JOIN outbox_events e "
                            "ON e.id = d.event_seq WHERE e.event_id = :id AND d.status = 'DELIVERED'"
                        ),
                        {"id": probe},
                    )
                ).scalar()
            if done:
                break
            await asyncio.sleep(0.1)
        async with engine.connect() as conn:
            start_seq = (await conn.execute(text("SELECT max(id) FROM outbox_events"))).scalar()
        load = await earn(server)(seconds)
        # Let the worker finish what the load left, then stop it and the receiver.
        for _ in range(600):
            async with engine.connect() as conn:
                left = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM outbox_events e WHERE e.id > :s AND (NOT e.dispatched OR "
                            "EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.id "
                            "AND d.status = 'PENDING'))"
                        ),
                        {"s": start_seq},
                    )
                ).scalar()
            if not left:
                break
            await asyncio.sleep(0.1)
        async with engine.connect() as conn:
            made = {
                row[0]: row[1]
                for row in await conn.execute(
                    text("SELECT event_id, occurred_at FROM outbox_events WHERE id > :s"), {"s": start_seq}
                )
            }
            committed = await _commit_times(conn, start_seq or 0)
    finally:
        for worker in running:
            worker.terminate()
        for worker in running:
            worker.wait(30)
        receiver.terminate()
        receiver.wait(30)
        await engine.dispose()
    arrived = _arrivals(out)
    _lag_figure(report, f"webhook lag, occurredAt to delivery, {clients} earn clients", made, arrived, load)
    if committed is not None:
        _lag_figure(
            report, f"webhook lag, commit to delivery, {clients} earn clients", committed, arrived, load
        )


async def _commit_times(conn: AsyncConnection, start_seq: int) -> dict[str, datetime] | None:
    """When each purchase.posted event's transaction committed, from PostgreSQL's commit timestamps
    of its purchase row (written once, in that transaction); None when track_commit_timestamp is
    off (it needs a server restart to turn on). The event's own row cannot tell: dispatch updates it."""
    if (await conn.execute(text("SHOW track_commit_timestamp"))).scalar() != "on":
        return None
    found = await conn.execute(
        text(
            "SELECT e.event_id, pg_xact_commit_timestamp(p.xmin) FROM outbox_events e "
            "JOIN purchases p ON p.id = CAST(e.payload ->> 'purchaseId' AS bigint) "
            "WHERE e.id > :s AND e.type = 'purchase.posted'"
        ),
        {"s": start_seq},
    )
    return {event_id: at for event_id, at in found if at is not None}


def _lag_figure(
    report: Report, name: str, since: dict[str, datetime], arrived: dict[str, float], load: LoadResult
) -> None:
    lags = [(arrived[i] - since[i].timestamp()) * 1000 for i in since if i in arrived]
    missing = len(since) - len(lags)
    p50 = _percentile(lags, 50) if lags else float("nan")
    p99 = _percentile(lags, 99) if lags else float("nan")
    report.add(
        Figure(
            "outbox",
            name,
            p99,
            "ms p99",
            target_max=1000,
            p50_ms=p50,
            p99_ms=p99,
            errors=missing,
            detail=f"{len(lags):,} events delivered during {load.ops:,.0f} earns/s; p50 {p50:.0f} ms"
            + (f"; {missing} not delivered" if missing else ""),
        )
    )
