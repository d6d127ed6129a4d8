"""GraphiQL's page and files over HTTP: only our own URLs, a CSP-friendly page, only the listed files
served, and a page that says how to install the files when they are missing. (The browser test in
tests/browser runs the real thing.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.graphiql import ASSETS, INLINE_SCRIPT_HASH, OWN_FILES
from api.settings import DEFAULT_GRAPHIQL_ASSETS_DIR, Settings
from persistence.engine import create_database
from tests.conftest import JWT_SECRET

REPO = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}


def _fake_install(root: Path) -> Path:
    """A node_modules folder holding every listed file (its content names it), plus one that is not listed."""
    for name, path in ASSETS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"/* {name} */")
    (root / "graphiql" / "package.json").write_text('{"unlisted": true}')
    return root


@pytest.fixture
def assets_dir(tmp_path: Path) -> Path:
    return _fake_install(tmp_path / "node_modules")


@asynccontextmanager
async def _client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # The page needs no database; the app still wants one, which is never connected to.
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client
    await database.dispose()


@pytest.fixture
async def http(assets_dir: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(Settings(jwt_secret=JWT_SECRET, graphiql_assets_dir=assets_dir), tmp_path) as client:
        yield client


async def test_the_page_loads_only_files_this_server_serves(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers=HTML)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert re.findall(r"https?://", page.text) == []
    urls = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sorted(urls) == sorted(f"/graphiql/static/{name}" for name in [*ASSETS, *OWN_FILES])
    for url in urls:
        served = await http.get(url)
        assert served.status_code == 200, url
        name = url.rsplit("/", 1)[1]
        if name in ASSETS:
            assert served.text == f"/* {name} */"
        else:
            assert served.content == OWN_FILES[name].read_bytes()


async def test_the_page_has_one_inline_script_and_no_inline_handlers_or_styles(
    http: httpx.AsyncClient,
) -> None:
    page = (await http.get("/graphql", headers=HTML)).text

    inline = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" == INLINE_SCRIPT_HASH
    assert re.findall(r"<[^>]*\son[a-z]+\s*=", page) == []
    assert "<style" not in page
    assert re.findall(r"<[^>]*\sstyle\s*=", page) == []


async def test_static_serves_only_the_listed_files(http: httpx.AsyncClient) -> None:
    for path in (
        "/graphiql/static/graphiql/package.json",  # a real file in the folder, not listed
        "/graphiql/static/../package.json",
        "/graphiql/static/%2e%2e/graphiql/package.json",
        "/graphiql/static/react/umd/react.production.min.js",  # listed under another name only
        "/graphiql/static/",
    ):
        response = await http.get(path)
        assert response.status_code == 404, path
        assert "unlisted" not in response.text


async def test_static_files_carry_validators_for_caching(http: httpx.AsyncClient) -> None:
    url = "/graphiql/static/graphiql.min.js"
    first = await http.get(url)
    again = await http.get(url, headers={"if-none-match": first.headers["etag"]})

    assert first.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert again.status_code == 304
    assert (await http.post(url)).status_code == 405


async def test_without_the_files_the_page_says_how_to_install_them(tmp_path: Path) -> None:
    empty = tmp_path / "not-installed"
    settings = Settings(jwt_secret=JWT_SECRET, graphiql_assets_dir=empty)
    async with _client(settings, tmp_path) as http:
        page = await http.get("/graphql", headers=HTML)
        css = await http.get("/graphiql/static/page.css")
        missing_js = await http.get("/graphiql/static/graphiql.min.js")

    assert page.status_code == 503
    assert "npm ci --prefix graphiql" in page.text
    assert str(empty) in page.text
    assert "<script" not in page.text  # nothing that could hang on "Loading..."
    assert re.findall(r"https?://", page.text) == []
    assert css.status_code == 200  # our own files are always there
    assert missing_js.status_code == 404


async def test_installing_the_files_needs_no_restart(tmp_path: Path) -> None:
    later = tmp_path / "installed-later"
    async with _client(Settings(jwt_secret=JWT_SECRET, graphiql_assets_dir=later), tmp_path) as http:
        before = await http.get("/graphql", headers=HTML)
        _fake_install(later)
        after = await http.get("/graphql", headers=HTML)

    assert (before.status_code, after.status_code) == (503, 200)
    assert 'id="graphiql"' in after.text


async def test_graphiql_off_serves_neither_page_nor_files(assets_dir: Path, tmp_path: Path) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, graphiql=False, graphiql_assets_dir=assets_dir)
    async with _client(settings, tmp_path) as http:
        page = await http.get("/graphql", headers=HTML)
        css = await http.get("/graphiql/static/page.css")
        js = await http.get("/graphiql/static/graphiql.min.js")

    assert page.status_code == 404
    assert (css.status_code, js.status_code) == (404, 404)


def test_graphiql_assets_dir_comes_from_the_environment(tmp_path: Path) -> None:
    given = Settings.from_env({"JWT_SECRET": JWT_SECRET, "GRAPHIQL_ASSETS_DIR": str(tmp_path)})
    default = Settings.from_env({"JWT_SECRET": JWT_SECRET})

    assert given.graphiql_assets_dir == tmp_path
    assert default.graphiql_assets_dir == DEFAULT_GRAPHIQL_ASSETS_DIR == REPO / "graphiql" / "node_modules"


def test_the_npm_versions_are_pinned_and_locked() -> None:
    package = json.loads((REPO / "graphiql" / "package.json").read_text())
    lock = json.loads((REPO / "graphiql" / "package-lock.json").read_text())

    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is a range, not a pinned version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path in ASSETS.values():  # every file served comes from a pinned package
        assert any(path.startswith(f"{name}/") for name in package["dependencies"]), path
