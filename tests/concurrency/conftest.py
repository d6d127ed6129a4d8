"""Races through the real app: many requests fired with asyncio.gather over ONE shared httpx client
(ASGITransport), so they run as concurrent database transactions through the connection pool.

`pg_arena` is PostgreSQL only (skipped, with the reason, when none is reachable); `sqlite_arena` is
the embedded database with the app's own engine setup (BEGIN IMMEDIATE, one writer connection).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.builders import Scenario
from tests.conftest import Backend, GraphQLClient, Tokens, _Backends, clean, make_client, settings_for

OK = "OK"


@dataclass
class Arena:
    backend: Backend
    http: httpx.AsyncClient
    given: Scenario
    tokens: Tokens

    async def fire(self, requests: Sequence[tuple[str, dict[str, Any], str]]) -> list[Reply]:
        """Send every (query, variables, token) at once and wait for all the answers."""
        return list(await asyncio.gather(*(self._send(*request) for request in requests)))

    async def _send(self, query: str, variables: dict[str, Any], token: str) -> Reply:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        return Reply(response.status_code, response.text)

    async def scalar(self, sql: str, **params: object) -> int:
        async with self.backend.database.read_engine.connect() as conn:
            return int((await conn.execute(text(sql), params)).scalar_one() or 0)

    async def row_counts(self, *tables: str) -> dict[str, int]:
        return {table: await self.scalar(f"SELECT count(*) FROM {table}") for table in tables}


@dataclass(frozen=True)
class Reply:
    status: int
    text: str

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.text)

    def payload(self, field: str) -> dict[str, Any] | None:
        if self.status != 200:
            return None
        body = self.body
        if body.get("errors") or not body.get("data"):
            return None
        return body["data"][field]

    def outcome(self, field: str) -> str:
        """OK, the business error code, or UNEXPECTED: ... for anything else (HTTP or GraphQL errors)."""
        payload = self.payload(field)
        if payload is None:
            return f"UNEXPECTED: HTTP {self.status} {self.text[:300]}"
        if payload["errors"]:
            return str(payload["errors"][0]["code"])
        return OK


def outcomes(replies: Sequence[Reply], field: str) -> Counter[str]:
    return Counter(reply.outcome(field) for reply in replies)


def assert_no_lock_errors(replies: Sequence[Reply]) -> None:
    locked = [r.text for r in replies if "database is locked" in r.text.lower()]
    assert locked == [], f"{len(locked)} responses mention a locked database: {locked[:1]}"


async def _arena(backend: Backend) -> AsyncIterator[Arena]:
    settings = settings_for(backend.url)
    tokens = Tokens(settings)
    async with make_client(settings, backend.database) as http:
        yield Arena(backend, http, Scenario(GraphQLClient(http), tokens), tokens)


@pytest.fixture
async def pg_arena(pg_backend: Backend) -> AsyncIterator[Arena]:
    async for arena in _arena(pg_backend):
        yield arena


@pytest.fixture
async def sqlite_arena(backends: _Backends) -> AsyncIterator[Arena]:
    backend = await backends.get("sqlite")
    await clean(backend.database)
    async for arena in _arena(backend):
        yield arena


# The two races both databases must get exactly right.

REDEEM = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) { redemption { id points } errors { code field message } }
}"""


@dataclass(frozen=True)
class RaceResult:
    outcomes: Counter[str]
    replies: list[Reply]
    balance: dict[str, int]
    stock: int | None


async def redeem_race(
    arena: Arena, *, funded: int, cost: int, stock: int | None, attempts: int
) -> RaceResult:
    """A member funded with exactly `funded` points fires `attempts` redemptions at once, each with its
    own idempotency key, at one reward."""
    given = arena.given
    member = await given.funded_member(funded)
    reward = await given.reward("Race prize", cost_points=cost, stock=stock)
    token = arena.tokens.member(member.raw)
    replies = await arena.fire(
        [
            (REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": f"race-{i}"}}, token)
            for i in range(attempts)
        ]
    )
    stock_left = None
    if stock is not None:
        stock_left = await arena.scalar("SELECT stock FROM rewards WHERE id = :id", id=reward.raw)
    return RaceResult(outcomes(replies, "redeemReward"), replies, await given.balance(member), stock_left)
