"""DataLoaders: a page of N members costs the same number of statements whatever N is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.builders import Scenario
from tests.conftest import Backend

PAGE = """query { members(first: 50) { edges { node {
  externalRef balance { available expiringSoon { points } }
} } } }"""


async def selects_for(backend: Backend, given: Scenario, query: str = PAGE) -> tuple[int, dict[str, Any]]:
    """The SELECT statements one admin query costs on the read engine, and its data."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = backend.database.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        data = await given.gql.data(query, token=given.admin)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements), data


async def count_statements(backend: Backend, given: Scenario) -> int:
    count, data = await selects_for(backend, given)
    assert data["members"]["edges"]
    return count


async def test_member_page_costs_constant_statements(given: Scenario, backend: Backend) -> None:
    merchant = await given.merchant()
    for i in range(3):
        member = await given.member()
        await given.purchase(merchant, member, 1_000, key=f"k{i}")
    small = await count_statements(backend, given)

    for i in range(12):
        member = await given.member()
        await given.purchase(merchant, member, 1_000, key=f"more{i}")
    large = await count_statements(backend, given)

    assert small == large == 3  # members page, balances batch, expiring-lots batch
