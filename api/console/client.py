"""The console's only way to the domain: a GraphQL request to the app's own /graphql, in process, with
the signed-in admin's token. It passes through the same door as any client's request (token check,
rate limit, cost analysis, field policy, audit), without a network hop."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message

JsonObject = dict[str, Any]


class SignedOut(Exception):
    """The token was refused (expired, or no longer valid): the admin signs in again."""


class RequestRefused(Exception):
    """/graphql answered with no data at all (a rate limit, a bad request): nothing was done."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Answer:
    data: JsonObject
    errors: list[JsonObject] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [str(error.get("message", "")) for error in self.errors]

    def need(self, name: str) -> Any:
        """A root field the page cannot do without; its absence is the API's refusal, shown as such."""
        value = self.data.get(name)
        if value is None:
            raise RequestRefused(400, "; ".join(self.messages()) or f"no {name} in the answer")
        return value


@dataclass(frozen=True)
class Caller:
    """Who asks: the admin's token, and the request it comes from (its id, its address)."""

    token: str
    request_id: str
    client: tuple[str, int] | None


class ConsoleGraphQL:
    def __init__(self, graphql: ASGIApp) -> None:
        self.graphql = graphql

    async def run(self, caller: Caller, query: str, variables: JsonObject | None = None) -> Answer:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"authorization", f"Bearer {caller.token}".encode("latin-1")),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": caller.client,
            "server": ("console", 0),
            # The page's request id, so the audit rows the query writes name the request the admin made.
            "state": {"request_id": caller.request_id},
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.graphql(scope, receive, send)
        try:
            answer = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            answer = {}
        errors = list(answer.get("errors") or [])
        if any((e.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for e in errors):
            raise SignedOut
        data = answer.get("data")
        if status == 200 and data is None and errors:
            return Answer({}, errors)  # a refused query: the page shows why
        if not isinstance(data, dict):
            message = "; ".join(str(e.get("message", "")) for e in errors) or f"HTTP {status}"
            raise RequestRefused(status, message)
        return Answer(data, errors)
