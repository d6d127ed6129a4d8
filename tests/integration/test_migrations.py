"""The migrations are the schema: upgrade an empty database to head, down to base and up again, on
both databases, and find nothing that differs from the tables the code declares."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from persistence.migrate import alembic_config, downgrade_to_base_async, upgrade_to_head_async
from tests.conftest import POSTGRES_UNREACHABLE, TEST_DATABASE_URL, server_dsn


async def round_trip(url: str) -> None:
    await upgrade_to_head_async(url)
    await downgrade_to_base_async(url)
    await upgrade_to_head_async(url)
    # alembic check raises when autogenerate finds a difference between the migrations and the tables.
    await asyncio.to_thread(command.check, alembic_config(url))


async def test_sqlite_round_trip(tmp_path: Path) -> None:
    await round_trip(f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_UNREACHABLE is not None, reason=POSTGRES_UNREACHABLE or "")
async def test_postgres_round_trip() -> None:
    url = make_url(TEST_DATABASE_URL).set(database=f"{make_url(TEST_DATABASE_URL).database}_migrations")
    name = url.database
    conn = await asyncpg.connect(server_dsn(TEST_DATABASE_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await round_trip(url.render_as_string(hide_password=False))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
