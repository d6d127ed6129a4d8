"""`scripts/jobs`: the scheduled work of the points lifecycle, run by hand or from cron: pending
points mature, lapsed POS holds are released, unused vouchers expire (their points come back), lots
expire, closed members' kept points are forfeited when their grace ends, tiers are evaluated, idle
members become dormant; uploaded settlement files are posted (`settlements`, which the server's
own worker also does unless SETTLEMENT_WORKER=false); and offers whose guard rules trip are paused
(`guards`: domain/experiments/guards.py).

Each job is idempotent, works in batches, and is safe to run in two processes at once: a job
locks each member's balance row with SKIP LOCKED (on PostgreSQL), so a second process passes over
what the first holds, and re-checks under the lock that the work is still due. `all` runs every
job in the order the lifecycle needs (pending points mature before lots expire). By hand, a
progress bar (rich) shows on stderr; every run ends with one summary line per job on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import Date, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import migration_keys, personal_data_vault
from api.settings import Settings
from domain.clock import Clock, SystemClock
from domain.ports import UnitOfWork
from domain.profiles import RETENTION_DAYS, utc_day
from domain.programme import add_months
from domain.services.closure import run_closure_forfeiture
from domain.services.dormancy import run_dormancy
from domain.services.expiry import run_expiry
from domain.services.guards import run_guards
from domain.services.holds import run_hold_release
from domain.services.maturation import run_maturation
from domain.services.notifications import run_expiry_notices
from domain.services.profiles import prune_activity
from domain.services.segments import run_segment_refresh
from domain.services.settlement_imports import run_settlement_imports
from domain.services.tiers import run_tier_evaluation
from domain.services.triggers import run_reactions, run_sign_up_nudges
from domain.services.vouchers import run_voucher_expiry
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head
from persistence.personal_data import PersonalDataVault
from persistence.tables import UtcDateTime
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.progress import ProgressBar
from telemetry.metrics import count_job_run

UowFactory = Callable[[], UnitOfWork]
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    unit: str  # what the progress bar counts
    # How much is due now: an estimate for the progress bar (work may change while the job runs),
    # a count query given :now and the programme's settings.
    due: str
    run: Callable[[UowFactory, Clock, Progress], Awaitable[str]]


async def _mature(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_maturation(uow, clock, progress)
    return f"{run.points:,} points of {run.purchases:,} purchases now available"


async def _expire(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_expiry(uow, clock, progress)
    return f"{run.points:,} points of {run.members:,} members expired"


async def _release(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_hold_release(uow, clock, progress)
    return f"{run.points:,} points of {run.holds:,} lapsed holds released"


async def _expire_vouchers(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_voucher_expiry(uow, clock, progress)
    return f"{run.points:,} points of {run.vouchers:,} expired vouchers given back"


async def _forfeit_closed(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_closure_forfeiture(uow, clock, progress)
    return f"{run.points:,} points of {run.members:,} closed members forfeited"


async def _tiers(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_tier_evaluation(uow, clock, progress)
    return (
        f"{run.members:,} members evaluated: {run.upgraded:,} upgraded, {run.downgraded:,} downgraded, "
        f"{run.grace_started:,} in grace, {run.requalified:,} requalified, {run.skipped:,} left busy"
    )


async def _dormancy(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_dormancy(uow, clock, progress)
    return f"{run.members:,} members now dormant"


async def _segments(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_segment_refresh(uow, clock, progress=progress)
    how = "full" if run.full else "incremental"
    return f"{how}: {run.members:,} members' figures re-read, {run.segments:,} segments matched"


async def _profiles(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await prune_activity(uow, clock, progress)
    return f"{run.rows:,} profile counters of {run.days:,} days past their retention dropped"


async def _settlements(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    # A worker of its own for this run; imports another worker holds are left to it.
    run = await run_settlement_imports(uow, clock, progress, worker=f"jobs-{uuid4().hex}")
    return f"{run.lines:,} lines of {run.imports:,} settlement files posted"


async def _guards(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_guards(uow, clock, progress)
    return f"{run.checked:,} armed offer guards checked, {run.fired:,} fired and paused their offer"


async def _notify_expiry(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    run = await run_expiry_notices(uow, clock, progress)
    return f"{run.sent:,} pre-expiry notices sent, {run.suppressed:,} suppressed"


async def _nudges(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    told = await run_sign_up_nudges(uow, clock)
    progress(told)
    return f"{told:,} members with no purchase since sign-up told (member.no_purchase)"


async def _reactions(uow: UowFactory, clock: Clock, progress: Progress) -> str:
    # What scripts/worker also does each round: tier notices and triggers over new outbox events.
    run = await run_reactions(uow, clock, once=False)
    progress(run.events)
    return f"{run.events:,} events handled, {run.firings:,} triggers fired"


JOBS = {
    job.name: job
    for job in (
        Job(
            "mature",
            "purchases",
            "SELECT count(*) FROM purchases WHERE points_pending > 0 AND matures_at <= :now",
            _mature,
        ),
        Job(
            "release-holds",
            "holds",
            "SELECT count(*) FROM redemptions WHERE status = 'AUTHORIZED' AND hold_expires_at <= :now",
            _release,
        ),
        Job(
            "expire-vouchers",
            "vouchers",
            "SELECT count(*) FROM vouchers WHERE status = 'ACTIVE' AND expires_at <= :now",
            _expire_vouchers,
        ),
        Job(
            "expire",
            "members",
            "SELECT count(DISTINCT member_id) FROM points_lots WHERE remaining > 0 AND expires_at <= :now",
            _expire,
        ),
        Job(
            "forfeit-closed",
            "members",
            "SELECT count(*) FROM members WHERE status = 'CLOSED' AND points_forfeit_at <= :now",
            _forfeit_closed,
        ),
        Job(
            "tiers",
            "members",
            "SELECT count(*) FROM members m WHERE m.tier_id IS NOT NULL OR m.tier_grace_until IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = m.id AND p.occurred_at >= :window)",
            _tiers,
        ),
        Job(
            "dormancy",
            "members",
            "SELECT count(*) FROM member_balances b JOIN members m ON m.id = b.member_id"
            " WHERE m.status = 'ACTIVE' AND b.dormant_since IS NULL AND b.last_activity_at <= :dormant",
            _dormancy,
        ),
        Job(
            "notify-expiry",
            "members",
            "SELECT count(DISTINCT member_id) FROM points_lots WHERE remaining > 0 AND expires_at > :now",
            _notify_expiry,
        ),
        Job(
            "nudges",
            "members",
            "SELECT count(*) FROM members m WHERE m.status = 'ACTIVE'"
            " AND NOT EXISTS (SELECT 1 FROM member_nudges n WHERE n.member_id = m.id)",
            _nudges,
        ),
        Job(
            "reactions",
            "events",
            "SELECT count(*) FROM outbox_events WHERE NOT reacted",
            _reactions,
        ),
        Job(
            "segments",
            "members",
            "SELECT count(*) FROM members",
            _segments,
        ),
        Job(
            "profiles",
            "days",
            "SELECT count(DISTINCT day) FROM member_activity_days WHERE day < :retained",
            _profiles,
        ),
        Job(
            "settlements",
            "lines",
            "SELECT coalesce(sum(total_lines - lines_done), 0) FROM settlement_imports"
            " WHERE status IN ('QUEUED', 'RUNNING')",
            _settlements,
        ),
        # Last: the figures it reads include what the jobs before it posted.
        Job(
            "guards",
            "guards",
            "SELECT count(*) FROM offer_guards g JOIN offers o ON o.id = g.offer_id"
            " WHERE g.fired_at IS NULL AND o.status = 'ACTIVE'",
            _guards,
        ),
    )
}


async def _due(engine: AsyncEngine, job: Job, now: datetime) -> int:
    async with engine.connect() as conn:
        window, dormant = (
            await conn.execute(text("SELECT tier_window_months, dormant_after_days FROM programme"))
        ).one()
        params: dict[str, object] = {
            "now": now,
            "window": add_months(now, -window),
            "dormant": now - timedelta(days=dormant),
            "retained": utc_day(now) - timedelta(days=RETENTION_DAYS - 1),
        }
        # Typed binds: SQLite compares the timestamps as the text UtcDateTime writes.
        used = {name: value for name, value in params.items() if f":{name}" in job.due}
        types = {name: Date() if name == "retained" else UtcDateTime() for name in used}
        statement = text(job.due).bindparams(*(bindparam(name, type_=types[name]) for name in used))
        return int((await conn.execute(statement, used)).scalar() or 0)


async def run_jobs(
    database_url: str,
    names: list[str],
    show_progress: bool,
    clock: Clock | None = None,
    vault: PersonalDataVault | None = None,
) -> list[str]:
    """Run the named jobs in order; one summary line each."""
    database = create_database(database_url, vault=vault)
    clock = clock or SystemClock()

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database.write_engine)

    lines = []
    try:
        for name in names:
            job = JOBS[name]
            started = time.perf_counter()
            bar = None
            if show_progress:
                total = await _due(database.write_engine, job, clock.now())
                bar = ProgressBar(sys.stderr, job.name, job.unit, total)
            try:
                summary = await job.run(uow, clock, bar or (lambda _: None))
            except BaseException:
                count_job_run(job.name, time.perf_counter() - started, ok=False)
                raise
            finally:
                if bar is not None:
                    bar.clear()
            seconds = time.perf_counter() - started
            count_job_run(job.name, seconds, ok=True)
            lines.append(f"{job.name}: {summary} in {seconds:.1f} s")
    finally:
        await database.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/jobs", description=__doc__)
    parser.add_argument("job", choices=[*JOBS, "all"], help="the job to run, or all of them in order")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url, migration_keys(settings))
    names = list(JOBS) if args.job == "all" else [args.job]
    show = not args.quiet and sys.stderr.isatty()
    vault = personal_data_vault(settings)
    for line in asyncio.run(run_jobs(settings.database_url, names, show, vault=vault)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
