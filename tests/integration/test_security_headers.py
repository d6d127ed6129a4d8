"""Every response is neither sniffed, stored nor framed, whoever made it; the GraphiQL page gets a
Content-Security-Policy that allows exactly its own inline script and style."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.middleware import DATA_POLICY, SecurityHeadersMiddleware, page_policy
from api.settings import Settings
from tests.conftest import Backend, make_client

ALWAYS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}


def assert_guarded(response: httpx.Response) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    assert "server" not in response.headers
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


async def test_every_kind_of_response_carries_the_headers(settings: Settings, backend: Backend) -> None:
    small = replace(settings, max_body_bytes=1000)
    json_type = {"content-type": "application/json"}
    async with make_client(small, backend.database) as http:
        answers = {
            "graphql POST": await http.post("/graphql", json={"query": "{ __typename }"}),
            "healthz": await http.get("/healthz"),
            "readyz": await http.get("/readyz"),
            "413": await http.post("/graphql", content=b"{" + b" " * 2000 + b"}", headers=json_type),
            "400": await http.post("/graphql", content=b"{nope", headers=json_type),
            "404": await http.get("/nowhere"),
        }

    assert [answers[k].status_code for k in ("graphql POST", "healthz", "readyz", "413", "400", "404")] == [
        200,
        200,
        200,
        413,
        400,
        404,
    ]
    for answer in answers.values():
        assert_guarded(answer)
        assert answer.headers["content-security-policy"] == DATA_POLICY


async def test_graphiql_page_has_a_policy_that_allows_exactly_its_own_inline_code(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert_guarded(page)
    policy = directives(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    inline_scripts = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    assert inline_scripts, "the page runs an inline script: its hash must be allowed"
    assert sorted(s for s in policy["script-src"] if s.startswith("'sha256-")) == sorted(
        sha256_source(s) for s in inline_scripts
    )
    # GraphiQL adds <style> elements as it runs: a hash beside 'unsafe-inline' would switch it off.
    assert "'unsafe-inline'" in policy["style-src"]
    assert not [s for s in policy["style-src"] if s.startswith("'sha256-")]
    # Each script the page loads comes from this origin or one the policy names.
    for src in re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", page.text):
        origin = re.match(r"https?://[^/]+", src)
        assert origin is None or origin.group(0) in policy["script-src"], src
    assert policy["connect-src"] == ["'self'"]


def test_a_policy_never_allows_text_outside_the_template() -> None:
    template = (
        '<html><head><style>b{}</style><link rel="stylesheet" href="https://cdn.example/a.css"></head>'
        '<body><script src="/static/app.js"></script><script>go()</script></body></html>'
    )

    pinned = directives(page_policy(template))
    loose_styles = directives(page_policy(template, runtime_styles=True))

    assert pinned["script-src"] == ["'self'", sha256_source("go()")]
    assert pinned["style-src"] == ["'self'", "https://cdn.example", sha256_source("b{}")]
    assert loose_styles["script-src"] == pinned["script-src"]
    assert loose_styles["style-src"] == ["'self'", "https://cdn.example", "'unsafe-inline'"]


async def test_a_crash_is_answered_with_a_guarded_500() -> None:
    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    guarded = SecurityHeadersMiddleware(crashing)
    transport = httpx.ASGITransport(app=guarded, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/")

    assert answer.status_code == 500
    assert_guarded(answer)


async def test_headers_a_route_set_are_replaced_not_doubled() -> None:
    async def leaky(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"cache-control", b"public, max-age=3600"), (b"server", b"leaky/1.0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    transport = httpx.ASGITransport(app=SecurityHeadersMiddleware(leaky))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/")

    assert answer.headers.get_list("cache-control") == ["no-store"]
    assert_guarded(answer)


@pytest.mark.parametrize("graphiql", [True, False])
async def test_without_graphiql_no_html_policy_is_needed(
    settings: Settings, backend: Backend, graphiql: bool
) -> None:
    async with make_client(replace(settings, graphiql=graphiql), backend.database) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})

    assert_guarded(page)
    assert (page.status_code == 200) is graphiql
    assert (page.headers["content-security-policy"] != DATA_POLICY) is graphiql
