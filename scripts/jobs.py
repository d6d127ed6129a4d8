"""`scripts/jobs`: the scheduled work, run by hand or from cron. For now: `expire`, which expires every
member's lots past their date. Idempotent, and safe to run in two processes at once."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from api.settings import Settings
from domain.clock import SystemClock
from domain.services.expiry import run_expiry
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head
from persistence.unit_of_work import SqlAlchemyUnitOfWork


async def expire(database_url: str, show_progress: bool) -> str:
    database = create_database(database_url)
    started = time.perf_counter()

    def progress(members: int) -> None:
        if show_progress:
            print(f"\r  expired lots of {members:,} members ...", end="", file=sys.stderr, flush=True)

    try:
        run = await run_expiry(
            lambda: SqlAlchemyUnitOfWork(database.write_engine), SystemClock(), progress=progress
        )
    finally:
        await database.dispose()
    if show_progress:
        print(file=sys.stderr)
    seconds = time.perf_counter() - started
    return f"expire: {run.points:,} points of {run.members:,} members expired in {seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/jobs", description=__doc__)
    parser.add_argument("job", choices=["expire"], help="the job to run")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url)
    print(asyncio.run(expire(settings.database_url, not args.quiet and sys.stderr.isatty())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
