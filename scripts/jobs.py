"""`scripts/jobs`: the scheduled work, run by hand or from cron: `mature` (pending points whose return
window has passed become available) and `expire` (lots past their date). Each is idempotent and safe
to run in two processes at once; `all` runs both, maturation first."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

from api.settings import Settings
from domain.clock import SystemClock
from domain.services.expiry import run_expiry
from domain.services.maturation import run_maturation
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head
from persistence.unit_of_work import SqlAlchemyUnitOfWork


async def run_jobs(database_url: str, jobs: list[str], show_progress: bool) -> list[str]:
    database = create_database(database_url)
    clock = SystemClock()

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database.write_engine)

    def progress(what: str) -> Callable[[int], None]:
        def show(done: int) -> None:
            if show_progress:
                print(f"\r  {what}: {done:,} ...", end="", file=sys.stderr, flush=True)

        return show

    lines = []
    try:
        for job in jobs:
            started = time.perf_counter()
            if job == "mature":
                matured = await run_maturation(uow, clock, progress("purchases matured"))
                summary = (
                    f"mature: {matured.points:,} points of {matured.purchases:,} purchases now available"
                )
            else:
                expired = await run_expiry(uow, clock, progress("members with expired lots"))
                summary = f"expire: {expired.points:,} points of {expired.members:,} members expired"
            if show_progress:
                print(file=sys.stderr)
            lines.append(f"{summary} in {time.perf_counter() - started:.1f} s")
    finally:
        await database.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/jobs", description=__doc__)
    parser.add_argument("job", choices=["mature", "expire", "all"], help="the job to run")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url)
    jobs = ["mature", "expire"] if args.job == "all" else [args.job]
    for line in asyncio.run(run_jobs(settings.database_url, jobs, not args.quiet and sys.stderr.isatty())):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
