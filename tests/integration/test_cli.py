"""The `loyalty` command: every subcommand is listed, and each passes its arguments to its script."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from scripts.cli import app
from tests.conftest import JWT_SECRET

runner = CliRunner()
COMMANDS = ["serve", "token", "jobs", "import-purchases", "verify-ledger", "bench", "export-schema"]
COMMANDS += ["worker", "scheduler"]


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A database and var/ of the test's own."""
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("LOYALTY_ENV", raising=False)
    return tmp_path


def test_help_lists_every_subcommand() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert command in result.output


def test_a_subcommand_help_is_its_scripts_own() -> None:
    result = runner.invoke(app, ["jobs", "--help"])
    assert result.exit_code == 0
    assert "usage: scripts/jobs" in result.output
    assert "release-holds" in result.output


def test_token_prints_a_signed_token(local: Path) -> None:
    result = runner.invoke(app, ["token", "--role", "member", "--member-id", "7"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), JWT_SECRET, algorithms=["HS256"], audience="loyalty-api")
    assert claims["role"] == "member"


def test_jobs_run_and_report_one_line_each(local: Path) -> None:
    result = runner.invoke(app, ["jobs", "mature", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("mature: 0 points of 0 purchases now available")


def test_verify_ledger_exit_status_is_the_scripts(local: Path) -> None:
    # No database file: the verifier refuses to create one and says so, with its own status 2.
    result = runner.invoke(app, ["verify-ledger"])
    assert result.exit_code == 2


def test_worker_takes_the_workers_own_arguments() -> None:
    result = runner.invoke(app, ["worker", "--help"])
    assert result.exit_code == 0
    assert "scripts/worker" in result.output
