"""`scripts/serve`: migrate, seed an empty database with demo data, print tokens, run uvicorn.

Environment: HOST (127.0.0.1), PORT (8000), WORKERS (1), SEED_DEMO (1), ACCESS_LOG (1), DATABASE_URL
(the SQLite file var/loyalty.db) and the rest of api/settings.py. Migrations run here, once, synchronously and
before any event loop; the workers then import `api.main:app`, which does not migrate.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass

import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.auth import issue_token
from api.settings import ConfigurationError, Settings
from api.types.ids import encode_id
from domain.actors import Role
from domain.clock import SystemClock
from domain.members import MemberStatus
from persistence import tables
from persistence.engine import Database, create_database
from persistence.migrate import upgrade_to_head
from scripts.seed_demo import seed_if_empty, summary

TOKEN_TTL_SECONDS = 24 * 3600  # printed tokens last a working day


@dataclass(frozen=True)
class Principal:
    """Someone to print a token for: a row of the demo data."""

    role: Role
    type_name: str  # the API's node type, for the global id
    id: int
    label: str


async def prepare(settings: Settings, *, seed_demo: bool) -> list[Principal]:
    """Seed an empty database (when asked) and find whom to print tokens for."""
    database = create_database(settings.database_url, pool_size=settings.db_pool_size)
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
    shown_host = f"[{host}]" if ":" in host else host
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    hours = TOKEN_TTL_SECONDS // 3600
    lines = [
        "",
        f"  GraphiQL:  http://{shown_host}:{port}/graphql",
        f"  Database:  {url}",
        "",
        f"  Tokens (valid {hours} h; send as `Authorization: Bearer <token>`; more with scripts/token):",
        "",
        "  admin",
        f"    {issue_token(settings, role=Role.ADMIN, subject='admin@local', ttl_seconds=TOKEN_TTL_SECONDS)}",
    ]
    for who in principals:
        id_claim = {Role.MERCHANT: "merchant_id", Role.MEMBER: "member_id", Role.PARTNER: "partner_id"}[
            who.role
        ]
        token = issue_token(
            settings,
            role=who.role,
            subject=f"{who.role.value}-{who.id}",
            ttl_seconds=TOKEN_TTL_SECONDS,
            **{id_claim: who.id},
        )
        gid = encode_id(who.type_name, who.id)
        lines += [
            "",
            f"  {who.role.value} {who.id}: {who.label}",
            f"    global id {gid} (scripts/token --role {who.role.value} --{who.role.value}-id {who.id})",
            f"    {token}",
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
    seed_demo = _flag("SEED_DEMO")
    # One log line per request costs about a tenth of a cheap request; production logs at the proxy.
    access_log = _flag("ACCESS_LOG")

    print(f"migrating {make_url(settings.database_url).render_as_string()} ...", flush=True)
    upgrade_to_head(settings.database_url)  # sync: alembic runs its own event loop
    found = asyncio.run(prepare(settings, seed_demo=seed_demo))
    if settings.jwt_secret and not settings.jwt_public_keys:
        print(banner(settings, host, port, found), flush=True)
    else:
        print(f"\n  GraphiQL: http://{host}:{port}/graphql (tokens come from your identity provider)\n")

    uvicorn.run("api.main:app", host=host, port=port, workers=workers, access_log=access_log)


def _flag(name: str) -> bool:
    return os.environ.get(name, "1").strip().lower() not in {"0", "false", "no", "off"}


if __name__ == "__main__":
    main()
