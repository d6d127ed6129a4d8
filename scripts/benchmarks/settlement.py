"""The settlement import figure: a generated file posted with `scripts/import-purchases`' own code,
against a bare COPY of the same purchases into the same table in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from domain.clock import SystemClock
from persistence.engine import create_database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.benchmarks.dataset import Dataset, member_ref
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import ROOT

# Rows each imported purchase writes: idempotency key, purchase, journal entry, two lines, lot.
ROWS_PER_PURCHASE = 6


def write_file(path: Path, rows: int, members: int) -> datetime:
    when = datetime.now(UTC) - timedelta(days=1)
    with path.open("w") as out:
        out.write("reference,member,amount,currency,time,channel\n")
        stamp = when.isoformat()
        for i in range(rows):
            ref = member_ref(1 + i % members)
            out.write(f"B-{i},{ref},{100 + i % 90_000}.{i % 100:02d},CNY,{stamp},OFFLINE\n")
    return when


async def figures(
    url: str, data: Dataset, rows: int, report: Report, progress: Callable[[str], None]
) -> None:
    from scripts.import_purchases import import_file

    path = ROOT / "var" / "bench-settlement.csv"
    when = write_file(path, rows, len(data.member_ids))
    database = create_database(url)
    try:
        progress(f"settlement import of {rows:,} lines ...")
        summary = await import_file(
            path,
            merchant_id=data.merchant_ids[-1],
            fmt="csv",
            batch_size=1000,
            uow_factory=lambda: SqlAlchemyUnitOfWork(database.write_engine),
            clock=SystemClock(),
            progress=False,
        )
    finally:
        await database.dispose()
    if summary.posted != rows or summary.bad_lines:
        raise SystemExit(f"the import posted {summary.posted} of {rows} lines: {summary.bad_lines[:3]}")
    progress(f"bare COPY of {rows:,} purchases ...")
    copy_rate = await bare_copy(url, data, rows, when)
    purchases_per_second = rows / summary.seconds
    report.add(
        Figure(
            "import",
            f"settlement file, {rows:,} lines, earning rules applied",
            purchases_per_second,
            "purchases/s",
            target_min=10_000,
            detail=f"{purchases_per_second * ROWS_PER_PURCHASE:,.0f} rows/s written",
        )
    )
    report.add(
        Figure(
            "import",
            "rows written",
            purchases_per_second * ROWS_PER_PURCHASE,
            "rows/s",
            ceiling=copy_rate,
            ceiling_label="bare COPY into purchases",
        )
    )


async def bare_copy(url: str, data: Dataset, rows: int, when: datetime) -> float:
    """COPY the same purchases into the same table, timed, then roll back."""
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    members = data.member_ids
    records = [
        (
            members[i % len(members)],
            data.merchant_ids[0],
            10_000 + i,
            "CNY",
            "OFFLINE",
            when,
            f"C-{i}",
            100,
            0,
            when,
        )
        for i in range(rows)
    ]
    try:
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "purchases",
            records=records,
            columns=[
                "member_id",
                "merchant_id",
                "amount_minor",
                "currency",
                "channel",
                "occurred_at",
                "reference",
                "points_earned",
                "points_pending",
                "created_at",
            ],
        )
        seconds = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await conn.close()
    return rows / seconds
