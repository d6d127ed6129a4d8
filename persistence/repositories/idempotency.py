"""Idempotency records: INSERT ... ON CONFLICT DO NOTHING on the unique (scope, key), in the same
transaction as the work. A concurrent retry's insert waits for the first transaction and then
conflicts, so only one effect commits (check-then-insert ran 50 of 50 concurrent retries).

On PostgreSQL the record's statement also writes the work's pending outbox events (EVENTS_CTE): the
record is the last statement before COMMIT, and a conflict rolls the whole transaction back."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ports import StoredResponse
from persistence.repositories.outbox import EVENTS_CTE, SqlOutbox
from persistence.tables import idempotency_keys
from telemetry.metrics import count_replay


def _claim(insert: Callable[[Table], Any]) -> Any:
    return (
        insert(idempotency_keys)
        .values(
            scope=bindparam("scope"),
            key=bindparam("key"),
            request_hash=bindparam("request_hash"),
            response=bindparam("response"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(idempotency_keys.c.key)
    )


def _claim_many(insert: Callable[[Table], Any]) -> Any:
    return (
        insert(idempotency_keys)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(idempotency_keys.c.key)
    )


# Built once: each use skips building the statement and computing its cache key.
_CLAIM = {"postgresql": _claim(postgresql.insert), "sqlite": _claim(sqlite.insert)}
_CLAIM_MANY_SQLITE = _claim_many(sqlite.insert)
_HASHES = select(idempotency_keys.c.key, idempotency_keys.c.request_hash).where(
    idempotency_keys.c.scope == bindparam("b_scope"),
    idempotency_keys.c.key.in_(bindparam("b_keys", expanding=True)),
)
_RELEASE = delete(idempotency_keys).where(
    idempotency_keys.c.scope == bindparam("b_scope"),
    idempotency_keys.c.key.in_(bindparam("b_keys", expanding=True)),
)
_CLAIM_MANY_PG = text(
    """
    INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
    SELECT :scope, c.key, c.digest, CAST(c.response AS JSON), :at
    FROM unnest(CAST(:keys AS VARCHAR[]), CAST(:digests AS VARCHAR[]), CAST(:responses AS TEXT[]))
         AS c(key, digest, response)
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING key
    """
)
_CLAIM_WITH_EVENTS = text(
    f"""
    WITH {EVENTS_CTE}
    INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
    VALUES (:scope, :key, :request_hash, CAST(:response AS JSON), :created_at)
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING key
    """
)
_STORED = select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
    idempotency_keys.c.scope == bindparam("b_scope"), idempotency_keys.c.key == bindparam("b_key")
)


class SqlIdempotencyStore:
    def __init__(self, conn: AsyncConnection, outbox: SqlOutbox | None = None) -> None:
        self.conn = conn
        self.outbox = outbox  # whose pending events the record writes, on PostgreSQL

    async def record(
        self, scope: str, key: str, request_hash: str, response: dict[str, object], at: datetime
    ) -> StoredResponse | None:
        params = {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "response": response,
            "created_at": at,
        }
        dialect = self.conn.dialect.name
        events = self.outbox.take() if self.outbox is not None and dialect == "postgresql" else None
        if events is None:
            claim = _CLAIM[dialect]
        else:
            claim = _CLAIM_WITH_EVENTS
            params = {**params, "response": json.dumps(response), **events}
        if (await self.conn.execute(claim, params)).first() is not None:
            return None
        earlier = await self.stored(scope, key)
        if earlier is None:
            raise RuntimeError(f"idempotency key {scope}/{key} conflicted but is not stored")
        count_replay(key_reused=earlier.request_hash != request_hash)
        return earlier

    async def stored(self, scope: str, key: str) -> StoredResponse | None:
        row = (await self.conn.execute(_STORED, {"b_scope": scope, "b_key": key})).first()
        return StoredResponse(row.request_hash, row.response) if row else None

    async def claim_many(
        self, scope: str, claims: Sequence[tuple[str, str, dict[str, object]]], at: datetime
    ) -> set[str]:
        if not claims:
            return set()
        if self.conn.dialect.name == "postgresql":
            # One statement over arrays: no per-row parameter handling on this side.
            keys, digests, responses = zip(*claims, strict=True)
            params = {
                "scope": scope,
                "keys": list(keys),
                "digests": list(digests),
                "responses": [json.dumps(r) for r in responses],
                "at": at,
            }
            return set((await self.conn.execute(_CLAIM_MANY_PG, params)).scalars())
        rows = await self.conn.execute(
            _CLAIM_MANY_SQLITE,
            [
                {"scope": scope, "key": key, "request_hash": digest, "response": response, "created_at": at}
                for key, digest, response in claims
            ],
        )
        return set(rows.scalars())

    async def hashes(self, scope: str, keys: Collection[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = await self.conn.execute(_HASHES, {"b_scope": scope, "b_keys": list(keys)})
        return {row.key: row.request_hash for row in rows}

    async def release_many(self, scope: str, keys: Collection[str]) -> None:
        if keys:
            await self.conn.execute(_RELEASE, {"b_scope": scope, "b_keys": list(keys)})
