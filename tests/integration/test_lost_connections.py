"""A database connection that is gone, on both databases (and for real on PostgreSQL): a mutation
that failed before its commit is run again and succeeds; one whose COMMIT was cut off answers
OUTCOME_UNKNOWN, and a retry with the same key gives the change once; a database out of reach
answers UNAVAILABLE (a payload error for mutations, extensions.code for queries), never the masked
"Unexpected error."."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.settings import Settings
from tests.builders import ADJUST, Scenario
from tests.conftest import JWT_SECRET, Backend, GraphQLClient, Tokens, make_client, terminate_connections

BALANCE = "query($id: ID!) { member(id: $id) { balance { available } } }"


def dropped(statement: str) -> DBAPIError:
    """What SQLAlchemy raises when the server dropped the connection under a statement."""
    return DBAPIError(
        statement, None, ConnectionResetError("connection was closed"), connection_invalidated=True
    )


async def adjust(given: Scenario, member: Any, points: int, key: str) -> dict[str, Any]:
    variables = {
        "input": {"memberId": member.gid, "points": points, "reasonCode": "GOODWILL", "idempotencyKey": key}
    }
    body = await given.gql.post(ADJUST, variables, given.admin)
    return body  # type: ignore[no-any-return]


async def count(backend: Backend, sql: str) -> int:
    async with backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_a_commit_cut_off_answers_outcome_unknown_and_the_same_key_gives_the_change_once(
    backend: Backend, given: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await given.member()
    real_commit = AsyncConnection.commit
    cut: list[bool] = []

    async def commit_then_lose_the_answer(self: AsyncConnection) -> None:
        await real_commit(self)  # the change is made, but the client never hears so
        if not cut:
            cut.append(True)
            raise dropped("COMMIT")

    with monkeypatch.context() as patch:
        patch.setattr(AsyncConnection, "commit", commit_then_lose_the_answer)
        unknown = await adjust(given, member, 250, "adj-1")
    retried = await adjust(given, member, 250, "adj-1")

    payload = unknown["data"]["adjustPoints"]
    assert "errors" not in unknown
    assert (payload["adjustment"], [e["code"] for e in payload["errors"]]) == (None, ["OUTCOME_UNKNOWN"])
    assert retried["data"]["adjustPoints"]["errors"] == []
    assert retried["data"]["adjustPoints"]["adjustment"]["points"] == 250
    assert (await given.balance(member))["available"] == 250  # once, not twice
    assert await count(backend, "SELECT count(*) FROM adjustments") == 1


async def test_a_mutation_whose_connection_dropped_before_commit_is_run_again(
    backend: Backend, given: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await given.member()
    write_engine = backend.database.write_engine
    real_execute = AsyncConnection.execute
    failures = [1]

    async def drop_the_first_write(self: AsyncConnection, *args: Any, **kwargs: Any) -> Any:
        if self.engine is write_engine and failures[0]:
            failures[0] -= 1
            raise dropped("UPDATE")
        return await real_execute(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncConnection, "execute", drop_the_first_write)
        answer = await adjust(given, member, 40, "adj-1")

    assert failures == [0]
    assert "errors" not in answer
    payload = answer["data"]["adjustPoints"]
    assert payload["errors"] == []
    assert (payload["adjustment"]["points"], payload["member"]["balance"]["available"]) == (40, 40)
    assert (await given.balance(member))["available"] == 40


async def test_a_read_whose_connection_dropped_is_read_again(
    backend: Backend, given: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await given.funded_member(70)
    read_engine = backend.database.read_engine
    real_execute = AsyncConnection.execute
    failures = [1]

    async def drop_the_first_read(self: AsyncConnection, *args: Any, **kwargs: Any) -> Any:
        if self.engine is read_engine and failures[0]:
            failures[0] -= 1
            raise dropped("SELECT")
        return await real_execute(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncConnection, "execute", drop_the_first_read)
        body = await given.gql.post(BALANCE, {"id": member.gid}, given.admin)

    assert failures == [0]
    assert body == {"data": {"member": {"balance": {"available": 70}}}}


async def test_a_committed_adjustment_answers_its_member_with_no_read_after_the_commit(
    backend: Backend, given: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read side is out of reach for the whole request: the member and its balance in the
    answer are those the adjustment committed. A replay (same key) reads them afresh."""
    member = await given.funded_member(70)
    read_engine = backend.database.read_engine
    real_connect = AsyncEngine.connect

    def read_side_refused(self: AsyncEngine) -> Any:
        if self is read_engine:
            raise ConnectionRefusedError(111, "Connect call failed")
        return real_connect(self)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncEngine, "connect", read_side_refused)
        first = await adjust(given, member, 30, "adj-answer")

    assert "errors" not in first, first
    payload = first["data"]["adjustPoints"]
    assert payload["errors"] == []
    assert payload["adjustment"]["points"] == 30
    assert payload["member"] == {"balance": {"available": 100}}
    await given.adjust(member, 5, "adj-more")
    replay = (await adjust(given, member, 30, "adj-answer"))["data"]["adjustPoints"]
    assert replay["adjustment"] == payload["adjustment"]
    assert replay["member"] == {"balance": {"available": 105}}  # the member as it now stands


async def test_a_database_out_of_reach_answers_unavailable_and_changes_nothing(
    backend: Backend, given: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await given.funded_member(70)
    before = await count(backend, "SELECT count(*) FROM adjustments")
    database = backend.database
    real_connect = AsyncEngine.connect

    def refused(self: AsyncEngine) -> Any:
        if self in (database.write_engine, database.read_engine):
            raise ConnectionRefusedError(111, "Connect call failed")
        return real_connect(self)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncEngine, "connect", refused)
        mutation = await adjust(given, member, 5, "adj-down")
        query = await given.gql.post(BALANCE, {"id": member.gid}, given.admin)

    payload = mutation["data"]["adjustPoints"]
    assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
    assert payload["adjustment"] is None
    [error] = query["errors"]
    assert error["extensions"] == {"code": "UNAVAILABLE"}
    assert "Unexpected error" not in error["message"]
    # Not stored under the key: once the database is back the same request is made.
    assert await count(backend, "SELECT count(*) FROM adjustments") == before
    later = await adjust(given, member, 5, "adj-down")
    assert later["data"]["adjustPoints"]["errors"] == []
    assert (await given.balance(member))["available"] == 75


async def test_after_every_connection_is_terminated_the_next_query_and_mutation_succeed(
    pg_backend: Backend,
) -> None:
    settings = Settings(database_url=pg_backend.url, jwt_secret=JWT_SECRET)
    try:
        async with make_client(settings, pg_backend.database) as http:
            given = Scenario(GraphQLClient(http), Tokens(settings))
            member = await given.funded_member(100)
            # Pooled connections on both engines, then the server drops them all.
            await given.balance(member)
            assert await terminate_connections(pg_backend.url) >= 1

            query = await given.gql.post(BALANCE, {"id": member.gid}, given.admin)
            await terminate_connections(pg_backend.url)
            mutation = await adjust(given, member, 11, "after-kill")
    finally:
        await pg_backend.database.dispose()  # no dead connection left in the pools for later tests

    assert query == {"data": {"member": {"balance": {"available": 100}}}}
    assert "errors" not in mutation
    assert mutation["data"]["adjustPoints"]["errors"] == []
    assert mutation["data"]["adjustPoints"]["member"]["balance"]["available"] == 111
