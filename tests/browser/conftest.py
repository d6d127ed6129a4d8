"""A real server and a real headless Chromium for browser tests.

The server is `python -m scripts.serve` (migrate, then uvicorn) on a free port over a temporary SQLite
database. Chromium and chromedriver are Debian's `chromium` and `chromium-driver`; without them (or
without GraphiQL's files, `npm ci --prefix graphiql`) the tests are skipped, saying why, unless
REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium.webdriver import Chrome, ChromeOptions
from selenium.webdriver.chrome.service import Service

from api.auth import issue_token
from api.graphiql import missing_assets
from api.settings import DEFAULT_GRAPHIQL_ASSETS_DIR, Settings
from domain.actors import Role
from tests.conftest import JWT_SECRET

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or REPO / "var" / "test-artifacts")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SERVER_START_SECONDS = 300  # a bound on waiting for a broken server, not an assertion about speed


def _browser_missing() -> str | None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "chromium or chromedriver not found (apt-get install -y chromium chromium-driver)"
    if missing := missing_assets(DEFAULT_GRAPHIQL_ASSETS_DIR):
        return f"GraphiQL's files are not installed (npm ci --prefix graphiql); missing {missing[0]}"
    return None


BROWSER_MISSING = _browser_missing()


@pytest.fixture(scope="session")
def browser_available() -> None:
    if BROWSER_MISSING:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {BROWSER_MISSING}")
        pytest.skip(BROWSER_MISSING)


@dataclass(frozen=True)
class Server:
    url: str
    settings: Settings

    def admin_token(self) -> str:
        return issue_token(self.settings, role=Role.ADMIN, subject="admin@browser-test")

    def processor_token(self) -> str:
        return issue_token(self.settings, role=Role.PROCESSOR, subject="cards-1", processor_id=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _serving(tmp_path_factory.mktemp("browser-server"), seed_demo=False) as running:
        yield running


@pytest.fixture(scope="session")
def demo_server(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over the demo data `scripts/serve` loads into an empty database."""
    with _serving(tmp_path_factory.mktemp("demo-server"), seed_demo=True) as running:
        yield running


@contextmanager
def _serving(tmp: Path, *, seed_demo: bool) -> Iterator[Server]:
    port = _free_port()
    database_url = f"sqlite+aiosqlite:///{tmp / 'browser.db'}"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "VAR_DIR": str(tmp / "var"),
        "SEED_DEMO": "1" if seed_demo else "0",
        "ACCESS_LOG": "0",
        "GRAPHIQL": "true",
        "GRAPHIQL_ASSETS_DIR": str(DEFAULT_GRAPHIQL_ASSETS_DIR),  # the files the skip check found
    }
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.serve"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, tmp / "server.log")
        yield Server(url, Settings(database_url=database_url, jwt_secret=JWT_SECRET))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer /healthz:\n{log.read_text()}")


@pytest.fixture
def browser(browser_available: None, tmp_path: Path) -> Iterator[Chrome]:
    options = ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for CSP reports
    # An explicit driver path: selenium then never tries to download one.
    driver = Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Path:
    """Where the test keeps its screenshot: var/test-artifacts/<test name>.png (BROWSER_ARTIFACTS
    names another folder)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{request.node.name}.png"
