"""`scripts/serve` says how to get tokens and never prints one; its server sends no `server` banner."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from api.settings import Settings
from domain.actors import Role
from scripts.serve import Principal, banner
from tests.conftest import JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
# Three base64url parts, the first a JSON header: a JWT however it was signed.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def test_the_banner_names_the_commands_and_holds_no_token() -> None:
    demo = [
        Principal(Role.MERCHANT, "Merchant", 3, "Tea House (DINING, OFFLINE)"),
        Principal(Role.MEMBER, "Member", 7, "M-0007, 120 points available"),
        Principal(Role.PARTNER, "PartnerBrand", 2, "Sky Air (AIRLINE)"),
    ]

    text = banner(Settings(jwt_secret=JWT_SECRET), "127.0.0.1", 8000, demo)

    assert JWT.search(text) is None, text
    assert "scripts/token --role admin" in text
    assert "http://127.0.0.1:8000/console" in text
    assert "scripts/token --role merchant --merchant-id 3" in text
    assert "scripts/token --role member --member-id 7" in text
    assert "scripts/token --role partner --partner-id 2" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], limit_seconds: float = 180) -> dict[str, str]:
    """The headers of the first answer from the server; fails if it exits or never answers."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return {k.lower(): v for k, v in answer.headers.items()}
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}")


def test_serve_on_a_demo_database_prints_no_token_and_sends_no_server_header(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "SEED_DEMO": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "ACCESS_LOG": "0",
        "JWT_SECRET": JWT_SECRET,
        "VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("LOYALTY_ENV", None)
    output = tmp_path / "serve.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            headers = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    printed = output.read_text()

    assert "seeded demo data" in printed, printed
    assert "scripts/token --role admin" in printed
    assert "scripts/token --role member --member-id" in printed
    assert JWT.search(printed) is None, printed
    assert "server" not in headers, headers
    assert headers["x-content-type-options"] == "nosniff"
