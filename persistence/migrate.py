"""Schema migrations from code: the only way the schema is created (never `metadata.create_all`).

migrations/env.py runs its async engine with `asyncio.run`, so the alembic commands here are sync
and must not be called while an event loop is running in the thread; async callers (server
startup, tests) use the `*_async` variants, which run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


# Encryption keys (first encrypts) and the lookup key, for migrations that encrypt existing rows.
MigrationKeys = tuple[tuple[str, ...], str]


def alembic_config(url: str | None = None, keys: MigrationKeys | None = None) -> Config:
    """The project's alembic Config, pointed at `url`; alembic leaves the caller's logging alone."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.attributes["url"] = url
    if keys is not None:
        config.attributes["personal_data_keys"] = keys
    return config


def upgrade_to_head(url: str, keys: MigrationKeys | None = None) -> None:
    _refuse_inside_event_loop("upgrade_to_head")
    command.upgrade(alembic_config(url, keys), "head")


def downgrade_to_base(url: str) -> None:
    _refuse_inside_event_loop("downgrade_to_base")
    command.downgrade(alembic_config(url), "base")


async def upgrade_to_head_async(url: str, keys: MigrationKeys | None = None) -> None:
    await asyncio.to_thread(upgrade_to_head, url, keys)


async def downgrade_to_base_async(url: str) -> None:
    await asyncio.to_thread(downgrade_to_base, url)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The head revision(s) of migrations/versions; read from disk once per process."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def current_revision_is_head(engine: AsyncEngine) -> bool:
    """Whether the database is migrated to exactly the head revision(s) (for /readyz).

    False for an empty database or one behind or ahead of this code; database errors propagate.
    On SQLite pass the read engine: the write engine's connections start with BEGIN IMMEDIATE.
    """
    heads = await asyncio.to_thread(head_revisions)
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_heads)
    return bool(heads) and frozenset(current) == heads


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


def _refuse_inside_event_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() runs its own event loop; from async code use `await {name}_async(url)`")


async def not_ready_reason(engine: AsyncEngine) -> str | None:
    """Why the database cannot serve (for /readyz), or None when it answers and is at the head."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        at_head = await current_revision_is_head(engine)
    except Exception:  # any failure to reach the database means "not ready", never a 500
        return "unreachable"
    return None if at_head else "migrations pending"
