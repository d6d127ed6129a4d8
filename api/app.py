"""Composition root: builds the Starlette app around a database, the only api module that knows
persistence. Tests pass their own Database; the server builds one from Settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import InvalidToken, TokenVerifier
from api.context import Context
from api.health import healthz, readyz
from api.loaders import Loaders
from api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from api.schema import build_schema
from api.settings import Settings
from domain.clock import Clock, SystemClock
from persistence.engine import Database, create_database
from persistence.queries.read_model import SqlReadModel
from persistence.unit_of_work import SqlAlchemyUnitOfWork

logger = logging.getLogger("loyalty.api")


class LoyaltyGraphQL(GraphQL[Context, None]):
    def __init__(self, *, settings: Settings, database: Database, clock: Clock) -> None:
        super().__init__(
            build_schema(
                max_depth=settings.max_query_depth,
                max_tokens=settings.max_query_tokens,
                max_aliases=settings.max_aliases,
                introspection=settings.introspection,
                cost_budgets=settings.cost_budgets,
                request_timeout_seconds=settings.request_timeout_seconds,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
        )
        self.verifier = TokenVerifier(settings)
        self.database = database
        self.reader = SqlReadModel(database.read_engine)
        self.clock = clock

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        request_id = request.scope.get("state", {}).get("request_id", "-")
        actor, auth_error = None, None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                actor = self.verifier.verify(token.strip(), request_id)
            except InvalidToken as exc:
                auth_error = str(exc)
        elif scheme:
            auth_error = "expected a Bearer token"
        return Context(
            request_id=request_id,
            actor=actor,
            auth_error=auth_error,
            uow_factory=lambda: SqlAlchemyUnitOfWork(self.database.write_engine),
            reader=self.reader,
            loaders=Loaders(self.reader, self.clock),
            clock=self.clock,
        )


def create_app(settings: Settings, database: Database | None = None, clock: Clock | None = None) -> Starlette:
    """With `database` given, the caller owns it; otherwise the app builds and disposes its own."""
    owned = database is None
    db = database or create_database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            if owned:
                await db.dispose()

    graphql = LoyaltyGraphQL(settings=settings, database=db, clock=clock or SystemClock())
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.database = db
    return app
