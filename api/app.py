"""Composition root: builds the Starlette app around a database, the only api module that knows
persistence. Tests pass their own Database; the server builds one from Settings."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException  # strawberry's HTTP errors (a dependency of strawberry)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
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
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
        )
        self.verifier = TokenVerifier(settings)
        self.database = database
        self.reader = SqlReadModel(database.read_engine)
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # strawberry answers a request it cannot read in plain text; clients expect GraphQL's JSON.
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
        await response(scope, receive, send)

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


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> object:
    raise _NonFiniteNumber(f"{name} is not a JSON number")


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
