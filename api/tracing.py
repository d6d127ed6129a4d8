"""OpenTelemetry traces, off unless asked for: TRACING=true, or OTEL_EXPORTER_OTLP_ENDPOINT set (the
collector's base URL, e.g. http://otel-collector:4318). Spans go out over OTLP/HTTP in batches;
OTEL_SERVICE_NAME names the service (loyalty-ledger) and the exporter honours the other standard
OTEL_EXPORTER_OTLP_* variables. A request gets a span from the ASGI layer (Starlette's
instrumentation), GraphQL's parse, validation and resolvers from strawberry's extension, and each SQL
statement from SQLAlchemy's. Statements are traced as written: the parameters, which may hold
members' contact data, are never attached."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# The SDK, the exporter and the instrumentations are imported only where tracing is on: together they
# add most of a second to a worker's start.
_configured: TracerProvider | None = None


def exporting_provider() -> TracerProvider:
    """The process's provider, exporting over OTLP/HTTP; made once and installed as the global one."""
    global _configured
    if _configured is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME", "loyalty-ledger")
        _configured = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
        _configured.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_configured)
    return _configured


def instrument(app: Starlette, engines: Sequence[AsyncEngine], provider: trace.TracerProvider) -> None:
    """Spans for the app's requests and for the SQL its engines run."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()  # one set of engines per process: the app's
    instrumentor.instrument(
        engines=list({id(e.sync_engine): e.sync_engine for e in engines}.values()),
        tracer_provider=provider,
        skip_dep_check=True,
    )


def stop_sql_tracing() -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
