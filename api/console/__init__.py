"""The operations console at /console: server-rendered pages for admins over the GraphQL API.

Every page is rendered on the server from Jinja2 templates; what it shows it reads with the signed-in
admin's token through the app's own /graphql (client.py), so permissions, field policy, cost limits and
audit apply exactly as for any client. Plots are SVG drawn on the server (charts.py). The browser gets
HTML, one stylesheet and one small script, all served from here: nothing is built, nothing fetched from
elsewhere, and the Content-Security-Policy (POLICY) allows no inline script or style.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from api.auth import InvalidToken, TokenVerifier
from api.console import session
from api.console.client import ConsoleGraphQL
from api.console.pages import area_routes, navigation
from api.console.web import PREFIX, Console
from domain.actors import Role

STATIC = Path(__file__).parent / "static"
# Pages of our own only: scripts, styles and images from this origin, forms posted back to it,
# requests to it, never framed.
POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def console_routes(graphql: ASGIApp, verifier: TokenVerifier) -> Mount:
    console = Console(ConsoleGraphQL(graphql), verifier, navigation())

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/members", status_code=303)

    async def sign_in_form(request: Request) -> Response:
        return console.render(
            request, "sign_in.html", title="Sign in", next=_next(request), problem="", signed_in=False
        )

    async def sign_in(request: Request) -> Response:
        if not session.same_origin(request):
            return console.refusal(request, 403, "This form was sent from another site.")
        try:
            form = await session.read_form(request)
        except session.FormError as exc:
            return console.refusal(request, 400, str(exc))
        token = (form.get("token") or [""])[-1].strip()
        next_path = _safe_next((form.get("next") or [""])[-1])
        problem = ""
        try:
            actor = await verifier.verify_async(token, request.scope.get("state", {}).get("request_id", "-"))
            if actor.role is not Role.ADMIN:
                problem = "This token is not an admin's: the console is for admins."
        except InvalidToken as exc:
            problem = f"This token was refused: {exc}"
        if problem:
            return console.render(
                request,
                "sign_in.html",
                status_code=403,
                title="Sign in",
                next=next_path,
                problem=problem,
                signed_in=False,
            )
        response = RedirectResponse(next_path, status_code=303)
        session.set_session(response, request, token)
        return response

    async def sign_out(request: Request) -> Response:
        # Refused from another site, so no page elsewhere can sign the admin out either.
        if not session.same_origin(request):
            return console.refusal(request, 403, "This form was sent from another site.")
        response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
        session.clear_session(response, request)
        return response

    def _next(request: Request) -> str:
        return _safe_next(request.query_params.get("next", ""))

    return Mount(
        PREFIX,
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/sign-in", sign_in_form, methods=["GET"]),
            Route("/sign-in", sign_in, methods=["POST"]),
            Route("/sign-out", sign_out, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC)),
            *area_routes(console),
        ],
    )


def _safe_next(path: str) -> str:
    """Back to a console page after signing in, never to another site (//evil.example, /\\evil)."""
    if path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{PREFIX}/members"
