"""/healthz: the process is up. /readyz: the database answers and its schema is at the latest migration."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from persistence.engine import Database
from persistence.migrate import current_revision_is_head


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        async with database.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        at_head = await current_revision_is_head(database.read_engine)
    except Exception:  # any failure to reach the database means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if not at_head:
        return JSONResponse({"status": "unavailable", "database": "migrations pending"}, status_code=503)
    return JSONResponse({"status": "ok"})
