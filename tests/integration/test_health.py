"""/healthz and /readyz: ready only when the database answers and is migrated to the head."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.settings import Settings
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head_async
from tests.conftest import JWT_SECRET, Backend, make_client


async def readiness(url: str) -> tuple[int, dict[str, str]]:
    database = create_database(url)
    try:
        async with make_client(Settings(database_url=url, jwt_secret=JWT_SECRET), database) as http:
            response = await http.get("/readyz")
            assert (await http.get("/healthz")).json() == {"status": "ok"}
        return response.status_code, response.json()
    finally:
        await database.dispose()


async def test_a_migrated_database_is_ready(backend: Backend, http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert await readiness(url) == (503, {"status": "unavailable", "database": "migrations pending"})
    await upgrade_to_head_async(url)
    assert await readiness(url) == (200, {"status": "ok"})


async def test_an_unreachable_database_is_not_ready_and_not_an_error() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    assert await readiness(url) == (503, {"status": "unavailable", "database": "unreachable"})
