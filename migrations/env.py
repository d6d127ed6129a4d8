"""Alembic environment: async engines (aiosqlite, asyncpg), one code path for the CLI and for code.

The database URL comes from, in order: `config.attributes["url"]` (set by persistence.migrate),
`sqlalchemy.url` in the config (never in alembic.ini; a caller may set it with `set_main_option`),
the DATABASE_URL environment variable, and finally the embedded SQLite file under var/.

A caller that already holds a connection may pass it as `config.attributes["connection"]`: a sync
`Connection`, as handed out by `AsyncConnection.run_sync`; it is then used as is and never closed here.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import event, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

from persistence.engine import ensure_sqlite_directory
from persistence.tables import Base

DEFAULT_URL = "sqlite+aiosqlite:///var/loyalty.db"

config = context.config
target_metadata = Base.metadata

# Logging setup only when alembic runs from the command line; code that calls alembic keeps its own.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    return str(url or os.environ.get("DATABASE_URL") or DEFAULT_URL)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render project TypeDecorators (UtcDateTime) as their plain SQLAlchemy impl: migrations are frozen
    and must not import the application."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy."):
            return f"sa.{impl!r}"
    return False


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`) instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=is_sqlite(url),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: autogenerate renders batch operations (copy-and-move).
        render_as_batch=sqlite,
        render_item=render_item,
        # SQLite runs DDL inside transactions too, provided the driver does not manage them
        # (see _sqlite_transactional_ddl): a failed upgrade then leaves no half-built schema.
        transactional_ddl=True if sqlite else None,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_transactional_ddl(sync_engine: Any) -> None:
    """SQLAlchemy's documented recipe: stop the driver's own (DML-only) BEGIN and emit ours."""

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


async def run_async_migrations(url: str) -> None:
    if is_sqlite(url):
        ensure_sqlite_directory(url)
    engine = create_async_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    if is_sqlite(url):
        _sqlite_transactional_ddl(engine.sync_engine)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations(database_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
