"""The segment figures, on PostgreSQL, over a population of its own (default 1,000,000 members with
three days of purchases each in the last year, 20 merchants over the categories):

- a full refresh: every member's profile figures from the day counters, then ten segments' members
  (target: under 60 s);
- a preview of a rule over every member, its count and a sample (target: under 2 s; median of three).

Built in a database beside the benchmark database (its name + "_segments"), with generate_series.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from domain import segments as ds
from domain.actors import Actor, Role
from domain.clock import SystemClock
from domain.merchants import MerchantCategory
from domain.profiles import utc_day
from domain.services.segments import CreateSegment, create_segment, rule_context, run_segment_refresh
from persistence.migrate import upgrade_to_head_async
from persistence.queries.read_model import SqlReadModel
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.benchmarks.dataset import recreate_database
from scripts.benchmarks.report import Figure, Report

F, OP = ds.SegmentField, ds.Operator
ADMIN = Actor(role=Role.ADMIN, subject="bench")


def _c(field: ds.SegmentField, op: ds.Operator, number: int, **more: object) -> ds.Condition:
    return ds.Condition(field, op, number=number, **more)  # type: ignore[arg-type]  # category only


SEGMENTS: list[tuple[str, ds.Rule]] = [
    ("frequent diners", _c(F.CATEGORY_PURCHASES_90D, OP.GTE, 1, category=MerchantCategory.DINING)),
    (
        "travellers at risk",
        ds.AllOf(
            (
                _c(F.CATEGORY_SPEND_365D, OP.GT, 0, category=MerchantCategory.TRAVEL),
                _c(F.DAYS_SINCE_LAST_PURCHASE, OP.GTE, 60),
            )
        ),
    ),
    (
        "high value dormant",
        ds.AllOf(
            (
                _c(F.SPEND_365D, OP.GTE, 20_000),
                ds.Condition(F.LIFECYCLE_STAGE, OP.IN, values=("DORMANT", "CHURNED", "AT_RISK")),
            )
        ),
    ),
    ("new", ds.Condition(F.LIFECYCLE_STAGE, OP.EQ, text="NEW")),
    ("big spenders", _c(F.SPEND_365D, OP.GTE, 40_000)),
    ("monthly regulars", _c(F.PURCHASES_30D, OP.GTE, 1)),
    ("points rich", _c(F.AVAILABLE_POINTS, OP.GTE, 4_000)),
    ("north", ds.Condition(F.REGION, OP.EQ, text="north")),
    ("born in the eighties", ds.AllOf((_c(F.BIRTH_YEAR, OP.GTE, 1980), _c(F.BIRTH_YEAR, OP.LT, 1990)))),
    ("not high income", ds.Not(ds.Condition(F.INCOME_BAND, OP.IN, values=("HIGH", "VERY_HIGH")))),
]
PREVIEW = ds.AnyOf(
    (
        ds.AllOf((_c(F.SPEND_90D, OP.GTE, 10_000), ds.Condition(F.REGION, OP.NE, text="south"))),
        _c(F.CATEGORY_SPEND_365D, OP.GTE, 15_000, category=MerchantCategory.TRAVEL),
    )
)


async def _populate(url: str, members: int) -> None:
    await recreate_database(url)
    await upgrade_to_head_async(url)
    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO merchants (name, category, channel, created_at)"
                    " SELECT 'Merchant ' || g, (ARRAY['DINING','GROCERY','RETAIL','TRAVEL',"
                    " 'ONLINE_SHOPPING'])[1 + g % 5], 'BOTH', now() FROM generate_series(1, 20) g"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO members (external_ref, status, referral_code, tags, enrolled_at, region,"
                    " income_band, birth_year)"
                    " SELECT 'seg-' || g, 'ACTIVE', 'S' || lpad(g::text, 10, '0'), '[]', now() - (g % 700)"
                    " * interval '1 day', (ARRAY['north','south','east','west'])[1 + g % 4],"
                    " (ARRAY['LOW','MIDDLE','HIGH','VERY_HIGH'])[1 + g % 4], 1950 + g % 55"
                    " FROM generate_series(1, :n) g"
                ),
                {"n": members},
            )
            await conn.execute(
                text(
                    "INSERT INTO member_balances (member_id, available, pending, held, lifetime_earned,"
                    " lifetime_redeemed) SELECT id, (id * 7) % 5000, 0, 0, (id * 13) % 20000, 0 FROM members"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO member_activity_days (member_id, day, merchant_id, channel, currency,"
                    " purchases, spend_minor)"
                    " SELECT m.id, CURRENT_DATE - CAST((m.id * 7 + j * 131) % 365 AS INTEGER),"
                    " 1 + (m.id + j) % 20,"
                    " 'OFFLINE', 'CNY', 1, 100 + (m.id * 31 + j * 17) % 20000"
                    " FROM members m CROSS JOIN generate_series(1, 3) j ON CONFLICT DO NOTHING"
                ),
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


async def figures(bench_url: str, members: int, report: Report, progress: Callable[[str], None]) -> None:
    parsed = make_url(bench_url)
    url = parsed.set(database=f"{parsed.database}_segments").render_as_string(hide_password=False)
    progress(f"segments: {members:,} members with a year of purchases ...")
    await _populate(url, members)
    engine = create_async_engine(url, hide_parameters=True, pool_size=2)
    try:
        clock = SystemClock()
        for name, rule in SEGMENTS:
            await create_segment(
                CreateSegment(name, rule=rule), actor=ADMIN, uow=SqlAlchemyUnitOfWork(engine), clock=clock
            )
        progress(f"segments: a full refresh of {len(SEGMENTS)} segments ...")
        started = time.perf_counter()
        run = await run_segment_refresh(lambda: SqlAlchemyUnitOfWork(engine), clock, full=True)
        refresh = time.perf_counter() - started
        report.add(
            Figure(
                "segments",
                f"full refresh, {len(SEGMENTS)} segments, {members:,} members",
                refresh,
                "s",
                target_max=60,
                detail=f"{run.members:,} profiles written",
            )
        )
        async with (uow := SqlAlchemyUnitOfWork(engine)):
            ctx = await rule_context(uow, utc_day(datetime.now(UTC)))
        reader = SqlReadModel(engine)
        timings, size = [], 0
        for _ in range(3):
            started = time.perf_counter()
            size, _sample = await reader.segment_preview(PREVIEW, ctx, 10)
            timings.append(time.perf_counter() - started)
        report.add(
            Figure(
                "segments",
                f"segmentPreview over {members:,} members",
                statistics.median(timings),
                "s",
                target_max=2,
                detail=f"{size:,} matched; runs {', '.join(f'{t:.2f}' for t in timings)} s",
            )
        )
    finally:
        await engine.dispose()
