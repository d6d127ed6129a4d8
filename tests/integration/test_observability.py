"""Log lines are JSON with the request id and never carry members' contact data; traces, when a tracer
provider is given, have a span for the request, its GraphQL operation and its SQL."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from api.app import create_app
from api.settings import ConfigurationError, Settings
from api.tracing import stop_sql_tracing
from persistence.engine import Database, create_database
from telemetry.logs import configure_logging, remove_logging, scrub
from tests.builders import ENROLL
from tests.conftest import TEST_VAULT, Backend, Tokens
from tests.integration.test_production_settings import production

PHONE = "+86 138 0013 8000"
EMAIL = "wang.fang.2093@example.com"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The process's logging as the server configures it, in JSON, at DEBUG, into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("json", logging.DEBUG, stream)
    try:
        yield stream
    finally:
        remove_logging(handler)
        root.setLevel(level)


async def test_log_lines_are_json_with_the_request_id_and_no_contact_data(
    json_log: io.StringIO, settings: Settings, backend: Backend, tokens: Tokens
) -> None:
    admin = {"Authorization": f"Bearer {tokens.admin()}"}
    app = create_app(settings, backend.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        enrolled = await http.post(
            "/graphql",
            json={
                "query": ENROLL,
                "variables": {"input": {"externalRef": "log-1", "phone": PHONE, "email": EMAIL}},
            },
            headers={**admin, "X-Request-ID": "req-log-enrol"},
        )
        assert enrolled.json()["data"]["enrollMember"]["errors"] == []
        # A value of the wrong type: GraphQL's error message quotes it, and the client error is logged.
        refused = await http.post(
            "/graphql",
            json={"query": ENROLL, "variables": {"input": {"externalRef": EMAIL, "phone": 13800138000}}},
            headers={**admin, "X-Request-ID": "req-log-bad"},
        )
        assert "errors" in refused.json()
        # A token that is no token: refused, and the refusal is logged.
        await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {EMAIL}", "X-Request-ID": "req-log-token"},
        )

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines, "nothing was logged"
    ours = [line for line in lines if line.get("request_id") == "req-log-bad"]
    # The client error quoted the phone number it was given; the line says only that one was there.
    assert any("[phone]" in line["event"] for line in ours), lines
    assert all({"timestamp", "level", "logger", "event"} <= line.keys() for line in lines)
    text = json_log.getvalue()
    for value in (PHONE, EMAIL, PHONE.replace(" ", ""), "13800138000", "wang.fang.2093"):
        assert value not in text


def test_the_last_guard_replaces_what_looks_like_contact_data() -> None:
    assert scrub(f"sent to {EMAIL} and {PHONE}") == "sent to [email] and [phone]"
    assert scrub("call 13800138000 now") == "call [phone] now"
    # Dates, amounts and hex request ids stay readable.
    kept = "2026-11-28 02:31:09 12850 points request_id=4f1c0a9e2b7d4e6f8a1b2c3d4e5f6a7b"
    assert scrub(kept) == kept


@pytest.fixture
async def traced_database(backend: Backend) -> AsyncIterator[Database]:
    """Engines of this test's own, so the suite's shared ones are never instrumented."""
    database = create_database(backend.url, pool_size=2, max_overflow=0, vault=TEST_VAULT)
    yield database
    stop_sql_tracing()
    await database.dispose()


async def test_a_request_is_traced_with_its_operation_and_its_sql(
    settings: Settings, traced_database: Database, tokens: Tokens
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, traced_database, tracer_provider=provider)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        answer = await http.post(
            "/graphql",
            json={"query": "query TracedTiers { tiers { name } }"},
            headers={"Authorization": f"Bearer {tokens.admin()}"},
        )
    assert "errors" not in answer.json()

    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    request = [s for s in spans if s.name.startswith("POST /graphql") and s.parent is None]
    assert len(request) == 1, names
    trace_id = request[0].context.trace_id
    operation = [s for s in spans if s.name == "GraphQL Query: TracedTiers"]
    assert len(operation) == 1, names
    sql = [
        s for s in spans if "db.statement" in (s.attributes or {}) or "db.query.text" in (s.attributes or {})
    ]
    assert sql, names
    # One trace: the operation and its statements hang under the request.
    assert {s.context.trace_id for s in [*operation, *sql]} == {trace_id}


def test_operating_settings_from_the_environment(tmp_path: Path) -> None:
    var = {"VAR_DIR": str(tmp_path / "var")}
    development = Settings.from_env(var)
    assert (development.log_format, development.tracing, development.metrics_token) == ("text", False, None)
    live = production(tmp_path, JWT_ALLOW_HS256="1", JWT_SECRET="s" * 32)
    assert live.log_format == "json"
    assert Settings.from_env({**var, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}).tracing
    assert Settings.from_env({**var, "TRACING": "true"}).tracing
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        Settings.from_env({**var, "LOG_FORMAT": "xml"})
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        Settings.from_env({**var, "METRICS_TOKEN": "short"})
