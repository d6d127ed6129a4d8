"""Stored answers to requests."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime

from domain.ports import StoredResponse
from tests.unit.fakes.database import IdempotencyRow, Repository


class FakeIdempotencyStore(Repository):
    async def record(
        self, scope: str, key: str, request_hash: str, response: dict[str, object], at: datetime
    ) -> StoredResponse | None:
        if (earlier := await self.stored(scope, key)) is not None:
            return earlier
        # Stored as JSON by the real store: a response that does not survive the round trip fails here.
        self.t.idempotency[(scope, key)] = IdempotencyRow(request_hash, json.loads(json.dumps(response)), at)
        return None

    async def stored(self, scope: str, key: str) -> StoredResponse | None:
        row = self.t.idempotency.get((scope, key))
        return None if row is None else StoredResponse(row.request_hash, row.response)

    async def claim_many(
        self, scope: str, claims: Sequence[tuple[str, str, dict[str, object]]], at: datetime
    ) -> set[str]:
        new = set()
        for key, request_hash, response in claims:
            if await self.record(scope, key, request_hash, response, at) is None:
                new.add(key)
        return new

    async def hashes(self, scope: str, keys: Collection[str]) -> dict[str, str]:
        return {
            key: row.request_hash for key in keys if (row := self.t.idempotency.get((scope, key))) is not None
        }

    async def release_many(self, scope: str, keys: Collection[str]) -> None:
        for key in keys:
            self.t.idempotency.pop((scope, key), None)
