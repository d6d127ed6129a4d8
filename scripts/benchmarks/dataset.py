"""The benchmark's database: a fresh schema, 10,000 members, merchants, and two ledger-size members.

Rows are written with set-based SQL rather than through the use cases: the data set is scaffolding,
and a million-entry ledger built through the API would take longer than the benchmark itself.
The rows are the ones the use cases would write, so `scripts/verify-ledger` passes on the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, literal, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain import member_links
from domain.redemption_codes import ALPHABET
from persistence import tables
from persistence.migrate import upgrade_to_head_async

MEMBERS = 10_000
MERCHANTS = 20
SMALL_LEDGER = 100


@dataclass(frozen=True)
class Dataset:
    url: str
    member_ids: list[int]  # the earn pool
    merchant_ids: list[int]
    small_member: int  # SMALL_LEDGER entries
    big_member: int  # `big_entries` entries
    big_entries: int


def _remove_sqlite_files(database: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    Path(database).parent.mkdir(parents=True, exist_ok=True)


async def recreate_database(url: str) -> None:
    """Drop and create the database `url` names (PostgreSQL), or delete the SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _remove_sqlite_files(parsed.database or "")
        return
    admin = create_async_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


def member_ref(n: int) -> str:
    """The n-th bench member's reference at the last merchant: well formed, and derived from n."""
    digits = ""
    while len(digits) < member_links.RANDOM_LENGTH:
        n, digit = divmod(n, len(ALPHABET))
        digits = ALPHABET[digit] + digits
    return member_links.PREFIX + digits


async def build(url: str, *, big_entries: int) -> Dataset:
    await recreate_database(url)
    await upgrade_to_head_async(url)
    engine = create_async_engine(url, hide_parameters=True)
    try:
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(
                insert(tables.merchants),
                [
                    {
                        "name": f"Bench Merchant {i}",
                        "category": "DINING",
                        "channel": "BOTH",
                        "partner_id": None,
                        "earn_rate_override": None,
                        "created_at": now,
                    }
                    for i in range(1, MERCHANTS + 1)
                ],
            )
            await conn.execute(
                insert(tables.members),
                [
                    {
                        "external_ref": f"bench-{i}",
                        "status": "ACTIVE",
                        "referral_code": f"B{i:09d}",
                        "tags": [],
                        "enrolled_at": now,
                    }
                    for i in range(1, MEMBERS + 3)
                ],
            )
            await conn.execute(
                insert(tables.member_balances).from_select(
                    ["member_id", "available", "pending", "held", "lifetime_earned", "lifetime_redeemed"],
                    select(tables.members.c.id, *(literal(0) for _ in range(5))),
                )
            )
            member_ids = list((await conn.execute(select(tables.members.c.id).order_by("id"))).scalars())
            merchant_ids = list((await conn.execute(select(tables.merchants.c.id).order_by("id"))).scalars())
            # Every member linked to the last merchant, whose settlement file names them by reference.
            await conn.execute(
                insert(tables.member_links),
                [
                    {
                        "merchant_id": merchant_ids[-1],
                        "member_id": member_id,
                        "member_ref": member_ref(n),
                        "linked_at": now,
                    }
                    for n, member_id in enumerate(member_ids, start=1)
                ],
            )
        small, big = member_ids[-2], member_ids[-1]
        if engine.dialect.name == "postgresql":
            await _grow_ledger(engine, small, merchant_ids[0], SMALL_LEDGER)
            await _grow_ledger(engine, big, merchant_ids[0], big_entries)
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        return Dataset(url, member_ids[:-2], merchant_ids, small, big, big_entries)
    finally:
        await engine.dispose()


async def existing(url: str) -> Dataset | None:
    """The data set an earlier run built in `url`, or None when there is none."""
    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with engine.connect() as conn:
            member_ids = list((await conn.execute(select(tables.members.c.id).order_by("id"))).scalars())
            merchant_ids = list((await conn.execute(select(tables.merchants.c.id).order_by("id"))).scalars())
            links = (await conn.execute(select(func.count()).select_from(tables.member_links))).scalar_one()
            if len(member_ids) != MEMBERS + 2 or len(merchant_ids) != MERCHANTS or links != len(member_ids):
                return None
            big = member_ids[-1]
            entries = (
                await conn.execute(select(func.count()).where(tables.journal_entries.c.member_id == big))
            ).scalar_one()
    except Exception:  # no such database, or not this schema: build afresh
        return None
    finally:
        await engine.dispose()
    return Dataset(url, member_ids[:-2], merchant_ids, member_ids[-2], big, int(entries))


async def _grow_ledger(engine: AsyncEngine, member_id: int, merchant_id: int, entries: int) -> None:
    """`entries` one-point purchases for one member, each with its journal entry, lines and lot; one a
    minute back from now, so a history is spread in time as a real one is."""
    step = 250_000
    for start in range(0, entries, step):
        count = min(step, entries - start)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    """
                    WITH p AS (
                        INSERT INTO purchases (member_id, merchant_id, amount_minor, currency,
                                               channel, occurred_at, reference, points_earned,
                                               points_pending, created_at)
                        SELECT :member, :merchant, 100, 'CNY', 'OFFLINE',
                               now() - (:start + n) * interval '1 minute', NULL, 1, 0, now()
                        FROM generate_series(1, :count) AS n
                        RETURNING id
                    ), e AS (
                        INSERT INTO journal_entries (member_id, kind, origin_type, origin_id, description,
                                                     created_at)
                        SELECT :member, 'EARN', 'PURCHASE', id, 'Earned at Bench Merchant 1', now() FROM p
                        RETURNING id
                    ), l AS (
                        INSERT INTO journal_lines (entry_id, account_kind, member_id, owner_id, amount)
                        SELECT id, 'ISSUANCE', NULL::bigint, NULL::bigint, -1 FROM e
                        UNION ALL
                        SELECT id, 'MEMBER_AVAILABLE', :member, NULL::bigint, 1 FROM e
                    )
                    INSERT INTO points_lots (member_id, entry_id, points, remaining, earned_at, expires_at)
                    SELECT :member, id, 1, 1, now(), now() + interval '24 months' FROM e
                    """
                ),
                {"member": member_id, "merchant": merchant_id, "count": count, "start": start},
            )
            await conn.execute(
                update(tables.member_balances)
                .where(tables.member_balances.c.member_id == member_id)
                .values(
                    available=tables.member_balances.c.available + count,
                    lifetime_earned=tables.member_balances.c.lifetime_earned + count,
                )
            )
