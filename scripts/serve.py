"""`scripts/serve`: migrate, seed an empty database with demo data, say how to get tokens, run uvicorn.

Environment: HOST (127.0.0.1), PORT (8000), WORKERS (1), SEED_DEMO (1; 0 when LOYALTY_ENV=production),
ACCESS_LOG (1), DATABASE_URL (the SQLite file var/loyalty.db), PROMETHEUS_MULTIPROC_DIR (var/prometheus
when WORKERS > 1) and the rest of api/settings.py. Migrations
run here, once, synchronously and before any event loop; the workers then import `api.main:app`, which
does not migrate.
The output never holds a token: it is kept in terminals, CI logs and process supervisors' files, where a
live admin token would outlive its purpose. It names the `scripts/token` command for each demo principal.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.app import migration_keys, open_database
from api.settings import ConfigurationError, Settings
from api.types.ids import encode_id
from domain.actors import Role
from domain.clock import SystemClock
from domain.members import MemberStatus
from persistence import tables
from persistence.engine import Database
from persistence.migrate import upgrade_to_head
from scripts.seed_demo import seed_if_empty, summary
from telemetry.logs import configure_logging
from telemetry.metrics import MULTIPROC_ENV


@dataclass(frozen=True)
class Principal:
    """Someone to act as: a row of the demo data."""

    role: Role
    type_name: str  # the API's node type, for the global id
    id: int
    label: str


async def prepare(settings: Settings, *, seed_demo: bool) -> list[Principal]:
    """Seed an empty database (when asked) and find whom to name in the banner."""
    database = open_database(settings)
    try:
        if seed_demo:
            started = time.perf_counter()
            if await seed_if_empty(database, SystemClock()):
                made = ", ".join(f"{n} {what}" for what, n in (await summary(database)).items())
                print(f"seeded demo data in {time.perf_counter() - started:.1f}s: {made}", flush=True)
        return await principals(database)
    finally:
        await database.dispose()


async def principals(database: Database) -> list[Principal]:
    """The first merchant, active member and partner brand, by id."""
    found: list[Principal] = []
    m, b, p = tables.merchants, tables.member_balances, tables.partner_brands
    async with database.read_engine.connect() as conn:
        merchant = (
            await conn.execute(select(m.c.id, m.c.name, m.c.category, m.c.channel).order_by(m.c.id).limit(1))
        ).first()
        if merchant:
            label = f"{merchant.name} ({merchant.category}, {merchant.channel})"
            found.append(Principal(Role.MERCHANT, "Merchant", merchant.id, label))
        member = (
            await conn.execute(
                select(tables.members.c.id, tables.members.c.external_ref, b.c.available)
                .join(b, b.c.member_id == tables.members.c.id)
                .where(tables.members.c.status == MemberStatus.ACTIVE.value)
                .order_by(tables.members.c.id)
                .limit(1)
            )
        ).first()
        if member:
            label = f"{member.external_ref}, {member.available} points available"
            found.append(Principal(Role.MEMBER, "Member", member.id, label))
        partner = (await conn.execute(select(p.c.id, p.c.name, p.c.kind).order_by(p.c.id).limit(1))).first()
        if partner:
            found.append(
                Principal(Role.PARTNER, "PartnerBrand", partner.id, f"{partner.name} ({partner.kind})")
            )
    return found


def banner(settings: Settings, host: str, port: int, principals: list[Principal]) -> str:
    """Where the server is and how to get a token for each demo principal; never a token itself."""
    shown_host = f"[{host}]" if ":" in host else host
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    lines = [
        "",
        f"  {'GraphiQL' if settings.graphiql else 'GraphQL '}:  http://{shown_host}:{port}/graphql",
        f"  Console:   http://{shown_host}:{port}/console (sign in with an admin token)",
        f"  Database:  {url}",
        "",
        "  Tokens: make one with scripts/token and send it as `Authorization: Bearer <token>`:",
        "",
        "  admin",
        "    scripts/token --role admin",
    ]
    for who in principals:
        gid = encode_id(who.type_name, who.id)
        lines += [
            "",
            f"  {who.role.value} {who.id}: {who.label} (global id {gid})",
            f"    scripts/token --role {who.role.value} --{who.role.value}-id {who.id}",
        ]
    if not principals:
        lines += ["", "  (no merchants, members or partner brands yet: create them as admin)"]
    return "\n".join([*lines, ""])


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        sys.exit(f"configuration error: {exc}")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    workers = int(os.environ.get("WORKERS", "1"))
    # A production database is never filled with demo members unless asked for.
    seed_demo = _flag("SEED_DEMO", default=not settings.production)
    # One log line per request costs about a tenth of a cheap request; production logs at the proxy.
    access_log = _flag("ACCESS_LOG")

    configure_logging(settings.log_format)
    metrics_dir = prepare_metrics_dir(settings.var_dir, workers)
    if metrics_dir is not None:
        print(f"metrics of the {workers} workers are added up in {metrics_dir}", flush=True)
    print(f"migrating {make_url(settings.database_url).render_as_string()} ...", flush=True)
    upgrade_to_head(settings.database_url, migration_keys(settings))  # sync: alembic runs its own loop
    found = asyncio.run(prepare(settings, seed_demo=seed_demo))
    if settings.signs_locally:
        print(banner(settings, host, port, found), flush=True)
    else:
        print(f"\n  http://{host}:{port}/graphql (tokens come from your identity provider)\n", flush=True)

    # No `server` header: it only tells a scanner which versions to try.
    if workers > 1:
        # Each worker is a fresh process that imports the module uvicorn runs from. From uvicorn's own
        # (small) entry point it answers the supervisor's health checks at once; importing this one,
        # which loads the whole app before the worker's health thread starts, outlasted the check's
        # 5 seconds on a busy machine and had the workers killed in a loop.
        flags = ["--no-server-header", *([] if access_log else ["--no-access-log"])]
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", host, "--port", str(port)]
        os.execv(sys.executable, [*command, "--workers", str(workers), *flags])
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        server_header=False,
        log_config=None,  # logging is api/main.py's (telemetry/logs.py)
    )


def prepare_metrics_dir(var_dir: Path, workers: int) -> Path | None:
    """Prometheus' multiprocess mode for several workers: each writes its values to files in one
    directory, emptied here so that a restart starts from zero, and /metrics adds them up. The
    directory is PROMETHEUS_MULTIPROC_DIR when set, else var/prometheus when WORKERS > 1. One worker
    needs none: it runs in this process, where the metrics were set up already."""
    given = os.environ.get(MULTIPROC_ENV)
    if not given and workers <= 1:
        return None
    path = Path(given) if given else var_dir / "prometheus"
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)  # inherited by the workers uvicorn starts
    return path


def _flag(name: str, default: bool = True) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


if __name__ == "__main__":
    main()
