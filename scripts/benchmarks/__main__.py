"""`scripts/bench`: measure the API against this machine's own ceilings, each in the same run.

Builds a benchmark database beside the test database (BENCH_DATABASE_URL, default: TEST_DATABASE_URL
with the database named loyalty_bench), starts the real server with uvicorn, drives it with a lean
load generator, and prints each figure beside its ceiling, the ratio and the target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from api.settings import Settings
from scripts.benchmarks import ceilings, dataset, scenarios
from scripts.benchmarks.load import Check, LoadResult, combine, run_load
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import ROOT, Server

DEFAULT_TEST_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/loyalty_test"
SECTIONS = (
    "earn",
    "hotspot",
    "risk",
    "profiles",
    "outbox",
    "segments",
    "read",
    "ledger",
    "purchases",
    "cost",
    "import",
    "sqlite",
    "offers",
    "statement",
    "campaign",
    "recommendations",
    "experiments",
    "console",
    "triggers",
)


def bench_url() -> str:
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    test_url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_URL))
    return test_url.set(database="loyalty_bench").render_as_string(hide_password=False)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5, help="measured time per figure (default 5)")
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes, each on its own port (default 2)"
    )
    parser.add_argument(
        "--pool", type=int, default=0, help="connections per worker (default: enough for all)"
    )
    parser.add_argument("--clients", default="1,8,32", help="earn concurrency levels (default 1,8,32)")
    parser.add_argument("--big-ledger", type=int, default=1_000_000, help="entries of the big member")
    parser.add_argument(
        "--purchases", type=int, default=1_000_000, help="purchases of the big member (section purchases)"
    )
    parser.add_argument("--import-rows", type=int, default=200_000, help="rows in the settlement file")
    parser.add_argument(
        "--segment-members", type=int, default=1_000_000, help="members of the segments' population"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"sections to run, of {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the PostgreSQL data set of an earlier run (faster, less clean)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the recommendations' generated population (default 7)"
    )
    parser.add_argument(
        "--delivery-workers",
        type=int,
        default=1,
        help="scripts/worker processes delivering webhooks in the outbox section (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    args.only = {s.strip() for s in args.only.split(",")}
    unknown = args.only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


async def measure(server: Server, *, clients: int, seconds: float, headers, body, check) -> LoadResult:  # type: ignore[no-untyped-def]  # loose load callbacks
    return await run_load(
        host="127.0.0.1",
        ports=server.ports,
        path="/graphql",
        headers=headers,
        body=body,
        check=check,
        clients=clients,
        seconds=seconds,
    )


Load = Callable[[float], Awaitable[LoadResult]]


async def paired(first: Load, second: Load, seconds: float, rounds: int = 1) -> tuple[LoadResult, LoadResult]:
    """Two loads whose ratio is reported, run as A B B A halves: a machine that speeds up or slows
    down during the run weighs on both alike, which a plain A then B would not. `rounds` repeats
    it, for a ratio whose difference is smaller than the drift between two runs."""
    half = seconds / 2
    a: list[LoadResult] = []
    b: list[LoadResult] = []
    for _ in range(rounds):
        a.append(await first(half))
        b.append(await second(half))
        b.append(await second(half))
        a.append(await first(half))
        halves = (a[-2], b[-2], b[-1], a[-1])
        progress("  A B B A: " + " ".join(f"{r.ops:,.0f}" for r in halves) + " ops/s")
    return combine(a), combine(b)


async def run(args: argparse.Namespace, report: Report) -> None:
    url = bench_url()
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("BENCH_DATABASE_URL must name a PostgreSQL database")
    pg_sections = args.only - {
        "sqlite",
        "offers",
        "segments",
        "recommendations",
        "campaign",
        "experiments",
        "triggers",
    }
    if pg_sections and not ceilings.pgbench_available():
        raise SystemExit("pgbench is needed for the raw-SQL ceiling (Debian: postgresql-client / postgresql)")
    secret = secrets.token_urlsafe(48)
    tokens = scenarios.Tokens(secret)
    if pg_sections:
        progress(f"building the data set in {make_url(url).render_as_string()} ...")
        data = await dataset.existing(url) if args.reuse else None
        if data is None:
            data = await dataset.build(url, big_entries=big_member_entries(args))
        top = max(args.clients)
        # Pool: the clients a worker can be serving at once, so no request waits for a connection.
        pool = args.pool or max(4, -(-top // args.workers))
        progress(f"starting the server: {args.workers} workers, {pool} connections each")
        server = Server(database_url=url, workers=args.workers, jwt_secret=secret, pool_size=pool)
        try:
            await pg_figures(args, report, server, data, tokens)
            if "profiles" in args.only:
                await profiles_figure(args, report, server, data, tokens, secret, pool)
            if "outbox" in args.only:
                from scripts.benchmarks import outbox

                await outbox.figures(
                    server,
                    data,
                    tokens,
                    secret,
                    args.workers,
                    pool,
                    max(args.clients),
                    args.seconds,
                    report,
                    measure,
                    paired,
                    progress,
                    delivery_workers=args.delivery_workers,
                )
            if "cost" in args.only:
                await cost_figure(report, server, data, tokens, secret, args.seconds)
            if "statement" in args.only:
                from scripts.benchmarks import statement

                await statement.figure(server, data, secret, report, progress)
            if "console" in args.only:
                from scripts.benchmarks import console

                progress(f"the console's member page against its query, {max(args.clients)} clients ...")
                await console.figure(report, server, data, tokens, max(args.clients), args.seconds, paired)
            report.add(Figure("memory", "peak RSS per worker", server.peak_rss_mb(), "MiB", target_max=150))
        finally:
            server.stop()
        if "import" in args.only:
            from scripts.benchmarks import settlement

            await settlement.figures(url, data, args.import_rows, report, progress)
    if "segments" in args.only:
        from scripts.benchmarks import segments

        await segments.figures(url, args.segment_members, report, progress)
    if "triggers" in args.only:
        from scripts.benchmarks import triggers

        await triggers.figures(url, report, progress)
    if "sqlite" in args.only:
        await sqlite_figures(args, report, tokens, secret)
    if "campaign" in args.only:
        from scripts.benchmarks import campaign

        await campaign.figures(url, report, progress)
    if "offers" in args.only:
        from scripts.benchmarks import offers

        progress("offer evaluation, 10 to 1,000 live offers ...")
        offers.figures(report)
    if "recommendations" in args.only:
        from scripts.benchmarks import recommendations

        progress("recommendations: ranking 1,000 live offers; hit rate at 5 on a generated population ...")
        recommendations.figures(report, args.seed)
        await recommendations.exposure_figures(report, ROOT / "var")
    if "experiments" in args.only:
        from scripts.benchmarks import experiments

        progress("experiment evaluation, 10,000 to 1,000,000 members ...")
        experiments.figures(report)
    if "risk" in args.only:
        from scripts.benchmarks import risk

        progress("risk rules, twenty assessed in process ...")
        risk.assess_figure(report)


async def profiles_figure(  # the run's parts, as pg_figures takes them
    args: argparse.Namespace,
    report: Report,
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    secret: str,
    pool: int,
) -> None:
    """Earn with members' profile counters on, beside a second server with PROFILES=false, A B B A."""
    top = max(args.clients)
    progress(f"earn with profiles on and off, {top} clients ...")
    off = Server(
        database_url=data.url,
        workers=args.workers,
        jwt_secret=secret,
        pool_size=pool,
        settings={"PROFILES": "false"},
    )
    try:

        def earn(target: Server) -> Load:
            return lambda secs: measure(
                target,
                clients=top,
                seconds=secs,
                headers=lambda c: tokens.processor(),
                body=scenarios.earn_bodies(data.member_ids, data.merchant_ids),
                check=scenarios.earn_succeeded,
            )

        with_profiles, without = await paired(earn(server), earn(off), args.seconds)
    finally:
        off.stop()
    report.add(
        Figure.from_load(
            "profiles",
            f"postPurchase, profiles on, {top} clients",
            with_profiles,
            ceiling=without.ops,
            ceiling_label="PROFILES=false",
            target_ratio=0.9,
        )
    )


async def pg_figures(
    args: argparse.Namespace, report: Report, server: Server, data: dataset.Dataset, tokens: scenarios.Tokens
) -> None:
    seconds = args.seconds
    merchants = data.merchant_ids
    processor = tokens.processor()
    spread_headers = lambda c: processor  # noqa: E731  # card spending, each client at its own merchant
    top = max(args.clients)
    spread_top: LoadResult | None = None
    if "earn" in args.only or "hotspot" in args.only:
        levels = args.clients if "earn" in args.only else [top]
        for clients in levels:
            progress(f"earn over GraphQL, {clients} clients ...")
            result = await measure(
                server,
                clients=clients,
                seconds=seconds,
                headers=spread_headers,
                body=scenarios.earn_bodies(data.member_ids, merchants),
                check=scenarios.earn_succeeded,
            )
            if clients == top:
                spread_top = result
            if "earn" not in args.only:
                continue
            progress(f"earn as plain SQL (pgbench), {clients} clients ...")
            raw = ceilings.raw_earn(
                data.url, members=data.member_ids, merchants=merchants, clients=clients, seconds=int(seconds)
            )
            report.add(
                Figure.from_load(
                    "earn",
                    f"postPurchase, {clients} clients",
                    result,
                    ceiling=raw.tps,
                    ceiling_label="raw SQL (pgbench)",
                    target_ratio=0.20 if clients == top else None,
                    target_min=1200 if clients == top and args.workers == 2 else None,
                    target_p99_ms=100 if clients == top else None,
                )
            )
    if "hotspot" in args.only and spread_top is not None:
        for label, at, members in (
            ("one merchant", merchants[:1], data.member_ids),
            ("one member", merchants, data.member_ids[:1]),
        ):
            progress(f"earn, all through {label}, {top} clients ...")
            result = await measure(
                server,
                clients=top,
                seconds=seconds,
                headers=spread_headers,
                body=scenarios.earn_bodies(members, at),
                check=scenarios.earn_succeeded,
            )
            report.add(
                Figure.from_load(
                    "hotspot",
                    f"postPurchase, {label}, {top} clients",
                    result,
                    ceiling=spread_top.ops,
                    ceiling_label="spread earn",
                    target_ratio=0.8 if label == "one merchant" else None,
                )
            )
    if "risk" in args.only:
        from scripts.benchmarks import risk

        progress(f"earn with the default risk rules on and off, {top} clients ...")
        await risk.earn_figure(
            data.url,
            report,
            lambda secs: measure(
                server,
                clients=top,
                seconds=secs,
                headers=spread_headers,
                body=scenarios.earn_bodies(data.member_ids, merchants),
                check=scenarios.earn_succeeded,
            ),
            top,
            seconds,
        )
    if "read" in args.only:
        member_headers = lambda c: tokens.member(data.member_ids[c % len(data.member_ids)])  # noqa: E731
        progress(f"constant query and balance read, {top} clients ...")
        constant, balance = await paired(
            lambda secs: measure(
                server,
                clients=top,
                seconds=secs,
                headers=member_headers,
                body=scenarios.fixed_body(scenarios.CONSTANT),
                check=scenarios.has(b'"__typename":"Query"'),
            ),
            lambda secs: measure(
                server,
                clients=top,
                seconds=secs,
                headers=member_headers,
                body=scenarios.fixed_body(scenarios.BALANCE),
                check=scenarios.has(b'"available"'),
            ),
            seconds,
        )
        report.add(
            Figure.from_load(
                "read",
                f"me.balance, {top} clients",
                balance,
                ceiling=constant.ops,
                ceiling_label="constant query",
                target_ratio=0.6,
            )
        )
    if "ledger" in args.only:
        await ledger_figures(report, server, data, tokens, top, seconds)
    if "purchases" in args.only:
        from scripts.benchmarks import purchases

        progress(
            f"me.purchases for members with {dataset.SMALL_LEDGER:,} and {data.big_entries:,} purchases ..."
        )
        await purchases.figures(report, server, data, tokens, top, seconds, paired)


def big_member_entries(args: argparse.Namespace) -> int:
    """The big member's purchases (one ledger entry each): what the ledger and purchases sections ask."""
    wanted = [args.big_ledger] if "ledger" in args.only else []
    wanted += [args.purchases] if "purchases" in args.only else []
    return max(wanted, default=0)


async def ledger_figures(
    report: Report,
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    clients: int,
    seconds: float,
) -> None:
    for what, query, check in (
        ("me.balance", scenarios.BALANCE, scenarios.has(b'"available"')),
        ("me.ledger(first: 20)", scenarios.LEDGER_PAGE, scenarios.page_of(20)),
    ):
        progress(f"{what} for members with {dataset.SMALL_LEDGER:,} and {data.big_entries:,} entries ...")

        def load(member: int, query: str = query, check: Check = check) -> Load:
            return lambda secs: measure(
                server,
                clients=clients,
                seconds=secs,
                headers=lambda c: tokens.member(member),
                body=scenarios.fixed_body(query),
                check=check,
            )

        small, big = await paired(load(data.small_member), load(data.big_member), seconds)
        report.add(
            Figure.from_load(
                "ledger",
                f"{what}, {data.big_entries:,} entries",
                big,
                ceiling=small.ops,
                ceiling_label=f"{dataset.SMALL_LEDGER} entries",
                target_ratio=0.9,
            )
        )


async def cost_figure(
    report: Report,
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    secret: str,
    seconds: float,
) -> None:
    """A plain balance read while 4 clients loop the costliest query a member may send (full pages
    of the member with SMALL_LEDGER entries), each against the server's own member budget."""
    budget = Settings.from_env({**os.environ, "JWT_SECRET": secret}).cost_budgets.member
    costliest, cost = scenarios.costliest_member_query(budget)

    def balance_load(secs: float) -> Awaitable[LoadResult]:
        return measure(
            server,
            clients=1,
            seconds=secs,
            headers=lambda c: tokens.member(data.member_ids[0]),
            body=scenarios.fixed_body(scenarios.BALANCE_AVAILABLE),
            check=scenarios.has(b'"available"'),
        )

    progress("balance reads alone, 1 client ...")
    alone = await balance_load(seconds)
    progress(f"balance reads beside 4 clients sending a query of cost {cost:,} (budget {budget:,}) ...")
    heavy, balance = await asyncio.gather(
        measure(
            server,
            clients=4,
            seconds=seconds,
            headers=lambda c: tokens.member(data.small_member),
            body=scenarios.fixed_body(costliest),
            check=scenarios.has(b'"p0"'),
        ),
        balance_load(seconds),
    )
    detail = (
        f"p50 {balance.percentile(50):.1f} ms, p99 {balance.percentile(99):.1f} ms, "
        f"max {balance.percentile(100):.1f} ms ({alone.percentile(99):.1f} ms p99 alone); "
        f"beside it {heavy.ops:,.1f} queries/s of cost {cost:,}"
    )
    for label, result in (("balance", balance), ("costliest", heavy)):
        if result.errors:
            detail += f"; {result.errors} {label} errors (first: {result.first_error})"
    report.add(
        Figure(
            "cost",
            "balance read p99 beside 4 clients at the member budget",
            balance.percentile(99),
            "ms",
            target_max=1000,
            p50_ms=balance.percentile(50),
            p99_ms=balance.percentile(99),
            errors=balance.errors + heavy.errors,
            detail=detail,
        )
    )


async def sqlite_figures(
    args: argparse.Namespace, report: Report, tokens: scenarios.Tokens, secret: str
) -> None:
    path = ROOT / "var" / "bench.db"
    url = f"sqlite+aiosqlite:///{path}"
    progress(f"building the SQLite data set in {path} ...")
    data = await dataset.build(url, big_entries=0)
    top = max(args.clients)
    # SQLite takes one writer at a time: one worker process, whose single write connection queues.
    server = Server(database_url=url, workers=1, jwt_secret=secret, pool_size=5)
    try:
        progress(f"earn on SQLite, {top} clients ...")
        result = await measure(
            server,
            clients=top,
            seconds=args.seconds,
            headers=lambda c: tokens.processor(),
            body=scenarios.earn_bodies(data.member_ids, data.merchant_ids),
            check=scenarios.earn_succeeded,
        )
    finally:
        server.stop()
    locked = _count_in(Path(server.log.name), "database is locked")
    figure = Figure.from_load("sqlite", f"postPurchase, 1 worker, {top} clients", result, target_min=600)
    figure.detail += f", {locked} 'database is locked'"
    if locked:
        figure.met = False
    report.add(figure)


def _count_in(path: Path, text: str) -> int:
    try:
        return path.read_text(errors="replace").count(text)
    except OSError:
        return 0


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report = Report(workers=args.workers, seconds=args.seconds)
    runner: Callable[..., object]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # uvloop comes with uvicorn[standard] on Linux and macOS
        runner = asyncio.run
    runner(run(args, report))
    print(json.dumps(report.as_json(), indent=2) if args.json else report.table())


if __name__ == "__main__":
    main()
