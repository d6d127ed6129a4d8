"""An unexpected error is masked for the client and logged with the request id, and the log line
never carries what a failed statement was given: no SQL parameters, no row PostgreSQL quotes back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from api.safe_traceback import safe_traceback
from persistence.engine import Database, create_database
from persistence.queries.read_model import SqlReadModel
from tests.builders import Scenario
from tests.conftest import Backend

PHONE = "+86 138 0013 8000"
EMAIL = "li.na.4711@example.com"

FAILING = {
    # A NOT NULL violation: PostgreSQL's DETAIL quotes the whole row ("Failing row contains ...").
    "constraint": (
        "INSERT INTO members (phone, email) VALUES (:phone, :email)",
        {"phone": PHONE, "email": EMAIL},
    ),
    # A parameter the driver cannot encode: asyncpg quotes it in its message.
    "encoding": ("SELECT id FROM members WHERE id = :phone", {"phone": PHONE}),
}


@pytest.fixture
async def side_database(backend: Backend) -> AsyncIterator[Database]:
    """Engines made as the server makes them, apart from the test's: a failed statement can leave a
    connection in a state the after-test ledger check should not inherit."""
    database = create_database(backend.url, pool_size=1, max_overflow=0)
    yield database
    await database.dispose()


@pytest.mark.parametrize("case", sorted(FAILING))
async def test_a_failed_statement_is_logged_without_its_data(
    given: Scenario,
    backend: Backend,
    side_database: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    if case == "encoding" and not backend.is_postgres:
        pytest.skip("SQLite compares any value with an integer and fails nothing")
    statement, params = FAILING[case]

    async def failing_tiers(self: SqlReadModel) -> Any:
        async with side_database.read_engine.connect() as conn:
            await conn.execute(text(statement), params)
        raise AssertionError("the statement was expected to fail")

    monkeypatch.setattr(SqlReadModel, "tiers", failing_tiers)
    caplog.set_level(logging.DEBUG)

    answer = await given.gql.http.post(
        "/graphql",
        json={"query": "{ tiers { name } }"},
        headers={"Authorization": f"Bearer {given.admin}", "X-Request-ID": "req-logs-1"},
    )

    assert answer.json()["errors"][0]["message"] == "Unexpected error."
    logged = [r for r in caplog.records if r.name == "loyalty.api" and r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert "request_id=req-logs-1" in logged[0].getMessage()
    # Still says what failed: the statement as written, with its placeholders.
    assert "[SQL: " in logged[0].getMessage()
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for value in (PHONE, EMAIL, PHONE.replace(" ", ""), "li.na.4711"):
        assert value not in everything


class FakeDriverError(Exception):
    """Shaped like asyncpg's errors: a module of the driver, a SQLSTATE and a constraint name."""

    sqlstate = "23505"
    constraint_name = "uq_members_email"


FakeDriverError.__module__ = "asyncpg.exceptions"


def test_the_safe_traceback_keeps_our_messages_and_hides_the_database_ones() -> None:
    def store() -> None:
        try:
            raise FakeDriverError(f"Key (email)=({EMAIL}) already exists.")
        except FakeDriverError as exc:
            raise RuntimeError("could not enrol member 42") from exc

    try:
        try:
            store()
        except RuntimeError:
            raise KeyError("while reporting") from None
    except KeyError as exc:
        hidden_context = safe_traceback(exc)
    try:
        store()
    except RuntimeError as exc:
        logged = safe_traceback(exc)

    assert EMAIL not in logged
    assert "asyncpg.exceptions.FakeDriverError: (message hidden" in logged
    assert "sqlstate=23505 constraint_name=uq_members_email" in logged
    assert "The above exception was the direct cause of the following exception:" in logged
    assert logged.endswith("RuntimeError: could not enrol member 42")
    assert ", in store" in logged, "the frames are kept"
    # `from None` suppresses the context, as Python's own traceback does.
    assert hidden_context.count("Traceback (most recent call last):") == 1
    assert hidden_context.endswith("KeyError: 'while reporting'")
