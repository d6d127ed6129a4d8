"""Pure-ASGI middleware: security headers on every response, a request id on every request, and a cap
on request bodies."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Collection, Mapping
from html.parser import HTMLParser
from urllib.parse import urlparse

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry.logs import REQUEST_ID

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# A JSON answer needs no script, style or frame: whatever a browser makes of it runs nothing.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class SecurityHeadersMiddleware:
    """Every response, whoever made it (a route, strawberry, the body cap, an error), is neither sniffed,
    stored nor framed; an HTML page gets `html_policy` as its Content-Security-Policy (or the policy of
    its path's prefix in `path_policies`: the console's pages have their own), data DATA_POLICY.
    Outermost, so that it also covers the 413 of the body cap and answers a crash with a 500 of its own."""

    def __init__(
        self, app: ASGIApp, html_policy: str = DATA_POLICY, path_policies: Mapping[str, str] | None = None
    ) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        self.data_headers = [*common, (b"content-security-policy", DATA_POLICY.encode())]
        self.html_headers = [*common, (b"content-security-policy", html_policy.encode())]
        self.path_headers = [
            (prefix, [*common, (b"content-security-policy", policy.encode())])
            for prefix, policy in (path_policies or {}).items()
        ]
        self.replaced = {name for name, _ in self.data_headers} | {b"server"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.replaced]
                html = any(
                    k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers
                )
                ours = self._html_headers(scope["path"]) if html else self.data_headers
                message = {**message, "headers": [*headers, *ours]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 is sent outside every middleware, so it would lack the headers; the
            # exception still goes on to be logged by the server.
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(
                    scope, receive, send_with_headers
                )
            raise

    def _html_headers(self, path: str) -> list[tuple[bytes, bytes]]:
        for prefix, headers in self.path_headers:
            if path == prefix or path.startswith(f"{prefix}/"):
                return headers
        return self.html_headers


def page_policy(html: str, *, runtime_styles: bool = False) -> str:
    """The Content-Security-Policy for one page of ours, read from its trusted template at start: its
    inline scripts allowed by hash (never 'unsafe-inline'), the origins it loads scripts and stylesheets
    from, data: images and fonts, requests to this origin only, no framing. Computed from the template,
    never from a response, so script injected into a response is not allowed by it.

    Inline styles are allowed by hash too, unless `runtime_styles`: a page whose libraries add <style>
    elements as it runs (GraphiQL's dialogs and scroll locks) needs 'unsafe-inline' for styles, and a
    hash in the same directive would switch that off. Styles cannot run code; scripts stay pinned."""
    page = _PageSources()
    page.feed(html)
    page.close()
    scripts = ["'self'", *sorted(page.script_origins), *(_hash(text) for text in page.inline_scripts)]
    inline_styles = ["'unsafe-inline'"] if runtime_styles else [_hash(text) for text in page.inline_styles]
    styles = ["'self'", *sorted(page.style_origins), *inline_styles]
    fonts = ["'self'", "data:", *sorted(page.style_origins)]
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {' '.join(scripts)}",
            f"style-src {' '.join(styles)}",
            "img-src 'self' data:",
            f"font-src {' '.join(fonts)}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _hash(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


class _PageSources(HTMLParser):
    """The inline <script> and <style> texts of a page and the origins of what it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.script_origins: set[str] = set()
        self.style_origins: set[str] = set()
        self._inline: list[str] | None = None  # the list the text being read belongs to
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self._add_origin(self.script_origins, found["src"] or "")
            else:
                self._inline, self._text = self.inline_scripts, []
        elif tag == "style":
            self._inline, self._text = self.inline_styles, []
        elif tag == "link" and "stylesheet" in (found.get("rel") or "").split():
            self._add_origin(self.style_origins, found.get("href") or "")

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._inline is not None:
            self._inline.append("".join(self._text))
            self._inline = None

    @staticmethod
    def _add_origin(origins: set[str], url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.netloc:
            origins.add(f"{parsed.scheme}://{parsed.netloc}")


class RequestIdMiddleware:
    """Honour a well-formed X-Request-ID, else make one; echo it on the response and keep it in scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        # Every log line written while this request runs carries its id (telemetry/logs.py).
        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answer 413 when the declared or actual body exceeds the cap, before anything parses it."""

    def __init__(self, app: ASGIApp, max_bytes: int, own_limits: Collection[str] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limits = frozenset(own_limits)  # paths that cap their body themselves, with a typed answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.own_limits:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"errors": [{"message": f"Request body larger than {self.max_bytes} bytes"}]}, status_code=413
        )
        await response(scope, receive, send)
