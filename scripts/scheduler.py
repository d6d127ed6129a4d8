"""`loyalty scheduler` (or `scripts/scheduler`): run the scheduled jobs (scripts/jobs.py) on their
schedules, in one process of however many are started.

Every scheduler tries to take one lock; the one that has it runs the jobs, the others stand by and try
again every SCHEDULER_STANDBY_SECONDS (5). On PostgreSQL the lock is a session advisory lock
(pg_try_advisory_lock) on a connection of its own: when the holder dies, or its connection does,
PostgreSQL releases the lock and a standby takes over within one standby interval; a holder that
finds its connection gone stops running jobs and stands by again. On SQLite, which has no such lock,
it is an exclusive lock on the file `<database>.scheduler.lock` (flock), which the kernel releases
when the holder exits: schedulers on one machine only, as the SQLite database itself.

Each job runs every SCHEDULE_<JOB>_SECONDS (e.g. SCHEDULE_MATURE_SECONDS, SCHEDULE_RELEASE_HOLDS_SECONDS;
0 turns a job off), first when the scheduler takes the lock, then after each interval, in the order
of `scripts/jobs all` when several are due. A job that fails is logged and counted
(loyalty_job_runs_total{outcome="failed"}) and runs again at its next time. With METRICS_PORT set the
scheduler serves its own /metrics there (METRICS_HOST, default 127.0.0.1). The database is expected
migrated (`loyalty serve` migrates it).

Jobs are safe to run twice at once (scripts/jobs.py), so a cron entry beside the scheduler, or two
schedulers for a moment during a takeover, do no harm; the lock only keeps them from doing the work
twice over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from api.app import personal_data_vault
from api.settings import ConfigurationError, Settings
from scripts.jobs import JOBS, run_jobs
from telemetry.logs import configure_logging
from telemetry.metrics import serve_metrics

logger = logging.getLogger("loyalty.scheduler")

# Seconds between runs. Points mature and holds lapse by the minute; expiry, tiers and forfeiture are
# due by the day but cheap to find when nothing is due; segments refresh every 10 minutes; profile
# counters are pruned daily.
DEFAULT_SCHEDULE: Mapping[str, float] = {
    "mature": 60,
    "release-holds": 60,
    "expire-vouchers": 3600,
    "expire": 3600,
    "forfeit-closed": 3600,
    "tiers": 3600,
    "dormancy": 86400,
    "segments": 600,
    "profiles": 86400,
    "settlements": 60,
    "guards": 60,  # a guard pauses an offer whose budget would run out early: soon, not hourly
    "notify-expiry": 3600,
    "nudges": 3600,
    "reactions": 60,  # scripts/worker also handles new events each round; this covers a setup without one
}
# The advisory lock's key: any 64-bit number the programme's other locks do not use.
ADVISORY_KEY = 0x4C6F79616C747953  # "LoyaltyS"


def schedule_from_env(env: Mapping[str, str]) -> dict[str, float]:
    """Each job's interval in seconds; jobs set to 0 are left out."""
    schedule = {}
    for name in JOBS:
        variable = f"SCHEDULE_{name.upper().replace('-', '_')}_SECONDS"
        seconds = float(env.get(variable, DEFAULT_SCHEDULE.get(name, 3600)))
        if seconds < 0:
            raise ConfigurationError(f"{variable} must be 0 (off) or a number of seconds")
        if seconds > 0:
            schedule[name] = seconds
    return schedule


class Lock(Protocol):
    async def acquire(self) -> bool: ...
    async def held(self) -> bool: ...
    async def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL's session advisory lock, on a connection kept open for as long as it is held."""

    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(url, poolclass=NullPool)
        self.conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = await self.engine.connect()
                await self.conn.execution_options(isolation_level="AUTOCOMMIT")
            taken = (
                await self.conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            ).scalar()
        except Exception as exc:
            logger.warning("scheduler lock: cannot reach the database: %s", type(exc).__name__)
            await self._drop()
            return False
        return bool(taken)

    async def held(self) -> bool:
        """Still ours: the connection that holds it answers."""
        if self.conn is None:
            return False
        try:
            await self.conn.execute(text("SELECT 1"))
        except Exception:
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        await self._drop()
        await self.engine.dispose()

    async def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()


class FileLock:
    """An exclusive flock on a file beside the SQLite database; the kernel drops it with the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] | None = None

    async def acquire(self) -> bool:
        file = self.path.open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self.file = file
        return True

    async def held(self) -> bool:
        return self.file is not None

    async def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def lock_for(database_url: str) -> Lock:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLock(Path(f"{url.database}.scheduler.lock"))
    raise ConfigurationError(
        f"the scheduler needs PostgreSQL or an SQLite file, not {url.get_backend_name()}"
    )


async def run_scheduler(
    settings: Settings,
    schedule: Mapping[str, float],
    *,
    stop: asyncio.Event,
    standby_seconds: float = 5.0,
    out: IO[str] | None = None,
) -> None:
    """Until `stop` is set: stand by, or hold the lock and run what is due."""
    out = out or sys.stdout
    lock = lock_for(settings.database_url)
    vault = personal_data_vault(settings)
    order = [name for name in JOBS if name in schedule]

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))

    standing_by = False
    try:
        while not stop.is_set():
            if not await lock.acquire():
                if not standing_by:
                    say(f"scheduler {os.getpid()}: standing by (another scheduler holds the lock)")
                    standing_by = True
                await pause(standby_seconds)
                continue
            standing_by = False
            say(f"scheduler {os.getpid()}: holding the lock, running {', '.join(order) or 'no jobs'}")
            next_run = dict.fromkeys(order, 0.0)
            while not stop.is_set():
                if not await lock.held():
                    say(f"scheduler {os.getpid()}: lost the lock; standing by")
                    break
                for name in order:
                    if stop.is_set() or time.monotonic() < next_run[name]:
                        continue
                    try:
                        for line in await run_jobs(settings.database_url, [name], False, vault=vault):
                            say(line)
                    except Exception:
                        logger.exception("job %s failed; it runs again in %g s", name, schedule[name])
                    next_run[name] = time.monotonic() + schedule[name]
                soonest = min(next_run.values(), default=time.monotonic() + standby_seconds)
                await pause(min(soonest - time.monotonic(), standby_seconds))
    finally:
        await lock.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loyalty scheduler", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        schedule = schedule_from_env(os.environ)
        lock_for(settings.database_url)  # a database it cannot lock is a configuration error
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    if port := os.environ.get("METRICS_PORT"):
        serve_metrics(int(port), os.environ.get("METRICS_HOST", "127.0.0.1"))
    standby = float(os.environ.get("SCHEDULER_STANDBY_SECONDS", "5"))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_scheduler(settings, schedule, stop=stop, standby_seconds=standby)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
