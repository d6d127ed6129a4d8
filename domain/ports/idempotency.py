"""Stored answers to requests, so a repeated request gets the first answer."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    response: dict[str, object]


class IdempotencyStore(Protocol):
    async def record(
        self, scope: str, key: str, request_hash: str, response: dict[str, object], at: datetime
    ) -> StoredResponse | None:
        """Store this answer under (scope, key) in the current transaction, or return the answer
        stored first. Must be atomic (a unique constraint, not check-then-insert): a concurrent
        record of the same key waits for the first transaction, and gets its answer once it commits."""
        ...

    async def stored(self, scope: str, key: str) -> StoredResponse | None: ...

    async def claim_many(
        self, scope: str, claims: Sequence[tuple[str, str, dict[str, object]]], at: datetime
    ) -> set[str]:
        """Claim (key, request hash, response) rows at once; returns the keys that were new."""
        ...

    async def hashes(self, scope: str, keys: Collection[str]) -> dict[str, str]: ...
    async def release_many(self, scope: str, keys: Collection[str]) -> None: ...
