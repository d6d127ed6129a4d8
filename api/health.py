"""/healthz: the process is up. /readyz: the database answers and its schema is at the latest migration.

The readiness check itself comes from the composition root (api/app.py), which alone knows persistence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

# Why the service cannot serve yet, or None when it can.
ReadinessCheck = Callable[[], Awaitable[str | None]]
Endpoint = Callable[[Request], Awaitable[JSONResponse]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def readyz(check: ReadinessCheck) -> Endpoint:
    async def endpoint(request: Request) -> JSONResponse:
        reason = await check()
        if reason is not None:
            return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
        return JSONResponse({"status": "ok"})

    return endpoint
