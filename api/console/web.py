"""What every console page shares: the signed-in admin, its GraphQL client, the templates and the
checks on form posts. An area's module (pages/) only says what it reads and writes and which template
shows it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.auth import InvalidToken, TokenVerifier
from api.console import session
from api.console.client import Answer, Caller, ConsoleGraphQL, JsonObject, RequestRefused, SignedOut
from domain.actors import Role

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/console"


@dataclass(frozen=True)
class NavItem:
    """One area in the console's navigation; a new area adds one (pages/__init__.py)."""

    label: str
    path: str


@dataclass
class Form:
    values: Mapping[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[-1].strip() if found else default

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self.values.get(name, [])]


class Page:
    """One request to the console by a signed-in admin."""

    def __init__(self, console: Console, request: Request, caller: Caller, form: Form) -> None:
        self.console = console
        self.request = request
        self.caller = caller
        self.form = form
        self.csrf = session.csrf_token(caller.token)

    async def query(self, query: str, variables: JsonObject | None = None) -> Answer:
        return await self.console.client.run(self.caller, query, variables)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.console.render(self.request, template, status_code=status_code, csrf=self.csrf, **context)

    def param(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default).strip()

    def redirect(self, path: str, notice: str | None = None) -> RedirectResponse:
        """After a post, to a page (post/redirect/get), with what happened in one line. The line rides
        in a cookie the next page reads once, not in the URL, so no link can make the console say
        something it did not."""
        response = RedirectResponse(f"{PREFIX}{path}", status_code=303)
        if notice:
            session.set_notice(response, self.request, notice)
        return response


View = Callable[[Page], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Console:
    def __init__(self, client: ConsoleGraphQL, verifier: TokenVerifier, nav: Iterable[NavItem]) -> None:
        self.client = client
        self.verifier = verifier
        self.nav = list(nav)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = when
        self.templates.filters["points"] = points
        self.templates.filters["minor"] = minor
        self.templates.filters["bp"] = basis_points
        self.templates.filters["dtinput"] = lambda value: str(value or "")[:16]
        self.templates.filters["urlpart"] = lambda value: quote(str(value), safe="")

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        notice = session.notice(request)
        page = self.templates.get_template(template).render(
            nav=self.nav,
            path=request.url.path,
            prefix=PREFIX,
            notice=notice,
            signed_in=context.pop("signed_in", True),
            **{"csrf": "", **context},
        )
        response = HTMLResponse(page, status_code=status_code)
        if notice:
            session.clear_notice(response, request)  # shown once
        return response

    def page(self, view: View) -> Endpoint:
        """A GET: an admin's session, or the sign-in form."""

        async def endpoint(request: Request) -> Response:
            return await self._serve(request, view, Form())

        return endpoint

    def action(self, view: View) -> Endpoint:
        """A form post: same origin and the session's CSRF token, or refused before anything runs."""

        async def endpoint(request: Request) -> Response:
            if not session.same_origin(request):
                return self.refusal(request, 403, "This form was sent from another site.")
            try:
                form = Form(await session.read_form(request))
            except session.FormError as exc:
                return self.refusal(request, 400, str(exc))
            token = session.session_token(request)
            if token is None or not session.csrf_valid(token, form.get("csrf")):
                return self.refusal(request, 403, "This form has expired; reload the page and try again.")
            return await self._serve(request, view, form)

        return endpoint

    async def _serve(self, request: Request, view: View, form: Form) -> Response:
        token = session.session_token(request)
        request_id = request.scope.get("state", {}).get("request_id", "-")
        if token is None:
            return self.to_sign_in(request)
        try:
            actor = await self.verifier.verify_async(token, request_id)
        except InvalidToken:
            return self.to_sign_in(request, signed_out=True)
        if actor.role is not Role.ADMIN:
            return self.refusal(request, 403, "The console is for admins; this token is not an admin's.")
        client = request.client
        caller = Caller(token, request_id, (client.host, client.port) if client else None)
        try:
            return await view(Page(self, request, caller, form))
        except SignedOut:
            return self.to_sign_in(request, signed_out=True)
        except RequestRefused as exc:
            status = exc.status if exc.status >= 400 else 502  # an answer the console cannot read
            return self.refusal(request, status, f"The API refused the request: {exc.message}")

    def to_sign_in(self, request: Request, signed_out: bool = False) -> Response:
        path = request.url.path if request.method == "GET" else PREFIX
        response = RedirectResponse(f"{PREFIX}/sign-in?{urlencode({'next': path})}", status_code=303)
        if signed_out:
            session.clear_session(response, request)
        return response

    def refusal(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.render(
            request, "refused.html", status_code=status, title="Not done", message=message, signed_in=False
        )


def new_key(purpose: str) -> str:
    """An idempotency key for a form that is not itself a retry (a retry replays the same decision)."""
    return f"console-{purpose}-{uuid.uuid4().hex}"


def when(value: str | None) -> str:
    """An API time as the console shows it: to the minute, in UTC."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def points(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def basis_points(value: int | None) -> str:
    """Basis points as a percent with two decimals, on integers."""
    if value is None:
        return "-"
    whole, rest = divmod(value, 100)
    return f"{whole}.{rest:02d}%"


def minor(value: int | None, currency: str = "") -> str:
    """Money in minor units shown with two decimals, computed on integers (no floats in money)."""
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}" + (f" {currency}" if currency else "")
