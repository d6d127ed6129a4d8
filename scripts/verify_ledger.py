"""Re-sum the whole ledger and report every broken invariant (`scripts/verify-ledger`).

    scripts/verify-ledger                      # DATABASE_URL, or the embedded SQLite database
    DATABASE_URL=postgresql+asyncpg://... scripts/verify-ledger --limit 100

Reads one consistent snapshot (see persistence/queries/ledger_check.py for the invariants, and
persistence/queries/audit_check.py for the audit log's hash chain, whose first altered row it names),
prints what it checked, the system account totals derived from the journal, and each violation on its
own line. Exit status: 0 when the ledger is sound, 1 on any violation, 2 when it could not check.
Read-only: it never writes, so it is safe against a live database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api.settings import DEFAULT_DATABASE_URL
from persistence.engine import create_database
from persistence.queries.ledger_check import LedgerReport, verify_ledger

SYSTEM_ACCOUNTS = ("ISSUANCE", "REDEMPTION", "EXPIRY", "ADJUSTMENT")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/verify-ledger",
        description="Re-sum the ledger in one snapshot; exit 1 on any violation. Uses DATABASE_URL.",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="report at most N violations per check (default: all)",
    )
    return parser


async def run(url: str, *, limit: int | None = None, out: TextIO | None = None) -> int:
    shown = make_url(url).render_as_string(hide_password=True)
    database = create_database(url, pool_size=1, max_overflow=0)
    try:
        report = await verify_ledger(database.read_engine, limit_per_check=limit)
    except SQLAlchemyError as exc:
        print(f"error: could not check the ledger at {shown}: {exc}", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    print_report(report, shown, out or sys.stdout)
    return 0 if report.ok else 1


def print_report(report: LedgerReport, shown_url: str, out: TextIO) -> None:
    print(f"ledger check of {shown_url} (one snapshot)", file=out)
    print("checked: " + ", ".join(f"{count} {name}" for name, count in report.counts.items()), file=out)
    print("system accounts (derived from the journal):", file=out)
    others = [k for k in report.system_totals if k not in SYSTEM_ACCOUNTS and report.system_totals[k]]
    for kind in (*SYSTEM_ACCOUNTS, *others):
        print(f"  {kind:<18} {report.system_totals.get(kind, 0):>16,}", file=out)
    print("member accounts (stored balances):", file=out)
    for kind, total in report.member_totals.items():
        print(f"  {kind:<18} {total:>16,}", file=out)
    grand = sum(report.system_totals.values()) + sum(report.member_totals.values())
    print(f"  {'all accounts':<18} {grand:>16,}  (0 when the ledger balances)", file=out)
    if report.ok:
        print("OK: no violations", file=out)
        return
    print(f"FAILED: {len(report.violations)} violation(s)", file=out)
    for violation in report.violations:
        print(str(violation), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        build_parser().error("--limit must be a positive number")
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = make_url(url)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        # Connecting would create an empty database file; a verifier must not.
        print(f"error: no database at {parsed.render_as_string(hide_password=True)}", file=sys.stderr)
        return 2
    return asyncio.run(run(url, limit=args.limit))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
