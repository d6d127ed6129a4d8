"""`/metrics` for Prometheus, and the GraphQL extension that times each operation and counts its
top-level errors (payload errors are counted where they are made: api/mutations/payload.py).

Who may read `/metrics`: with METRICS_TOKEN set, only a request bearing it (`Authorization: Bearer
<token>`, compared in constant time); without it, anyone in development and no one in production
(404), where the figures would tell an outsider the traffic and error rates. A scraper inside the
cluster is given the token; the public proxy need not route the path at all."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterator

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.extensions import SchemaExtension

from telemetry.metrics import CONTENT_TYPE, count_errors, exposition, observe_request

MASKED_MESSAGE = "Unexpected error."


class OperationMetrics(SchemaExtension):
    """Listed after MaskErrors, whose hook has masked the errors by the time this one's ends."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        observe_request(context.operation_name, time.perf_counter() - started)
        result = context.result
        errors = list(result.errors or []) if result is not None else list(context.pre_execution_errors or [])
        if errors:
            count_errors("graphql", [error_code(e) for e in errors])


def error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    return "UNEXPECTED" if error.message == MASKED_MESSAGE else "GRAPHQL"


def metrics_endpoint(
    token: str | None, *, open_without_token: bool
) -> Callable[[Request], Awaitable[Response]]:
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is None and not open_without_token:
            return PlainTextResponse("Not Found", status_code=404)
        if expected is not None:
            given = request.headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, expected):
                return PlainTextResponse(
                    "Unauthorized", status_code=401, headers={"www-authenticate": "Bearer"}
                )
        return Response(exposition(), media_type=CONTENT_TYPE)

    return metrics
