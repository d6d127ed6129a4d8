"""One suite, two databases. The `backend` fixture runs a test on SQLite and on PostgreSQL; the
PostgreSQL run is skipped, with the reason shown, only when none is reachable at TEST_DATABASE_URL
(and fails instead when REQUIRE_POSTGRES=1, as in CI). The schema is made by the migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.auth import issue_token
from api.settings import DEFAULT_RATE_LIMITS, Settings
from domain.actors import Role
from domain.risk import RiskRule, default_rules
from persistence.audit_chain import GENESIS, SQLITE_DROP_TRIGGERS, SQLITE_TRIGGERS
from persistence.engine import Database, create_database
from persistence.migrate import upgrade_to_head_async
from persistence.personal_data import PersonalDataVault
from persistence.queries.ledger_check import check_ledger
from persistence.tables import Base, risk_rules

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/loyalty_test"
)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# Members' contact data in the test databases: fixed keys, like the JWT secret.
PERSONAL_DATA_KEYS = ("mW0c1o0b7R6mNwXo3JH0xg2yJ8qz7B1x4vU6tS5rQ9o=",)
PERSONAL_DATA_LOOKUP_KEY = "test-lookup-key-that-is-long-enough-0123456789"
TEST_VAULT = PersonalDataVault(PERSONAL_DATA_KEYS, PERSONAL_DATA_LOOKUP_KEY)
# Reference data the migrations seed; everything else is emptied between tests (the audit chain's
# head is reset to its start).
KEEP_TABLES = {"programme", "programme_currencies", "audit_chain"}


def server_dsn(url: str, database: str = "postgres") -> str:
    u = make_url(url).set(drivername="postgresql", database=database)
    return u.render_as_string(hide_password=False)


async def terminate_connections(url: str) -> int:
    """Every other connection to the database, cut by the server as an operator or a failover would
    (from a connection of its own, outside the app's pools); how many were cut."""
    admin = await asyncpg.connect(server_dsn(url, make_url(url).database or ""))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    return int(killed)


def _probe_postgres() -> str | None:
    """None when reachable, else the reason it is not."""

    async def probe() -> None:
        conn = await asyncpg.connect(server_dsn(TEST_DATABASE_URL), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL not reachable at {make_url(TEST_DATABASE_URL).render_as_string()}: {exc!r}"
    return None


POSTGRES_UNREACHABLE = _probe_postgres()
if POSTGRES_UNREACHABLE and REQUIRE_POSTGRES:
    raise RuntimeError(f"REQUIRE_POSTGRES=1 but {POSTGRES_UNREACHABLE}")

postgres_only = pytest.mark.skipif(POSTGRES_UNREACHABLE is not None, reason=POSTGRES_UNREACHABLE or "")


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = "PostgreSQL: " + (f"SKIPPED ({POSTGRES_UNREACHABLE})" if POSTGRES_UNREACHABLE else TEST_DATABASE_URL)
    return ["backends: SQLite (always)", pg]


@dataclass
class Backend:
    name: str
    url: str
    database: Database

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"


async def _recreate_postgres_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(server_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class _Backends:
    """Databases created once per session, on first use, and migrated to head."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: dict[str, Backend] = {}

    async def get(self, name: str) -> Backend:
        if name not in self.created:
            if name == "sqlite":
                url = f"sqlite+aiosqlite:///{self.tmp / 'test.db'}"
            else:
                url = TEST_DATABASE_URL
                await _recreate_postgres_database(url)
            await upgrade_to_head_async(url)
            self.created[name] = Backend(
                name, url, create_database(url, pool_size=10, max_overflow=20, vault=TEST_VAULT)
            )
        return self.created[name]

    async def dispose(self) -> None:
        for backend in self.created.values():
            await backend.database.dispose()


@pytest.fixture(scope="session")
async def backends(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[_Backends]:
    created = _Backends(tmp_path_factory.mktemp("db"))
    yield created
    await created.dispose()


def default_rule_row(rule: RiskRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "kind": rule.kind.value,
        "action": rule.action.value,
        "limit_value": rule.limit,
        "window_minutes": rule.window_minutes,
        "currency": rule.currency,
        "min_history": rule.min_history,
        "description": rule.description,
    }


async def clean(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    async with database.write_engine.begin() as conn:
        if database.is_sqlite:
            # The audit log refuses DELETE: its triggers are lifted for the wipe and put back (a test
            # that dropped them, as an attacker would, gets them back too).
            for statement in SQLITE_DROP_TRIGGERS:
                await conn.execute(text(statement))
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
            for statement in SQLITE_TRIGGERS:
                await conn.execute(text(statement))
        else:
            # TRUNCATE fires no row triggers, so the audit log's refusal of DELETE stays in place.
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        await conn.execute(
            text("UPDATE audit_chain SET last_hash = :genesis, length = 0"), {"genesis": GENESIS}
        )
        # Every test starts from the default risk rules, as a new programme does.
        await conn.execute(insert(risk_rules), [default_rule_row(rule) for rule in default_rules()])
        # Merchant ids are reused after the wipe: move processes' catalogue caches on.
        await conn.execute(text("UPDATE programme SET catalogue_version = catalogue_version + 1"))


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, postgres_only]),
    ]
)
async def backend(request: pytest.FixtureRequest, backends: _Backends) -> AsyncIterator[Backend]:
    chosen = await backends.get(request.param)
    await clean(chosen.database)
    yield chosen
    await ledger_stays_clean(request, chosen)


async def ledger_stays_clean(request: pytest.FixtureRequest, chosen: Backend) -> None:
    """After every test on a database: verify-ledger finds nothing, whatever the test asserted."""
    if request.node.get_closest_marker("partial_ledger") is None:
        violations = await check_ledger(chosen.database.read_engine, limit_per_check=5)
        assert violations == [], f"the ledger is not sound after {request.node.name}: {violations}"


@pytest.fixture
async def pg_backend(request: pytest.FixtureRequest, backends: _Backends) -> AsyncIterator[Backend]:
    """PostgreSQL only, for concurrency tests."""
    request.applymarker(pytest.mark.postgres)
    if POSTGRES_UNREACHABLE:
        pytest.skip(POSTGRES_UNREACHABLE)
    chosen = await backends.get("postgres")
    await clean(chosen.database)
    yield chosen
    await ledger_stays_clean(request, chosen)


# The suite sends many requests with one token, and bursts of 200: no test trips a rate or guessing
# limit unless it sets its own. The production defaults stay as they are.
NO_LIMITS = "1000000/second"


def settings_for(url: str, **overrides: Any) -> Settings:
    unlimited: dict[str, Any] = {
        "rate_limits": dict.fromkeys(DEFAULT_RATE_LIMITS, NO_LIMITS),
        "code_creation_limit": NO_LIMITS,
        "guess_max_failures": 1_000_000,
    }
    return Settings(database_url=url, jwt_secret=JWT_SECRET, **{**unlimited, **overrides})


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return settings_for(backend.url)


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def admin(self, subject: str = "admin@test") -> str:
        return issue_token(self.settings, role=Role.ADMIN, subject=subject)

    def merchant(self, merchant_id: int) -> str:
        return issue_token(
            self.settings, role=Role.MERCHANT, subject=f"pos-{merchant_id}", merchant_id=merchant_id
        )

    def member(self, member_id: int) -> str:
        return issue_token(
            self.settings, role=Role.MEMBER, subject=f"member-{member_id}", member_id=member_id
        )

    def partner(self, partner_id: int) -> str:
        return issue_token(
            self.settings, role=Role.PARTNER, subject=f"partner-{partner_id}", partner_id=partner_id
        )

    def processor(self, processor_id: int = 1) -> str:
        return issue_token(
            self.settings, role=Role.PROCESSOR, subject=f"cards-{processor_id}", processor_id=processor_id
        )


@pytest.fixture
def tokens(settings: Settings) -> Tokens:
    return Tokens(settings)


class GraphQLClient:
    """Literal queries over HTTP, as a real client sends them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        body = await self.post(query, variables, token)
        assert "errors" not in body, body
        return body["data"]


def make_client(settings: Settings, database: Database) -> httpx.AsyncClient:
    app = create_app(settings, database)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def http(settings: Settings, backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(settings, backend.database) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly which databases the suite ran on."""
    passed = terminalreporter.stats.get("passed", [])
    on_sqlite = sum(1 for r in passed if "[sqlite" in r.nodeid)
    on_postgres = sum(1 for r in passed if "postgres" in r.keywords)
    terminalreporter.write_sep("-", "backends")
    terminalreporter.write_line(f"SQLite: {on_sqlite} database tests passed")
    if POSTGRES_UNREACHABLE:
        terminalreporter.write_line(f"PostgreSQL: skipped - {POSTGRES_UNREACHABLE}")
    else:
        terminalreporter.write_line(f"PostgreSQL ({TEST_DATABASE_URL}): {on_postgres} database tests passed")
