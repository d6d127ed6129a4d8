"""Re-encrypt members' contact data and webhook signing secrets under the first key, and re-hash the
contact data under the lookup key (`scripts/rotate-personal-data`).

    PERSONAL_DATA_KEYS=<new>,<old> PERSONAL_DATA_LOOKUP_KEY=... scripts/rotate-personal-data

Rotation: put a new key first in PERSONAL_DATA_KEYS, keeping the old ones after it, and restart the
servers (they encrypt with the new key and still decrypt with every key); run this; then drop the
old keys. A new PERSONAL_DATA_LOOKUP_KEY needs this run before `members(filter: {phone})` finds
anyone again. Members are rewritten in batches of their own short transactions, each row only when
its token is not under the first key or its lookup hash differs, so a run can be repeated or
interrupted; then the webhook subscriptions' secrets (a secret stored in the clear before secrets
were sealed is sealed). Prints how many rows it rewrote; never a value.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import open_database, personal_data_vault
from api.settings import ConfigurationError, Settings
from domain.webhooks import SECRET_PREFIX
from persistence.delivery import open_secret
from persistence.personal_data import PersonalDataVault
from persistence.tables import members, webhook_subscriptions

BATCH = 500


async def rotate(engine: AsyncEngine, vault: PersonalDataVault) -> int:
    """Members rewritten; those already under the first key with the right hashes are left alone."""
    changed, after = 0, 0
    while True:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        members.c.id,
                        members.c.phone_encrypted,
                        members.c.email_encrypted,
                        members.c.phone_lookup,
                        members.c.email_lookup,
                    )
                    .where(members.c.id > after)
                    .order_by(members.c.id)
                    .limit(BATCH)
                )
            ).all()
            for row in rows:
                phone, email = vault.open(row.phone_encrypted), vault.open(row.email_encrypted)
                values = {
                    "phone_lookup": vault.phone_lookup(phone),
                    "email_lookup": vault.email_lookup(email),
                }
                current = (
                    vault.under_first_key(row.phone_encrypted)
                    and vault.under_first_key(row.email_encrypted)
                    and (row.phone_lookup, row.email_lookup)
                    == (values["phone_lookup"], values["email_lookup"])
                )
                if current:
                    continue
                values |= {
                    "phone_encrypted": vault.reseal(row.phone_encrypted),
                    "email_encrypted": vault.reseal(row.email_encrypted),
                }
                await conn.execute(update(members).where(members.c.id == row.id).values(values))
                changed += 1
        if len(rows) < BATCH:
            return changed
        after = rows[-1].id


async def rotate_webhook_secrets(engine: AsyncEngine, vault: PersonalDataVault) -> int:
    """Subscriptions whose secrets were rewritten under the first key (few: one transaction)."""
    w = webhook_subscriptions.c
    changed = 0
    async with engine.begin() as conn:
        for row in await conn.execute(select(w.id, w.secret, w.previous_secret).order_by(w.id)):
            stored = {"secret": row.secret, "previous_secret": row.previous_secret}
            values = {
                column: _sealed(vault, value)
                for column, value in stored.items()
                if value and (value.startswith(SECRET_PREFIX) or not vault.under_first_key(value))
            }
            if values:
                await conn.execute(update(webhook_subscriptions).where(w.id == row.id).values(values))
                changed += 1
    return changed


def _sealed(vault: PersonalDataVault, value: str) -> str:
    sealed = vault.seal(open_secret(vault, value))
    assert sealed is not None
    return sealed


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    vault = personal_data_vault(settings)
    if vault is None:
        print("error: set PERSONAL_DATA_KEYS and PERSONAL_DATA_LOOKUP_KEY", file=sys.stderr)
        return 2

    async def run() -> tuple[int, int]:
        database = open_database(settings, pool_size=1, max_overflow=0)
        try:
            engine = database.write_engine
            return await rotate(engine, vault), await rotate_webhook_secrets(engine, vault)
        finally:
            await database.dispose()

    rewritten, subscriptions = asyncio.run(run())
    print(f"rewrote {rewritten} member(s) and {subscriptions} webhook subscription(s) under the first key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
