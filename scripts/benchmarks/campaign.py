"""The campaign figure: how long after a purchase's commit campaignReport shows it.

In a database of its own beside the benchmark database (its name + "_campaign"), through the app
in-process (httpx over ASGI, no network): an offer with an experiment (no holdout, so every purchase
is awarded) at one merchant and a few members; then, one at a time, a merchant posts a purchase and,
from the moment its answer arrives (the transaction has committed), an admin asks campaignReport for
the experiment's spend until the purchase is in it. The lag is that wait: the report reads the ledger
and the purchases themselves (no copy, no job), so it is one report's time, and the first ask already
sees the purchase. Also printed: how many asks that took (always 1 when nothing is deferred).
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from api.app import create_app, open_database
from api.auth import issue_token
from api.settings import DEFAULT_RATE_LIMITS, Settings
from domain.actors import Role
from persistence.migrate import upgrade_to_head_async
from scripts.benchmarks.dataset import recreate_database
from scripts.benchmarks.report import Figure, Report

PURCHASES = 200
POST = "mutation($i: PostPurchaseInput!) { postPurchase(input: $i) { purchase { id } errors { code } } }"
UNLIMITED = "1000000/second"
REPORT = """query($id: ID!, $period: StatementPeriod) {
  campaignReport(offerId: $id, period: $period) { experiment { arms { arm spendMinor participants } } }
}"""


async def figures(bench_url: str, report: Report, progress: Callable[[str], None]) -> None:
    parsed = make_url(bench_url)
    url = parsed.set(database=f"{parsed.database}_campaign").render_as_string(hide_password=False)
    progress("campaign: the lag from a purchase's commit to campaignReport ...")
    await recreate_database(url)
    await upgrade_to_head_async(url)
    settings = Settings(
        database_url=url,
        jwt_secret=secrets.token_hex(32),
        rate_limits=dict.fromkeys(DEFAULT_RATE_LIMITS, UNLIMITED),
    )
    database = open_database(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, database)), base_url="http://bench"
        ) as http:
            lags, asks, report_ms = await _measure(http, settings)
    finally:
        await database.dispose()
    lags.sort()
    p95 = lags[int(len(lags) * 0.95) - 1]
    report.add(
        Figure(
            "campaign",
            "lag: purchase committed -> in campaignReport",
            statistics.median(lags),
            "ms",
            target_max=5_000,
            p50_ms=statistics.median(lags),
            p99_ms=lags[int(len(lags) * 0.99) - 1],
            detail=f"p95 {p95:.1f} ms, max {lags[-1]:.1f} ms over {len(lags)} purchases; "
            f"asks until seen: max {max(asks)}; "
            f"one report alone: median {statistics.median(report_ms):.1f} ms",
        )
    )


async def _measure(http: httpx.AsyncClient, settings: Settings) -> tuple[list[float], list[int], list[float]]:
    admin = issue_token(settings, role=Role.ADMIN, subject="bench")

    async def gql(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    merchant = await gql(
        'mutation { createMerchant(input: {name: "Bench Tea", category: DINING}) { merchant { id } } }',
        {},
        admin,
    )
    merchant_gid = merchant["createMerchant"]["merchant"]["id"]
    now = datetime.now(UTC)
    offer = await gql(
        """mutation($i: CreateOfferInput!) { createOffer(input: $i) { offer { id } errors { code } } }""",
        {
            "i": {
                "name": "Bench: 5% back",
                "mechanic": "CASHBACK_POINTS",
                "percent": "5",
                "startsAt": (now - timedelta(hours=1)).isoformat(),
                "endsAt": (now + timedelta(days=1)).isoformat(),
                "merchantIds": [merchant_gid],
                "funding": [{"kind": "PROGRAMME", "percent": 100}],
            }
        },
        admin,
    )
    offer_gid = offer["createOffer"]["offer"]["id"]
    await gql(
        """mutation($i: SetOfferExperimentInput!) { setOfferExperiment(input: $i) { errors { code } } }""",
        {
            "i": {
                "offerId": offer_gid,
                "experiment": {"holdoutShare": 0, "variants": [{"key": "a", "weight": 1}]},
            }
        },
        admin,
    )
    members = []
    for i in range(10):
        enrolled = await gql(
            "mutation($r: String!) { enrollMember(input: {externalRef: $r}) { member { id } } }",
            {"r": f"b{i}"},
            admin,
        )
        members.append(enrolled["enrollMember"]["member"]["id"])
    processor = issue_token(settings, role=Role.PROCESSOR, subject="bench-cards", processor_id=1)
    period = {"from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}

    async def spend() -> int:
        data = await gql(REPORT, {"id": offer_gid, "period": period}, admin)
        return sum(a["spendMinor"] for a in data["campaignReport"]["experiment"]["arms"])

    lags: list[float] = []
    asks: list[int] = []
    report_ms: list[float] = []
    for i in range(PURCHASES):
        before = await spend()
        posted = await gql(
            POST,
            {
                "i": {
                    "memberId": members[i % len(members)],
                    "merchantId": merchant_gid,
                    "amount": {"amountMinor": 1_000 + i, "currency": "CNY"},
                    "idempotencyKey": f"bench-{i}",
                }
            },
            processor,
        )
        assert posted["postPurchase"]["errors"] == [], posted
        committed = time.perf_counter()
        count = 0
        while True:
            count += 1
            started = time.perf_counter()
            seen = await spend()
            report_ms.append((time.perf_counter() - started) * 1000)
            if seen == before + 1_000 + i:
                break
        lags.append((time.perf_counter() - committed) * 1000)
        asks.append(count)
    return lags, asks, report_ms
