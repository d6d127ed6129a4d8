"""The migrations are the schema: upgrade an empty database to head, down to base and up again, on
both databases, and find nothing that differs from the tables the code declares."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from persistence.engine import create_database
from persistence.migrate import alembic_config, downgrade_to_base_async, upgrade_to_head_async
from persistence.queries.audit_check import check_audit_chain
from persistence.tables import audit_log, members
from tests.conftest import (
    PERSONAL_DATA_KEYS,
    PERSONAL_DATA_LOOKUP_KEY,
    POSTGRES_UNREACHABLE,
    TEST_DATABASE_URL,
    TEST_VAULT,
    server_dsn,
)

AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


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


# --- the personal-data and audit-chain migration over existing rows -----------------------------

BEFORE_AUDIT_PRIVACY = "6f1d3b8a2c95"
PHONE, EMAIL = "+86 138-1234-5678", "Li.Wei@Example.CN"


async def existing_rows_are_encrypted_and_chained(url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), BEFORE_AUDIT_PRIVACY)
    database = create_database(url, vault=TEST_VAULT)
    try:
        async with database.write_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO members (id, external_ref, status, referral_code, tags, phone, email, "
                    "enrolled_at) VALUES (1, 'old-1', 'ACTIVE', 'OLD1', '[]', :phone, :email, :at), "
                    "(2, 'old-2', 'ACTIVE', 'OLD2', '[]', NULL, NULL, :at)"
                ),
                {"phone": PHONE, "email": EMAIL, "at": AT},
            )
            enrolment = {"external_ref": "old-1", "contact": {"phone": PHONE, "email": EMAIL}}
            for action, after in (("enrollMember", enrolment), ("lockMember", {"status": "LOCKED"})):
                await conn.execute(
                    text(
                        "INSERT INTO audit_log (actor, action, target_type, target_id, before, after, "
                        "request_id, created_at) "
                        "VALUES ('ops', :action, 'Member', 1, NULL, :after, 'r1', :at)"
                    ),
                    {"action": action, "after": json.dumps(after), "at": AT},
                )
        await asyncio.to_thread(
            command.upgrade, alembic_config(url, (PERSONAL_DATA_KEYS, PERSONAL_DATA_LOOKUP_KEY)), "head"
        )
        async with database.read_engine.connect() as conn:
            rows = {r.id: r for r in (await conn.execute(select(members).order_by(members.c.id))).all()}
            audit = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
            length, chain_break = await check_audit_chain(conn)
        async with database.write_engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text("DELETE FROM audit_log"))
    finally:
        await database.dispose()

    assert TEST_VAULT.open(rows[1].phone_encrypted) == PHONE
    assert TEST_VAULT.open(rows[1].email_encrypted) == EMAIL
    assert rows[1].phone_lookup == TEST_VAULT.phone_lookup("+8613812345678")
    assert rows[1].email_lookup == TEST_VAULT.email_lookup("li.wei@example.cn")
    assert (rows[2].phone_encrypted, rows[2].phone_lookup, rows[2].email_lookup) == (None, None, None)
    masked = {"phone": "+86**********5678", "email": "L***@Example.CN"}
    assert audit[0].after == {"external_ref": "old-1", "contact": masked}
    assert [row.member_id for row in audit] == [1, 1]
    assert audit[1].prev_hash == audit[0].hash
    assert (length, chain_break) == (2, None)


async def test_sqlite_migration_encrypts_existing_contact_data_and_chains_existing_audit_rows(
    tmp_path: Path,
) -> None:
    await existing_rows_are_encrypted_and_chained(f"sqlite+aiosqlite:///{tmp_path / 'existing.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_UNREACHABLE is not None, reason=POSTGRES_UNREACHABLE or "")
async def test_postgres_migration_encrypts_existing_contact_data_and_chains_existing_audit_rows() -> None:
    url = make_url(TEST_DATABASE_URL).set(database=f"{make_url(TEST_DATABASE_URL).database}_existing")
    name = url.database
    conn = await asyncpg.connect(server_dsn(TEST_DATABASE_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await existing_rows_are_encrypted_and_chained(url.render_as_string(hide_password=False))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def test_existing_contact_data_without_keys_stops_the_migration(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no-keys.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), BEFORE_AUDIT_PRIVACY)
    database = create_database(url)
    try:
        async with database.write_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO members (id, external_ref, status, referral_code, tags, phone, enrolled_at) "
                    "VALUES (1, 'old-1', 'ACTIVE', 'OLD1', '[]', :phone, :at)"
                ),
                {"phone": PHONE, "at": AT},
            )
    finally:
        await database.dispose()

    with pytest.raises(RuntimeError, match="PERSONAL_DATA_KEYS"):
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
