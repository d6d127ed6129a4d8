"""POST /settlements: a merchant uploads its settlement file; the answer names the queued import,
which the merchant then follows with the `settlementImport(id)` query.

A plain HTTP endpoint rather than a GraphQL multipart upload: the file is the request body
(`curl --data-binary @day.csv`), so no multipart form parser runs, the body is capped on its own
while it streams in, and a form post from another site (the CSRF that GraphQL multipart uploads
invite) is refused because only a bearer token authenticates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from api.rate_limits import Limits, client_address, too_many_requests
from api.types.ids import encode_id
from domain.actors import Actor
from domain.clock import Clock
from domain.errors import DomainError, ErrorCode
from domain.ports import UnitOfWorkFactory
from domain.services.settlement_imports import queue_settlement_import

# The format from the Content-Type when no ?format= is given.
FORMAT_BY_TYPE = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
}
STATUS_BY_CODE = {
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.OUTCOME_UNKNOWN: 503,
}


def refusal(status: int, code: str, message: str, field: list[str] | None = None) -> JSONResponse:
    """The errors as GraphQL payloads carry them: code, field, message."""
    error = {"code": code, "field": field, "message": message}
    return JSONResponse({"settlementImport": None, "errors": [error]}, status_code=status)


class SettlementUpload:
    """The ASGI endpoint; `queued` wakes the app's worker."""

    def __init__(
        self,
        *,
        authenticate: Callable[[Scope], Awaitable[tuple[Actor | None, str | None]]],
        limits: Limits,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        max_bytes: int,
        queued: Callable[[], None],
    ) -> None:
        self.authenticate = authenticate
        self.limits = limits
        self.uow_factory = uow_factory
        self.clock = clock
        self.max_bytes = max_bytes
        self.queued = queued

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.answer(request)
        await response(scope, receive, send)

    async def answer(self, request: Request) -> JSONResponse:
        actor, auth_error = await self.authenticate(request.scope)
        retry_after = await self.limits.request_refused(actor, client_address(request.scope))
        if retry_after is not None:
            return too_many_requests(retry_after)
        if actor is None:
            return refusal(401, "UNAUTHENTICATED", auth_error or "a merchant's bearer token is required")
        content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        fmt = request.query_params.get("format") or FORMAT_BY_TYPE.get(content_type)
        if fmt is None:
            return refusal(
                400,
                "VALIDATION",
                "say the file's format: ?format=csv|jsonl, or Content-Type text/csv or application/x-ndjson",
                ["format"],
            )
        too_large = refusal(
            413, "VALIDATION", f"the file is larger than the limit of {self.max_bytes} bytes", ["file"]
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_bytes:
                return too_large
        try:
            import_id = await queue_settlement_import(
                bytes(body), fmt, actor=actor, uow=self.uow_factory(), clock=self.clock
            )
        except DomainError as error:
            field = list(error.field) if error.field else None
            return refusal(STATUS_BY_CODE.get(error.code, 400), error.code.value, error.message, field)
        self.queued()
        created = {"id": str(encode_id("SettlementImport", import_id)), "status": "QUEUED"}
        return JSONResponse({"settlementImport": created, "errors": []}, status_code=202)
