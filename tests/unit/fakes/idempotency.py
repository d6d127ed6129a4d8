"""Stored answers to requests."""

from __future__ import annotations

import json
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
        self.t.idempotency[(scope, key)] = IdempotencyRow(request_hash, json.loads(json.dumps(response)))
        return None

    async def stored(self, scope: str, key: str) -> StoredResponse | None:
        row = self.t.idempotency.get((scope, key))
        return None if row is None else StoredResponse(row.request_hash, row.response)
