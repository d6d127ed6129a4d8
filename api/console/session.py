"""The console's sign-in: the admin pastes a token, kept in a session cookie for the browser session.

Why a cookie and not sessionStorage: the pages are rendered on the server, which needs the token on
every page view, and an HttpOnly cookie keeps the token out of reach of any script in the page, so a
script that got in somehow cannot carry it off. The cookie has no expiry (the browser drops it when
the session ends, and the token's own `exp` still applies), is HttpOnly, SameSite=Strict, limited to
/console, and Secure when the console is reached over https.

Cookies come with every request the browser makes, so every form post also carries a CSRF token: an
HMAC of the session's token under a fixed label, which only a page rendered for this session holds
(no server-side state, so any worker checks it). Posts whose Origin names another site are refused
before that, the sign-in form's included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, unquote

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "console_session"
COOKIE_PATH = "/console"
_CSRF_LABEL = b"loyalty-console-csrf-v1"
MAX_FORM_BYTES = 64_000


def session_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE, "").strip()
    return token or None


def csrf_token(session: str) -> str:
    digest = hmac.new(session.encode(), _CSRF_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_valid(session: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(session).encode(), given.encode())


def same_origin(request: Request) -> bool:
    """Whether a post comes from a page of this site. Browsers say so in Sec-Fetch-Site; one that does
    not still names the page's origin (the console sends no referrer, so its own posts may say `null`,
    which is refused only when nothing else vouches). A request with neither (not a browser's form
    post) still needs the CSRF token."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


NOTICE_COOKIE = "console_notice"
MAX_NOTICE = 600


def set_notice(response: Response, request: Request, text: str) -> None:
    response.set_cookie(
        NOTICE_COOKIE,
        quote(text[:MAX_NOTICE], safe=""),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def notice(request: Request) -> str:
    return unquote(request.cookies.get(NOTICE_COOKIE, ""))[:MAX_NOTICE]


def clear_notice(response: Response, request: Request) -> None:
    response.delete_cookie(
        NOTICE_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


class FormError(Exception):
    pass


async def read_form(request: Request) -> dict[str, list[str]]:
    """A url-encoded form (the only kind the console's forms send), every value of each name. Parsed
    here rather than by a multipart parser: no file ever comes this way."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("expected a url-encoded form")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormError("the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise FormError("the form is not UTF-8") from exc
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form
