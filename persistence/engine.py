"""Engines for the embedded SQLite database and for PostgreSQL.

SQLite: every write transaction starts with BEGIN IMMEDIATE (SQLAlchemy's documented connect/begin
hooks; `with_for_update()` renders nothing there), and all writes go through one connection, which
removes "database is locked" errors and long tails. Reads use their own pool in WAL mode.
PostgreSQL: two pools on one server. Writes run in transactions; money moves through conditional
UPDATEs that lock the member's row. Reads are single statements in autocommit, which saves the BEGIN
and ROLLBACK round trips; a read that needs several statements in one snapshot asks for its own
isolation level (see `queries/ledger_check.py`).

Lost connections: optimistic reconnect-and-retry, not `pool_pre_ping`. Pre-ping costs a round trip
on every checkout, on the hot path of every request, to guard against an event (a restart, a
failover, `pg_terminate_backend`) that happens rarely. Instead a connection the server dropped fails
its statement; SQLAlchemy marks the error `connection_invalidated` and discards the whole pool, and
the work is retried on a fresh connection, which costs nothing while connections are healthy:
- writes: the unit of work turns the error into `Unavailable` when nothing was committed (the API's
  `run_use_case` runs the use case again, twice at most; the idempotency key makes that safe anyway),
  and into `OutcomeUnknown` when the connection died during COMMIT (answered as OUTCOME_UNKNOWN: the
  client retries with the same key);
- reads: every read of the read model is one short connection, tried again once
  (`persistence/disconnects.py`), then `Unavailable`.

Every engine hides SQL parameters from its errors and logs, and no engine echoes statements.
Personal data is encrypted before it reaches SQL anyway (persistence/personal_data.py): the vault
given here is attached to both engines, and every unit of work and read over them uses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from persistence.personal_data import PersonalDataVault, attach

# aiosqlite logs every statement with its parameters at DEBUG: keep that out of any log, whatever
# level the host process sets.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


@dataclass(frozen=True)
class Database:
    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def create_database(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, vault: PersonalDataVault | None = None
) -> Database:
    """Without a vault, reading or writing a member's contact fails (verify-ledger needs none)."""
    database = _create(url, pool_size=pool_size, max_overflow=max_overflow)
    if vault is not None:
        attach(database.write_engine, vault)
        attach(database.read_engine, vault)
    return database


def _create(url: str, *, pool_size: int, max_overflow: int) -> Database:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite(url)
    writer = create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=60, hide_parameters=True
    )
    reader = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=60,
        isolation_level="AUTOCOMMIT",
        hide_parameters=True,
    )
    return Database(url, writer, reader)


def ensure_sqlite_directory(url: str) -> None:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite(url: str) -> Database:
    ensure_sqlite_directory(url)
    # One writer connection: SQLite allows one writer at a time anyway; queueing in the pool is
    # cheaper and fairer than busy-waiting on the file lock.
    writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=120, hide_parameters=True)
    reader = create_async_engine(url, pool_size=5, max_overflow=5, pool_timeout=60, hide_parameters=True)
    _install_sqlite_hooks(writer, begin="BEGIN IMMEDIATE")
    _install_sqlite_hooks(reader, begin="BEGIN")
    return Database(url, writer, reader)


def _install_sqlite_hooks(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own deferred BEGIN; we emit ours in on_begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
