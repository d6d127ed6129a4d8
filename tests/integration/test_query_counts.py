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


async def test_node_ids_of_one_type_in_one_request_are_one_batch(given: Scenario, backend: Backend) -> None:
    merchant = await given.merchant()
    members = [await given.member() for _ in range(4)]
    for i, member in enumerate(members):
        await given.purchase(merchant, member, 1_000, key=f"k{i}")

    def nodes(ids: list[str]) -> str:
        fields = " ".join(f'n{i}: node(id: "{gid}") {{ id }}' for i, gid in enumerate(ids))
        return f"query {{ {fields} }}"

    one, data = await selects_for(backend, given, nodes([members[0].gid]))
    assert data == {"n0": {"id": members[0].gid}}

    # Members in reverse order, one of them asked twice: each answer its own, all in one statement.
    ids = [m.gid for m in reversed(members)] + [members[1].gid]
    many, data = await selects_for(backend, given, nodes(ids))
    assert data == {f"n{i}": {"id": gid} for i, gid in enumerate(ids)}

    assert one == many == 1  # members with their balances
