"""The audit log: what is in it, who reads it (`auditLog`), append-only on both databases, and a hash
chain that verify-ledger checks, naming the first row an attacker with database access altered."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from domain.clock import FixedClock
from persistence.audit_chain import (
    PG_DISABLE_TRIGGER,
    PG_ENABLE_TRIGGER,
    SQLITE_DROP_TRIGGERS,
    SQLITE_TRIGGERS,
)
from persistence.queries.ledger_check import ViolationKind, check_ledger
from persistence.tables import audit_chain, audit_log
from scripts.verify_ledger import run as verify_ledger_script
from tests.builders import Ids, Scenario
from tests.conftest import Backend, settings_for

AUDIT = """query($first: Int, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    edges {
      node { id actor action targetType targetId memberId before after requestId occurredAt prevHash hash }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def actions(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["action"] for edge in page["auditLog"]["edges"]]


async def three_audited_actions(given: Scenario) -> tuple[Ids, Ids]:
    """enrollMember (alice), enrollMember (bob), adjustPoints (alice)."""
    alice = await given.member("alice")
    bob = await given.member("bob")
    assert (await given.adjust(alice, 100, "k1"))["errors"] == []
    return alice, bob


async def test_admins_read_the_audit_log_newest_first_in_pages(given: Scenario) -> None:
    alice, bob = await three_audited_actions(given)

    first = await given.gql.data(AUDIT, {"first": 2}, given.admin)
    rest = await given.gql.data(
        AUDIT, {"first": 2, "after": first["auditLog"]["pageInfo"]["endCursor"]}, given.admin
    )

    assert actions(first) == ["adjustPoints", "enrollMember"]
    assert actions(rest) == ["enrollMember"]
    assert first["auditLog"]["pageInfo"]["hasNextPage"] is True
    assert rest["auditLog"]["pageInfo"]["hasNextPage"] is False
    newest = first["auditLog"]["edges"][0]["node"]
    assert (newest["actor"], newest["targetType"], newest["memberId"]) == ("admin@test", "Member", alice.gid)
    assert newest["after"]["available"] == 100
    oldest = rest["auditLog"]["edges"][0]["node"]
    # The chain as the API shows it: each row names the hash of the row before.
    assert oldest["prevHash"] == "0" * 64
    assert first["auditLog"]["edges"][1]["node"]["prevHash"] == oldest["hash"]
    assert newest["prevHash"] == first["auditLog"]["edges"][1]["node"]["hash"]
    assert first["auditLog"]["edges"][1]["node"]["memberId"] == bob.gid


async def test_the_audit_log_filters_by_actor_action_member_and_time(given: Scenario) -> None:
    alice, _ = await three_audited_actions(given)
    other_admin = given.tokens.admin("ops@test")
    assert (
        await given.gql.data(
            "mutation($i: LockMemberInput!) { lockMember(input: $i) { errors { code } } }",
            {"i": {"memberId": alice.gid, "reason": "checking"}},
            other_admin,
        )
    )["lockMember"]["errors"] == []
    everything = await given.gql.data(AUDIT, {}, given.admin)
    times = [datetime.fromisoformat(e["node"]["occurredAt"]) for e in everything["auditLog"]["edges"]]

    by_actor = await given.gql.data(AUDIT, {"filter": {"actor": "ops@test"}}, given.admin)
    by_action = await given.gql.data(AUDIT, {"filter": {"action": "enrollMember"}}, given.admin)
    by_member = await given.gql.data(AUDIT, {"filter": {"memberId": alice.gid}}, given.admin)
    since_third = await given.gql.data(AUDIT, {"filter": {"from": times[1].isoformat()}}, given.admin)
    before_second = await given.gql.data(AUDIT, {"filter": {"to": times[2].isoformat()}}, given.admin)
    nothing = await given.gql.data(
        AUDIT, {"filter": {"from": (times[0] + timedelta(seconds=1)).isoformat()}}, given.admin
    )

    assert actions(by_actor) == ["lockMember"]
    assert actions(by_action) == ["enrollMember", "enrollMember"]
    assert actions(by_member) == ["lockMember", "adjustPoints", "enrollMember"]
    assert actions(since_third) == ["lockMember", "adjustPoints"]
    assert actions(before_second) == ["enrollMember"]
    assert actions(nothing) == []


async def test_only_admins_read_the_audit_log(given: Scenario) -> None:
    member = await given.member()
    merchant = await given.merchant()

    for token in (
        given.tokens.member(member.raw),
        given.tokens.merchant(merchant.raw),
        given.tokens.partner(1),
    ):
        refused = await given.gql.post(AUDIT, {}, token)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await given.gql.post(AUDIT, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_member_id_that_is_not_a_member_is_bad_input(given: Scenario) -> None:
    merchant = await given.merchant()

    answer = await given.gql.post(AUDIT, {"filter": {"memberId": merchant.gid}}, given.admin)

    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- append-only and the chain -----------------------------------------------------------------


async def test_the_database_refuses_to_update_or_delete_audit_rows(backend: Backend, given: Scenario) -> None:
    await three_audited_actions(given)

    for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with backend.database.write_engine.begin() as conn:
                await conn.execute(text(statement))

    assert await check_ledger(backend.database.read_engine) == []
    async with backend.database.read_engine.connect() as conn:
        assert (await conn.execute(select(audit_chain.c.length))).scalar_one() == 3


async def tamper(backend: Backend, statement: str) -> None:
    """What an attacker with database access does: lift the triggers, change the table."""
    async with backend.database.write_engine.begin() as conn:
        if backend.database.is_sqlite:
            for drop in SQLITE_DROP_TRIGGERS:
                await conn.execute(text(drop))
            await conn.execute(text(statement))
            for create in SQLITE_TRIGGERS:
                await conn.execute(text(create))
        else:
            await conn.execute(text(PG_DISABLE_TRIGGER))
            await conn.execute(text(statement))
            await conn.execute(text(PG_ENABLE_TRIGGER))


async def audit_ids(backend: Backend) -> list[int]:
    async with backend.database.read_engine.connect() as conn:
        return list((await conn.execute(select(audit_log.c.id).order_by(audit_log.c.id))).scalars())


@pytest.mark.partial_ledger
async def test_verify_ledger_names_the_first_altered_audit_row(backend: Backend, given: Scenario) -> None:
    await three_audited_actions(given)
    _, second, third = await audit_ids(backend)
    # The adjustment's row now says 1,000 points: its JSON no longer gives its hash.
    await tamper(
        backend,
        f"UPDATE audit_log SET after = '{{\"available\": 1000}}' WHERE id = {third}",
    )
    await tamper(backend, f"UPDATE audit_log SET actor = 'intruder' WHERE id = {second}")

    violations = await check_ledger(backend.database.read_engine)
    out = io.StringIO()
    status = await verify_ledger_script(backend.url, out=out)

    [violation] = violations  # the walk stops at the first break
    assert violation.kind is ViolationKind.AUDIT_ROW_ALTERED
    assert violation.audit_id == second
    assert status == 1
    assert f"AUDIT_ROW_ALTERED: audit row {second} was altered" in out.getvalue()
    assert "audit rows" in out.getvalue()


@pytest.mark.partial_ledger
async def test_a_row_removed_from_the_middle_breaks_the_chain_at_the_next_row(
    backend: Backend, given: Scenario
) -> None:
    await three_audited_actions(given)
    _, second, third = await audit_ids(backend)

    await tamper(backend, f"DELETE FROM audit_log WHERE id = {second}")

    [violation] = await check_ledger(backend.database.read_engine)
    assert (violation.kind, violation.audit_id) == (ViolationKind.AUDIT_CHAIN_BROKEN, third)


@pytest.mark.partial_ledger
async def test_rows_cut_from_the_end_are_noticed_by_the_chains_head(
    backend: Backend, given: Scenario
) -> None:
    await three_audited_actions(given)
    *_, third = await audit_ids(backend)

    await tamper(backend, f"DELETE FROM audit_log WHERE id = {third}")

    [violation] = await check_ledger(backend.database.read_engine)
    assert violation.kind is ViolationKind.AUDIT_HEAD_MISMATCH
    assert "names 3 rows" in violation.message
    assert "holds 2" in violation.message


async def test_a_sound_chain_passes_verify_ledger(backend: Backend, given: Scenario) -> None:
    await three_audited_actions(given)
    out = io.StringIO()

    status = await verify_ledger_script(backend.url, out=out)

    assert status == 0, out.getvalue()
    assert "3 audit rows" in out.getvalue()


# --- security events ----------------------------------------------------------------------------


async def test_a_guessing_lockout_is_in_the_audit_log_and_in_security_events(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    settings = settings_for(
        backend.url, guess_max_failures=2, guess_window_seconds=60, guess_cooldown_seconds=60
    )
    authorize = """mutation($input: AuthorizeRedemptionInput!) {
      authorizeRedemption(input: $input) { errors { code } } }"""
    app = create_app(settings, backend.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        for i in range(3):
            await http.post(
                "/graphql",
                json={
                    "query": authorize,
                    "variables": {"input": {"code": "2345678923", "points": 1, "idempotencyKey": f"g{i}"}},
                },
                headers={"Authorization": f"Bearer {given.tokens.merchant(merchant.raw)}"},
            )

    audit = await given.gql.data(AUDIT, {"filter": {"action": "security.guessing_lockout"}}, given.admin)
    events = await given.gql.data("query { securityEvents { edges { node { kind } } } }", None, given.admin)

    [row] = [e["node"] for e in audit["auditLog"]["edges"]]
    assert (row["actor"], row["targetType"], row["targetId"]) == (f"merchant:pos-{merchant.raw}", "Caller", 0)
    assert row["after"] == {
        "secret": "REDEMPTION_CODE",
        "clientAddress": "127.0.0.1",
        "failures": 2,
        "cooldownSeconds": 60,
    }
    assert [e["node"]["kind"] for e in events["securityEvents"]["edges"]] == ["GUESSING_LOCKOUT"]


async def test_a_flood_of_rate_limit_refusals_is_two_audit_rows_per_caller_and_minute(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    rates = {**settings_for(backend.url).rate_limits, "member": "2/day"}
    clock = FixedClock(datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC))
    app = create_app(settings_for(backend.url, rate_limits=rates), backend.database, clock)
    headers = {"Authorization": f"Bearer {given.tokens.member(member.raw)}"}
    limited = {"filter": {"action": "security.rate_limited"}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        statuses = [
            (await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)).status_code
            for _ in range(40)
        ]
        written_at_once = await given.gql.data(AUDIT, limited, given.admin)
        # The next minute's first refusal writes the count of the minute before.
        clock.at += timedelta(minutes=1)
        await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        await app.state.refusals.flush()

    rows = await given.gql.data(AUDIT, limited, given.admin)

    assert statuses == [200, 200] + [429] * 38
    assert [e["node"]["after"]["count"] for e in written_at_once["auditLog"]["edges"]] == [1]
    counts = [(e["node"]["actor"], e["node"]["after"]["count"]) for e in rows["auditLog"]["edges"]]
    principal = f"member:member-{member.raw}"
    # Newest first: the new minute's first refusal, the 37 that followed the first, the first.
    assert counts == [(principal, 1), (principal, 37), (principal, 1)]
    assert sum(count for _, count in counts) == 39


async def test_refused_tokens_are_audited_by_address(backend: Backend, given: Scenario) -> None:
    app = create_app(settings_for(backend.url), backend.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        for header in ("Bearer not-a-token", "Bearer another.bad.token", "Basic dXNlcjpwdw=="):
            answer = await http.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": header}
            )
            assert answer.status_code == 200
        await app.state.refusals.flush()

    rows = await given.gql.data(AUDIT, {"filter": {"action": "security.token_refused"}}, given.admin)

    counts = [(e["node"]["actor"], e["node"]["after"]["count"]) for e in rows["auditLog"]["edges"]]
    assert counts == [("anonymous:127.0.0.1", 2), ("anonymous:127.0.0.1", 1)]
    assert "not-a-token" not in str(rows)


@pytest.mark.partial_ledger
async def test_an_emptied_audit_log_is_noticed(backend: Backend, given: Scenario) -> None:
    await three_audited_actions(given)

    if backend.database.is_sqlite:
        await tamper(backend, "DELETE FROM audit_log")
    else:  # TRUNCATE fires no row trigger: the head still tells
        async with backend.database.write_engine.begin() as conn:
            await conn.execute(text("TRUNCATE audit_log"))

    [violation] = await check_ledger(backend.database.read_engine)
    assert violation.kind is ViolationKind.AUDIT_HEAD_MISMATCH
    assert "holds 0" in violation.message
