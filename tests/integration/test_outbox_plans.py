"""The worker's reads of the outbox use the partial indexes that hold only what waits, on both
databases, and on PostgreSQL also in a prepared statement's generic plan (which a connection may
settle on after a few runs). Each statement the worker runs is captured and explained over a
table of 20,000 events already handled and delivered, with a few new ones."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.delivery import SqlDeliveryStore
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.conftest import Backend

HANDLED = 20_000
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _fill(backend: Backend) -> None:
    postgres = backend.is_postgres
    series = (
        "SELECT g FROM generate_series(1, :n) AS g"
        if postgres
        else "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) SELECT g FROM s"
    )
    yes = "true" if postgres else "1"
    uuid = "md5(g::text)" if postgres else "printf('%036d', g)"
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO webhook_subscriptions (id, transport, url, event_types, owner_kind, secret, "
                "status, created_at, updated_at) VALUES (1, 'WEBHOOK', 'http://127.0.0.1:9/', '[]', "
                "'APP', 'unused', 'ACTIVE', :at, :at)"
            ),
            {"at": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO outbox_events (id, event_id, type, version, member_id, occurred_at, payload, "
                f"dispatched, reacted) SELECT g, {uuid}, 'purchase.posted', 1, g % 500, :at, '{{}}', "
                f"{yes}, {yes} FROM ({series}) AS s"
            ),
            {"n": HANDLED, "at": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO webhook_deliveries (event_seq, subscription_id, member_id, status, attempts, "
                "next_attempt_at, created_at) SELECT g, 1, g % 500, 'DELIVERED', 1, :at, :at "
                f"FROM ({series}) AS s"
            ),
            {"n": HANDLED, "at": NOW},
        )
        if postgres:  # the ids given above: new events are numbered after them
            await conn.execute(text("SELECT setval('outbox_events_id_seq', :n)"), {"n": HANDLED})
        await conn.execute(text("ANALYZE"))


async def _statements(engine: AsyncEngine, work: Callable[[], Awaitable[Any]]) -> list[tuple[str, Any]]:
    """The SELECTs `work` ran, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM" in statement.upper():
            seen.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await work()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    return seen


def _sql_literal(value: Any) -> str:
    """A parameter as the SQL text EXECUTE takes (it binds none); PREPARE's types convert it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


async def _plans(backend: Backend, statements: list[tuple[str, Any]]) -> str:
    async with backend.database.write_engine.connect() as conn:
        plans = []
        for statement, params in statements:
            if not backend.is_postgres:
                rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(params))
                plans.append("\n".join(str(row[-1]) for row in rows))
                continue
            # PREPARE with a forced generic plan: the parameters are unknown when it is planned.
            await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            await conn.exec_driver_sql(f"PREPARE plan_check AS {statement}")
            try:
                args = ", ".join(_sql_literal(p) for p in params)
                explain = "EXPLAIN EXECUTE plan_check" + (f"({args})" if args else "")
                rows = await conn.exec_driver_sql(explain)
                plans.append("\n".join(str(row[-1]) for row in rows))
            finally:  # a session's prepared statements outlive the transaction
                await conn.exec_driver_sql("DEALLOCATE plan_check")
        await conn.rollback()
    return "\n".join(plans)


@pytest.fixture
async def filled(backend: Backend) -> Backend:
    await _fill(backend)
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox_events (event_id, type, version, member_id, occurred_at, payload) "
                "VALUES ('new-1', 'purchase.posted', 1, 7, :at, '{}'), "
                "('new-2', 'purchase.posted', 1, 8, :at, '{}')"
            ),
            {"at": NOW},
        )
    return backend


def _reads_whole(backend: Backend, table: str, plans: str) -> bool:
    """A plan line that reads every row of `table` (SQLite's `SCAN t USING INDEX i` reads the index)."""
    if backend.is_postgres:
        return f"Seq Scan on {table}" in plans
    return re.search(rf"^SCAN {table}( AS \w+)?$", plans, re.MULTILINE) is not None


async def test_finding_new_events_reads_the_undispatched_index(filled: Backend) -> None:
    store = SqlDeliveryStore(filled.database.write_engine)
    ran = await _statements(filled.database.write_engine, lambda: store.dispatch(NOW))
    plans = await _plans(filled, [s for s in ran if "outbox_events" in s[0]])

    assert "ix_outbox_events_undispatched" in plans, plans
    assert not _reads_whole(filled, "outbox_events", plans), plans


async def test_the_oldest_waiting_event_is_read_from_the_partial_indexes(filled: Backend) -> None:
    store = SqlDeliveryStore(filled.database.write_engine)
    ran = await _statements(filled.database.write_engine, store.oldest_waiting)
    plans = await _plans(filled, ran)

    assert "ix_outbox_events_undispatched" in plans, plans
    assert "ix_webhook_deliveries_" in plans, plans
    assert not _reads_whole(filled, "outbox_events", plans), plans
    assert not _reads_whole(filled, "webhook_deliveries", plans), plans


async def test_claiming_due_deliveries_reads_the_pending_indexes(filled: Backend) -> None:
    store = SqlDeliveryStore(filled.database.write_engine)
    ran = await _statements(filled.database.write_engine, lambda: store.claim(NOW, 100, 30.0))
    plans = await _plans(filled, ran)

    assert "ix_webhook_deliveries_" in plans, plans  # due, or each member's order: both hold only PENDING
    assert not _reads_whole(filled, "webhook_deliveries", plans), plans


async def test_reactions_read_the_unreacted_index(filled: Backend) -> None:
    async def unreacted() -> None:
        async with SqlAlchemyUnitOfWork(filled.database.write_engine) as uow:
            await uow.triggers.unreacted(100)

    ran = await _statements(filled.database.write_engine, unreacted)
    plans = await _plans(filled, [s for s in ran if "outbox_events" in s[0]])

    assert "ix_outbox_events_unreacted" in plans, plans
    assert not _reads_whole(filled, "outbox_events", plans), plans
