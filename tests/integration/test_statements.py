"""merchantStatement and partnerStatement on both databases: they reconcile with the journal lines of
the funding accounts to the point (and, at CNY 0.01 a point, to the fen), a refund's part comes off
in the refund's period, not the purchase's; each funder reads only its own; bad periods are refused."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import BigInteger, Integer, literal, select, text, union_all

from api.app import create_app
from api.settings import Settings
from domain.clock import FixedClock
from domain.refunds import apportion
from persistence.queries.statements import cashback_part
from tests.builders import Ids, Scenario
from tests.conftest import Backend, GraphQLClient, Tokens
from tests.integration.test_offers_api import create_offer, partner
from tests.integration.test_refunds import bought, refund
from tests.pos_steps import Pos

LINE = (
    "day offerId offerName currency awardsGiven awardsRefunded points moneyMinor cashbackMinor "
    "pointsValueMinor"
)
TOTAL = "currency pointValue awardsGiven awardsRefunded points moneyMinor cashbackMinor pointsValueMinor"
PARTNER = f"""query($period: StatementPeriod!, $id: ID) {{
  partnerStatement(period: $period, partnerId: $id) {{
    partnerId from to lines {{ {LINE} }} totals {{ {TOTAL} }} csv
  }}
}}"""
MERCHANT = f"""query($period: StatementPeriod!, $id: ID) {{
  merchantStatement(period: $period, merchantId: $id) {{
    merchantId from to pointsIssued pointsReversed pointsRejected netPointsIssued pointsRedeemed
    pointsReturned netPointsRedeemed fundedLines {{ {LINE} }} fundedTotals {{ {TOTAL} }} csv
  }}
}}"""
POINT_VALUE = """mutation($input: UpdateProgrammeInput!) {
  updateProgramme(input: $input) { programme { pointValues { currency value } } errors { code field } }
}"""


@pytest.fixture
async def clocked(
    settings: Settings, backend: Backend, tokens: Tokens
) -> AsyncIterator[tuple[Scenario, FixedClock]]:
    """The API over a clock the test moves: what happens is dated where the test puts it."""
    clock = FixedClock(datetime.now(UTC))
    app = create_app(settings, backend.database, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield Scenario(GraphQLClient(http), tokens), clock


def period(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


async def journal(backend: Backend, kind: str, owner: int, start: datetime, end: datetime) -> int:
    """What the funder's account paid in the period: minus the sum of its journal lines."""
    sql = """SELECT COALESCE(SUM(l.amount), 0) FROM journal_lines l
             JOIN journal_entries e ON e.id = l.entry_id
             WHERE l.account_kind = :kind AND l.owner_id = :owner
             AND e.created_at >= :start AND e.created_at < :end"""
    params = {"kind": kind, "owner": owner, "start": _db(backend, start), "end": _db(backend, end)}
    async with backend.database.read_engine.connect() as conn:
        return -int((await conn.execute(text(sql), params)).scalar_one())


async def member_points(backend: Backend, kind: str, merchant: int, start: datetime, end: datetime) -> int:
    """Points the journal moved into (EARN) or out of (REFUND) members for the merchant's purchases."""
    origin, origin_type = ("purchases", "PURCHASE") if kind == "EARN" else ("refunds", "REFUND")
    sql = f"""SELECT COALESCE(SUM(l.amount), 0) FROM journal_lines l
              JOIN journal_entries e ON e.id = l.entry_id
              JOIN {origin} o ON o.id = e.origin_id
              WHERE e.kind = :kind AND e.origin_type = :origin_type AND l.member_id IS NOT NULL
              AND o.merchant_id = :merchant AND e.created_at >= :start AND e.created_at < :end"""
    params = {
        "kind": kind,
        "origin_type": origin_type,
        "merchant": merchant,
        "start": _db(backend, start),
        "end": _db(backend, end),
    }
    async with backend.database.read_engine.connect() as conn:
        return abs(int((await conn.execute(text(sql), params)).scalar_one()))


def _db(backend: Backend, at: datetime) -> Any:
    """As the column stores it: SQLite holds naive UTC text."""
    return at.replace(tzinfo=None).isoformat(sep=" ") if backend.url.startswith("sqlite") else at


@dataclass
class World:
    merchant: Ids
    bank: Ids
    offers: dict[str, str]
    start: datetime
    boundary: datetime
    end: datetime


async def build(given: Scenario, clock: FixedClock) -> World:
    """Purchases with awards funded by a partner brand and a merchant, a partner-funded sign-up bonus,
    a POS capture, partial and full refunds on both sides of the boundary."""
    valued = await given.gql.data(
        POINT_VALUE, {"input": {"pointValues": [{"currency": "CNY", "value": "0.01"}]}}, given.admin
    )
    assert valued["updateProgramme"]["errors"] == []
    merchant, bank = await given.merchant(), await partner(given)
    offers: dict[str, str] = {}
    for name, fields in {
        "bonus": dict(
            mechanic="BONUS_POINTS",
            points=77,
            funding=[
                {"kind": "PARTNER", "funderId": bank.gid, "percent": 60},
                {"kind": "MERCHANT", "funderId": merchant.gid, "percent": 40},
            ],
        ),
        "cashback": dict(
            mechanic="CASHBACK_MONEY",
            percent="5",
            funding=[
                {"kind": "MERCHANT", "funderId": merchant.gid, "percent": 70},
                {"kind": "PARTNER", "funderId": bank.gid, "percent": 30},
            ],
        ),
        "welcome": dict(
            mechanic="BONUS_POINTS",
            points=30,
            trigger="SIGN_UP",
            funding=[{"kind": "PARTNER", "funderId": bank.gid, "percent": 100}],
        ),
    }.items():
        created = await create_offer(given, name=name, **fields)
        assert created["errors"] == [], created
        offers[name] = created["offer"]["id"]

    start = clock.at - timedelta(hours=1)
    member = await given.member()  # the welcome bonus, in the first period
    p1 = await bought(given, merchant, member, 30_000, "p1")
    p2 = await bought(given, merchant, member, 12_345, "p2")
    p3 = await bought(given, merchant, member, 10_001, "p3")
    assert (await refund(given, merchant, p1, "r1a", amount=4_001))["errors"] == []
    clock.at += timedelta(days=1)
    p4 = await bought(given, merchant, member, 9_999, "p4")
    hold = await Pos(given).hold(merchant, member, 50, "h1")
    assert (await Pos(given).capture(merchant, hold, "c1", points=40))["errors"] == []
    clock.at += timedelta(days=1)
    boundary = clock.at
    clock.at += timedelta(hours=1)
    # After the boundary: the rest of p1, part of p2, all of p3 and one fen of p4.
    for key, purchase, amount in [("r1b", p1, None), ("r2", p2, 3_333), ("r3", p3, None), ("r4", p4, 1)]:
        assert (await refund(given, merchant, purchase, key, amount=amount))["errors"] == []
    return World(merchant, bank, offers, start, boundary, clock.at + timedelta(hours=1))


def csv_totals(text_csv: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text_csv)) if row and row[0] == "total"]


async def test_statements_reconcile_with_the_funding_accounts_per_period(
    backend: Backend, clocked: tuple[Scenario, FixedClock]
) -> None:
    given, clock = clocked
    world = await build(given, clock)
    merchant_token = given.tokens.merchant(world.merchant.raw)
    partner_token = given.tokens.partner(world.bank.raw)
    money_by_funder: dict[str, int] = {"partner": 0, "merchant": 0}
    for start, end in [(world.start, world.boundary), (world.boundary, world.end)]:
        window = period(start, end)
        bank = (await given.gql.data(PARTNER, {"period": window}, partner_token))["partnerStatement"]
        shop = (await given.gql.data(MERCHANT, {"period": window}, merchant_token))["merchantStatement"]

        # To the point: the statement's points are what the funding account paid in the period.
        [bank_total] = bank["totals"]
        [shop_total] = shop["fundedTotals"]
        assert bank_total["points"] == await journal(backend, "PARTNER_FUNDING", world.bank.raw, start, end)
        assert shop_total["points"] == await journal(
            backend, "MERCHANT_FUNDING", world.merchant.raw, start, end
        )
        # To the fen: a point is one fen, and the total's value is its lines' values added up.
        for total, lines in ((bank_total, bank["lines"]), (shop_total, shop["fundedLines"])):
            assert (total["pointValue"], total["pointsValueMinor"]) == ("0.01", total["points"])
            assert total["pointsValueMinor"] == sum(line["pointsValueMinor"] for line in lines)
            for figure in ("points", "moneyMinor", "cashbackMinor", "awardsGiven", "awardsRefunded"):
                assert total[figure] == sum(line[figure] for line in lines), figure
        money_by_funder["partner"] += bank_total["moneyMinor"]
        money_by_funder["merchant"] += shop_total["moneyMinor"]

        # The merchant's own figures, against the journal's member lines of its purchases and refunds.
        assert shop["pointsIssued"] == await member_points(backend, "EARN", world.merchant.raw, start, end)
        assert shop["pointsReversed"] == await member_points(
            backend, "REFUND", world.merchant.raw, start, end
        )
        assert shop["netPointsIssued"] == shop["pointsIssued"] - shop["pointsReversed"]

        # The CSV says the same.
        assert csv_totals(bank["csv"]) == [
            ["total", "", "", "CNY", *(str(bank_total[f]) for f in TOTAL.split()[2:])]
        ]
        assert csv_totals(shop["csv"])[0][6] == str(shop_total["points"])

    before, after = [
        (await given.gql.data(MERCHANT, {"period": period(s, e)}, merchant_token))["merchantStatement"]
        for s, e in [(world.start, world.boundary), (world.boundary, world.end)]
    ]
    # The capture and p1's first refund were before the boundary; the other refunds after it, p1's
    # second and p3's completing those purchases (two awards each).
    assert (before["pointsRedeemed"], after["pointsRedeemed"]) == (40, 0)
    assert before["pointsReversed"] > 0
    assert after["pointsReversed"] > 0
    assert (before["fundedTotals"][0]["awardsRefunded"], after["fundedTotals"][0]["awardsRefunded"]) == (0, 4)
    assert after["fundedTotals"][0]["points"] < 0  # refunds give back in their own period
    assert after["fundedTotals"][0]["cashbackMinor"] < 0

    # Money nets as campaignReport nets it: over both periods, what each funder's parts still hold.
    report = """query($id: ID!) { campaignReport(offerId: $id) { funding { kind funderId moneyMinor } } }"""
    held = {"partner": 0, "merchant": 0}
    for offer in world.offers.values():
        data = await given.gql.data(report, {"id": offer}, given.admin)
        for cost in data["campaignReport"]["funding"]:
            if cost["kind"] in ("PARTNER", "MERCHANT"):
                held[cost["kind"].lower()] += cost["moneyMinor"]
    assert money_by_funder == held


async def test_a_funder_reads_only_its_own_statement(backend: Backend, given: Scenario) -> None:
    merchant, other = await given.merchant(), await given.merchant("Tea House")
    bank, other_bank = await partner(given), await partner(given)
    now = datetime.now(UTC)
    window = period(now - timedelta(days=1), now + timedelta(days=1))

    own = await given.gql.data(MERCHANT, {"period": window}, given.tokens.merchant(merchant.raw))
    assert own["merchantStatement"]["merchantId"] == merchant.gid
    theirs = await given.gql.data(
        MERCHANT, {"period": window, "id": other.gid}, given.tokens.merchant(merchant.raw)
    )
    assert theirs == {"merchantStatement": None}
    named = await given.gql.data(MERCHANT, {"period": window, "id": other.gid}, given.admin)
    assert named["merchantStatement"]["merchantId"] == other.gid
    not_bank = await given.gql.data(
        PARTNER, {"period": window, "id": other_bank.gid}, given.tokens.partner(bank.raw)
    )
    assert not_bank == {"partnerStatement": None}

    refused = await given.gql.post(PARTNER, {"period": window}, given.tokens.merchant(merchant.raw))
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    unnamed = await given.gql.post(PARTNER, {"period": window}, given.admin)
    assert [e["extensions"]["code"] for e in unnamed["errors"]] == ["BAD_USER_INPUT"]
    for bad in (
        period(now, now),
        period(now, now + timedelta(days=367)),
        {"from": now.isoformat(), "to": "2026-01-01T00:00:00"},
    ):
        body = await given.gql.post(MERCHANT, {"period": bad}, given.tokens.merchant(merchant.raw))
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], bad


async def test_point_values_are_set_per_accepted_currency(backend: Backend, given: Scenario) -> None:
    set_value = await given.gql.data(
        POINT_VALUE, {"input": {"pointValues": [{"currency": "cny", "value": "0.0125"}]}}, given.admin
    )
    assert {"currency": "CNY", "value": "0.0125"} in set_value["updateProgramme"]["programme"]["pointValues"]
    for value, currency, field in [
        ("0.1234567", "CNY", "value"),
        ("-1", "CNY", "value"),
        ("x", "CNY", "value"),
        ("1", "XXX", "currency"),
    ]:
        refused = await given.gql.data(
            POINT_VALUE, {"input": {"pointValues": [{"currency": currency, "value": value}]}}, given.admin
        )
        assert refused["updateProgramme"] == {
            "programme": None,
            "errors": [{"code": "VALIDATION", "field": ["pointValues", field]}],
        }
    twice = [{"currency": "CNY", "value": "1"}, {"currency": "CNY", "value": "2"}]
    refused = await given.gql.data(POINT_VALUE, {"input": {"pointValues": twice}}, given.admin)
    assert refused["updateProgramme"]["errors"][0]["code"] == "VALIDATION"
    reset = await given.gql.data(
        POINT_VALUE, {"input": {"pointValues": [{"currency": "CNY", "value": "0.01"}]}}, given.admin
    )
    assert reset["updateProgramme"]["errors"] == []


async def test_the_cashback_split_in_sql_is_the_domains_apportion(backend: Backend) -> None:
    """statements' awards are added up in the database: its cashback part of a funder's money must be
    exactly domain/refunds.apportion's, on both databases, ties and remainders included."""
    rng = random.Random(13)
    triples = [(0, 0, 0), (1, 1, 1), (3, 1, 1), (1, 3, 1), (2, 2, 3), (5, 0, 5), (0, 5, 5), (7, 7, 13)]
    for _ in range(300):
        d, c = rng.randint(0, 10**6), rng.randint(0, 10**6)
        triples.append((d, c, rng.randint(0, d + c)))
    # A compound SELECT of literals: SQLite takes no VALUES list with column names (and at most 500).
    rows = union_all(
        *(
            select(
                literal(n, Integer).label("n"),
                literal(d, BigInteger).label("d"),
                literal(c, BigInteger).label("c"),
                literal(m, BigInteger).label("m"),
            )
            for n, (d, c, m) in enumerate(triples)
        )
    ).subquery()
    statement = select(rows.c.n, cashback_part(rows.c.d, rows.c.c, rows.c.m)).order_by(rows.c.n)
    async with backend.database.read_engine.connect() as conn:
        found = [int(row[1]) for row in await conn.execute(statement)]
    assert found == [apportion([d, c], m)[1] for d, c, m in triples]
