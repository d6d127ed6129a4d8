"""Composition root: builds the Starlette app around a database, the only api module that knows
persistence. Tests pass their own Database; the server builds one from Settings."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException  # strawberry's HTTP errors (a dependency of strawberry)
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import InvalidToken, TokenVerifier
from api.console import POLICY as CONSOLE_POLICY
from api.console import console_routes
from api.context import Context
from api.exposure_buffer import ExposureBuffer
from api.graphiql import PAGE_HTML, STATIC_PATH, GraphiQLStaticFiles, asset_files, graphiql_page
from api.health import healthz, readyz
from api.loaders import Loaders
from api.metrics import metrics_endpoint
from api.middleware import (
    DATA_POLICY,
    BodySizeLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    page_policy,
)
from api.rate_limits import Limits, client_address, principal_of, too_many_requests
from api.refusals import RATE_LIMITED, TOKEN_REFUSED, RefusalAudit
from api.schema import build_schema
from api.settings import Settings
from api.settlement_upload import SettlementUpload
from api.settlement_worker import SettlementWorker
from api.tracing import exporting_provider, instrument
from domain.actors import Actor
from domain.clock import Clock, SystemClock
from domain.ports import ExposureLog
from persistence.engine import Database, create_database
from persistence.migrate import MigrationKeys, not_ready_reason
from persistence.personal_data import PersonalDataVault, share
from persistence.queries.campaign_arms import SqlCampaignArmsReader
from persistence.queries.purchase_lists import SqlPurchaseLists
from persistence.queries.read_model import SqlReadModel
from persistence.queries.settlement_imports import SqlSettlementImportReader
from persistence.queries.statements import SqlStatementReader
from persistence.queries.wallet_offers import SqlOfferWalletReader
from persistence.repositories.experiments import SqlAssignmentLog
from persistence.repositories.exposures import SqlExposureLog
from persistence.unit_of_work import SqlAlchemyUnitOfWork

logger = logging.getLogger("loyalty.api")


class LoyaltyGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        limits: Limits,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        super().__init__(
            build_schema(
                max_depth=settings.max_query_depth,
                max_tokens=settings.max_query_tokens,
                max_aliases=settings.max_aliases,
                introspection=settings.introspection,
                cost_budgets=settings.cost_budgets,
                request_timeout_seconds=settings.request_timeout_seconds,
                tracer_provider=tracer_provider,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
        )
        self.graphiql_assets_dir = settings.graphiql_assets_dir
        self.verifier = TokenVerifier(settings)
        self.database = database
        self.reader = SqlReadModel(database.read_engine)
        self.purchase_lists = SqlPurchaseLists(database.read_engine)
        self.settlement_imports = SqlSettlementImportReader(database.read_engine)
        self.statements = SqlStatementReader(database.read_engine)
        self.wallet_offers = SqlOfferWalletReader(database.read_engine)
        self.assignments = SqlAssignmentLog(database.write_engine)
        self.campaign_arms = SqlCampaignArmsReader(database.read_engine)
        self.snapshot_engine = _snapshot_reads(database)
        self.clock = clock
        self.limits = limits
        self.profiles = settings.profiles
        self.outbox = settings.outbox
        self.refusals = RefusalAudit(lambda: SqlAlchemyUnitOfWork(database.write_engine), clock)
        # Exposures go to the write pool in their own transactions, never a member's write's.
        exposure_log = SqlExposureLog(database.write_engine)
        self.exposure_buffer = (
            ExposureBuffer(exposure_log, settings.exposure_flush_seconds)
            if settings.exposure_flush_seconds > 0
            else None
        )
        self.exposures: ExposureLog = self.exposure_buffer or exposure_log

    async def authenticate(self, scope: Scope) -> tuple[Actor | None, str | None]:
        """The caller, or why its token was refused; once per request, kept in the scope's state."""
        state = scope.setdefault("state", {})
        if "auth" not in state:
            actor, auth_error = None, None
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    actor = await self.verifier.verify_async(token.strip(), state.get("request_id", "-"))
                except InvalidToken as exc:
                    auth_error = str(exc)
            elif scheme:
                auth_error = "expected a Bearer token"
            state["auth"] = (actor, auth_error)
        return state["auth"]

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # Our page over our own copies of GraphiQL's files, in place of strawberry's CDN-loading one.
        return graphiql_page(self.graphiql_assets_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Counted before the body is read or parsed, so a flood is refused at the least cost.
        actor, auth_error = await self.authenticate(scope)
        address = client_address(scope)
        request_id = scope.get("state", {}).get("request_id", "-")
        # Refusals are audited after the answer is sent: a refused caller never waits for the database.
        audit = []
        if auth_error is not None:
            audit += self.refusals.refused(TOKEN_REFUSED, f"anonymous:{address or '-'}", request_id)
        retry_after = await self.limits.request_refused(actor, address)
        if retry_after is not None:
            principal = principal_of(actor) if actor else f"anonymous:{address or '-'}"
            audit += self.refusals.refused(RATE_LIMITED, principal, request_id)
            await too_many_requests(retry_after)(scope, receive, send)
            await self.refusals.write(audit)
            return
        # strawberry answers a request it cannot read in plain text; clients expect GraphQL's JSON.
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
        await response(scope, receive, send)
        await self.refusals.write(audit)

    def decode_json(self, data: str | bytes) -> object:
        """Strict JSON: bytes that are not UTF-8, nesting too deep for the decoder and the NaN and
        Infinity that Python's json accepts are a bad request, not an internal error."""
        try:
            return json.loads(data, parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "The request body is not valid UTF-8") from exc
        except RecursionError as exc:
            raise HTTPException(400, "The request body is nested too deeply") from exc
        except _NonFiniteNumber as exc:
            raise HTTPException(400, f"The request body is not valid JSON: {exc}") from exc

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        request_id = request.scope.get("state", {}).get("request_id", "-")
        actor, auth_error = await self.authenticate(request.scope)
        return Context(
            request_id=request_id,
            actor=actor,
            auth_error=auth_error,
            client_address=client_address(request.scope),
            response=response if isinstance(response, Response) else None,
            limits=self.limits,
            uow_factory=lambda: SqlAlchemyUnitOfWork(
                self.database.write_engine, profiles=self.profiles, outbox=self.outbox
            ),
            read_uow_factory=lambda: SqlAlchemyUnitOfWork(self.snapshot_engine),
            reader=self.reader,
            wallet_offers=self.wallet_offers,
            assignments=self.assignments,
            campaign_arms=self.campaign_arms,
            purchase_lists=self.purchase_lists,
            loaders=Loaders(self.reader, self.clock),
            clock=self.clock,
            settlement_imports=self.settlement_imports,
            statements=self.statements,
            exposures=self.exposures,
        )


def _snapshot_reads(database: Database) -> AsyncEngine:
    """The read pool, for units of work that write nothing. PostgreSQL's read pool autocommits each
    statement; these get one read-only snapshot instead, so a dry run sees one state of the data.
    SQLite's read connections already begin a (deferred) transaction."""
    if database.is_sqlite:
        return database.read_engine
    engine = database.read_engine.execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    share(database.read_engine, engine)
    return engine


def personal_data_vault(settings: Settings) -> PersonalDataVault | None:
    """The keys for members' contact data, as configured (production always has them)."""
    if not settings.personal_data_keys or settings.personal_data_lookup_key is None:
        return None
    return PersonalDataVault(settings.personal_data_keys, settings.personal_data_lookup_key)


def migration_keys(settings: Settings) -> MigrationKeys | None:
    """The keys a migration needs to encrypt contact data that is still plain."""
    if not settings.personal_data_keys or settings.personal_data_lookup_key is None:
        return None
    return settings.personal_data_keys, settings.personal_data_lookup_key


def open_database(settings: Settings, *, pool_size: int | None = None, max_overflow: int = 10) -> Database:
    """The configured database with its personal-data keys: for the server and the scripts."""
    return create_database(
        settings.database_url,
        pool_size=settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=max_overflow,
        vault=personal_data_vault(settings),
    )


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> object:
    raise _NonFiniteNumber(f"{name} is not a JSON number")


def create_app(
    settings: Settings,
    database: Database | None = None,
    clock: Clock | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """With `database` given, the caller owns it; otherwise the app builds and disposes its own.
    Rate limits count in Redis when REDIS_URL is set, else in this process's memory. Traces go to
    `tracer_provider` when given (tests), else over OTLP when settings.tracing (api/tracing.py)."""
    owned = database is None
    db = database or open_database(settings)
    if tracer_provider is None and settings.tracing:
        tracer_provider = exporting_provider()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        posting = asyncio.create_task(worker.run()) if settings.settlement_worker else None
        buffer = graphql.exposure_buffer
        exposing = asyncio.create_task(buffer.run()) if buffer is not None else None
        try:
            yield {}
        finally:
            if exposing is not None and buffer is not None:
                buffer.stop()  # it writes the listings of the last interval
                await asyncio.gather(exposing, return_exceptions=True)
                await buffer.flush()  # any listed while it wrote
            if posting is not None:
                posting.cancel()  # a batch in flight rolls back; the next worker posts it
                await asyncio.gather(posting, return_exceptions=True)
            await graphql.refusals.flush()  # the counts of the last minute
            if owned:
                await db.dispose()

    graphql = LoyaltyGraphQL(
        settings=settings,
        database=db,
        clock=clock or SystemClock(),
        limits=Limits(settings),
        tracer_provider=tracer_provider,
    )

    def writes() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db.write_engine, profiles=settings.profiles, outbox=settings.outbox)

    worker = SettlementWorker(writes, graphql.clock, settings.settlement_poll_seconds)
    upload = SettlementUpload(
        authenticate=graphql.authenticate,
        limits=graphql.limits,
        uow_factory=writes,
        clock=graphql.clock,
        max_bytes=settings.settlement_max_bytes,
        queued=worker.wake,
    )
    # The only HTML page is GraphiQL's: its policy comes from the page as shipped. GraphiQL adds
    # <style> elements as it runs, so its styles cannot be pinned by hash.
    html_policy = page_policy(PAGE_HTML, runtime_styles=True) if settings.graphiql else DATA_POLICY
    routes: list[Route | Mount] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/settlements", upload, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz(lambda: not_ready_reason(db.read_engine))),
        Route(
            "/metrics", metrics_endpoint(settings.metrics_token, open_without_token=not settings.production)
        ),
    ]
    routes.append(console_routes(graphql, graphql.verifier))
    if settings.graphiql:
        routes.append(Mount(STATIC_PATH, GraphiQLStaticFiles(asset_files(settings.graphiql_assets_dir))))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SecurityHeadersMiddleware, html_policy=html_policy, path_policies={"/console": CONSOLE_POLICY}
            ),
            Middleware(RequestIdMiddleware),
            Middleware(
                BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, own_limits={"/settlements"}
            ),
        ],
        lifespan=lifespan,
    )
    if tracer_provider is not None:
        instrument(app, [db.write_engine, db.read_engine], tracer_provider)
    app.state.database = db
    app.state.refusals = graphql.refusals  # for tests: the counts not yet written
    app.state.exposures = graphql.exposure_buffer  # likewise, the exposures (None when written at once)
    return app
