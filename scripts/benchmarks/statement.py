"""The statement figure: one merchant's monthly statement over 100,000 purchases on PostgreSQL.

Last calendar month gets 100,000 purchases at one merchant, each with an award the merchant funds
(award_funding) and its EARN entry taking the award's points from the merchant's funding account;
one in a hundred is refunded in full within the month (refund row, REFUND entry giving the points
back). Then merchantStatement for that month, CSV included, is asked over HTTP of the running server
a few times, one at a time, and the slowest answer is the figure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from strawberry import relay

from api.auth import issue_token
from api.settings import Settings
from domain.actors import Role
from scripts.benchmarks.dataset import Dataset
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import Server

PURCHASES = 100_000
REFUND_EVERY = 100
AWARD_POINTS = 10
EARNED = 100
RUNS = 5

CREATE_OFFER = (
    """mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } errors { code } } }"""
)
STATEMENT = """query($period: StatementPeriod!) {
  merchantStatement(period: $period) {
    pointsIssued pointsReversed pointsRedeemed
    fundedTotals { awardsGiven awardsRefunded points cashbackMinor }
    csv
  }
}"""

# Purchases spread over the month, each with its award, its funding row and its EARN entry. The
# parameters are cast: asyncpg infers no type for a bare parameter in arithmetic.
_PURCHASES = """
WITH v AS (
    SELECT CAST(:merchant AS bigint) AS merchant, CAST(:award AS bigint) AS award,
           CAST(:earned AS bigint) AS earned, CAST(:offer AS bigint) AS offer,
           CAST(:first_member AS bigint) AS first_member, CAST(:members AS bigint) AS members,
           CAST(:start AS timestamptz) AS start, CAST(:step AS bigint) AS step
), p AS (
    INSERT INTO purchases (member_id, merchant_id, amount_minor, currency, channel, occurred_at, reference,
                           points_earned, points_pending, created_at)
    SELECT v.first_member + i % v.members, v.merchant, 10000, 'CNY', 'OFFLINE',
           v.start + (i * v.step) * interval '1 microsecond', 'S-' || i, v.earned, 0,
           v.start + (i * v.step) * interval '1 microsecond'
    FROM v, generate_series(0, CAST(:count AS bigint) - 1) AS i
    RETURNING id, member_id, created_at
), a AS (
    INSERT INTO purchase_awards (purchase_id, member_id, offer_id, offer_version, mechanic, points,
                                 discount_minor, cashback_minor, currency, refunded_points,
                                 refunded_money_minor, use_returned, created_at)
    SELECT p.id, p.member_id, v.offer, 1, 'BONUS_POINTS', v.award, 0, 0, 'CNY', 0, 0, false, p.created_at
    FROM p, v
    RETURNING id
), f AS (
    INSERT INTO award_funding (award_id, funder_kind, funder_id, points, money_minor)
    SELECT a.id, 'MERCHANT', v.merchant, v.award, 0 FROM a, v
), e AS (
    INSERT INTO journal_entries (member_id, kind, origin_type, origin_id, description, created_at)
    SELECT member_id, 'EARN', 'PURCHASE', id, 'Earned at the statement merchant', created_at FROM p
    RETURNING id, member_id
)
INSERT INTO journal_lines (entry_id, account_kind, member_id, owner_id, amount)
SELECT e.id, 'MERCHANT_FUNDING', NULL::bigint, v.merchant, -v.award FROM e, v
UNION ALL SELECT e.id, 'ISSUANCE', NULL::bigint, NULL::bigint, v.award - v.earned FROM e, v
UNION ALL SELECT e.id, 'MEMBER_PENDING', e.member_id, NULL::bigint, v.earned FROM e, v
"""

# One purchase in REFUND_EVERY refunded in full an hour later, still within the month.
_REFUNDS = """
WITH v AS (
    SELECT CAST(:merchant AS bigint) AS merchant, CAST(:award AS bigint) AS award,
           CAST(:earned AS bigint) AS earned, CAST(:last AS timestamptz) AS last
), chosen AS (
    UPDATE purchases SET refunded_minor = amount_minor, points_refunded = points_earned
    WHERE merchant_id = CAST(:merchant AS bigint) AND reference LIKE 'S-%'
      AND id % CAST(:every AS bigint) = 0
    RETURNING id, member_id, amount_minor, created_at
), awards AS (
    UPDATE purchase_awards SET refunded_points = points, use_returned = true
    WHERE purchase_id IN (SELECT id FROM chosen)
), r AS (
    INSERT INTO refunds (member_id, purchase_id, merchant_id, amount_minor, currency, points_reversed,
                         debt_created, points_returned, reference, created_at)
    SELECT c.member_id, c.id, v.merchant, c.amount_minor, 'CNY', v.earned, 0, 0, NULL,
           LEAST(c.created_at + interval '1 hour', v.last)
    FROM chosen c, v
    RETURNING id, member_id, created_at
), e AS (
    INSERT INTO journal_entries (member_id, kind, origin_type, origin_id, description, created_at)
    SELECT member_id, 'REFUND', 'REFUND', id, 'Refunded at the statement merchant', created_at FROM r
    RETURNING id, member_id
)
INSERT INTO journal_lines (entry_id, account_kind, member_id, owner_id, amount)
SELECT e.id, 'MERCHANT_FUNDING', NULL::bigint, v.merchant, v.award FROM e, v
UNION ALL SELECT e.id, 'ISSUANCE', NULL::bigint, NULL::bigint, v.earned - v.award FROM e, v
UNION ALL SELECT e.id, 'MEMBER_PENDING', e.member_id, NULL::bigint, -v.earned FROM e, v
"""


def last_month(now: datetime) -> tuple[datetime, datetime]:
    end = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1)
    return start, end


async def figure(
    server: Server, data: Dataset, secret: str, report: Report, progress: Callable[[str], None]
) -> None:
    settings = Settings(jwt_secret=secret)
    merchant = data.merchant_ids[-2]  # no other section posts there
    admin = issue_token(settings, role=Role.ADMIN, subject="bench-admin", ttl_seconds=3600)
    own = issue_token(
        settings, role=Role.MERCHANT, subject="bench-merchant", ttl_seconds=3600, merchant_id=merchant
    )
    start, end = last_month(datetime.now(UTC))
    base = f"http://127.0.0.1:{server.port}/graphql"
    async with httpx.AsyncClient(timeout=60) as http:
        offer = await _offer(http, base, admin, merchant, start, end)
        progress(f"statement data: {PURCHASES:,} purchases at one merchant in {start:%B %Y} ...")
        await _load(
            data.url,
            merchant=merchant,
            offer=offer,
            first_member=data.member_ids[0],
            members=len(data.member_ids),
            start=start,
            end=end,
        )
        progress(f"merchantStatement for {start:%B %Y}, {RUNS} times ...")
        variables = {"period": {"from": start.isoformat(), "to": end.isoformat()}}
        times: list[float] = []
        answer: Any = {}
        for _ in range(RUNS):
            began = time.perf_counter()
            response = await http.post(
                base,
                json={"query": STATEMENT, "variables": variables},
                headers={"Authorization": f"Bearer {own}"},
            )
            times.append((time.perf_counter() - began) * 1000)
            answer = response.json()
    statement = (answer.get("data") or {}).get("merchantStatement")
    refunds = PURCHASES // REFUND_EVERY
    expected = {"pointsIssued": PURCHASES * EARNED, "pointsReversed": refunds * EARNED}
    ok = isinstance(statement, dict) and all(statement.get(k) == v for k, v in expected.items())
    slowest = max(times)
    report.add(
        Figure(
            "statement",
            f"merchantStatement, {PURCHASES:,} purchases in a month, CSV included",
            slowest,
            "ms",
            target_max=2000,
            p50_ms=statistics.median(times),
            p99_ms=slowest,
            errors=0 if ok else 1,
            detail=f"{RUNS} requests one at a time: median {statistics.median(times):,.0f} ms, "
            f"slowest {slowest:,.0f} ms" + ("" if ok else f"; unexpected answer: {str(answer)[:200]}"),
            met=None if ok else False,
        )
    )


async def _offer(
    http: httpx.AsyncClient, base: str, admin: str, merchant: int, start: datetime, end: datetime
) -> int:
    """The offer the awards name, created through the API so its definition is the real one."""
    funder = str(relay.GlobalID("Merchant", str(merchant)))
    offer = {
        "name": "Statement bench bonus",
        "mechanic": "BONUS_POINTS",
        "points": AWARD_POINTS,
        "startsAt": start.isoformat(),
        "endsAt": end.isoformat(),
        "funding": [{"kind": "MERCHANT", "funderId": funder, "percent": 100}],
    }
    response = await http.post(
        base,
        json={"query": CREATE_OFFER, "variables": {"input": offer}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    created = response.json()["data"]["createOffer"]
    if created["errors"]:
        raise SystemExit(f"could not create the statement offer: {created['errors']}")
    return int(relay.GlobalID.from_id(created["offer"]["id"]).node_id)


async def _load(
    url: str, *, merchant: int, offer: int, first_member: int, members: int, start: datetime, end: datetime
) -> None:
    step = int((end - start).total_seconds() * 1_000_000) // PURCHASES
    engine = create_async_engine(url, hide_parameters=True)
    try:
        params = {"merchant": merchant, "award": AWARD_POINTS, "earned": EARNED}
        async with engine.begin() as conn:
            await conn.execute(
                text(_PURCHASES),
                {
                    **params,
                    "offer": offer,
                    "first_member": first_member,
                    "members": members,
                    "start": start,
                    "step": step,
                    "count": PURCHASES,
                },
            )
            last = end - timedelta(microseconds=1)
            await conn.execute(text(_REFUNDS), {**params, "every": REFUND_EVERY, "last": last})
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
