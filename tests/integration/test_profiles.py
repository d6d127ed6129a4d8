"""Members' behavioural profiles on both databases: every figure of `insights` equals what the
purchases themselves say (net of refunds, by window, category, channel and merchant), whichever way
a purchase arrived (postPurchase or a settlement file); the windows roll as the days pass; only the
member and admins see it; admins set the lifecycle rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from api.settings import Settings
from domain import profiles as dp
from domain.actors import Actor, Role
from domain.clock import SystemClock
from domain.merchants import Channel
from domain.money import Money
from domain.services.settlement import import_settlement_batch
from domain.settlement import SettlementLine
from persistence.queries.read_model import SqlReadModel
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend, GraphQLClient, make_client, settings_for

pytestmark = pytest.mark.asyncio

INSIGHTS = """query { me { insights {
  stage lastPurchaseOn
  windows { days purchases spend { amountMinor currency } }
  averageTicket { amountMinor }
  categories { category purchases spend { amountMinor } shareBasisPoints }
  channels { channel purchases }
  topMerchants { purchases spend { amountMinor } merchant { id name } }
  monthly { month category spend { amountMinor } }
} } }"""
MEMBER_INSIGHTS = (
    "query($id: ID!) { node(id: $id) { ... on Member { insights { stage windows { days purchases } } } } }"
)
REFUND = """mutation($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) { refund { id } errors { code field } }
}"""
RULES = "query { lifecycleRules { newMemberDays atRiskAfterDays dormantAfterDays churnedAfterDays } }"
UPDATE_RULES = """mutation($input: UpdateLifecycleRulesInput!) {
  updateLifecycleRules(input: $input) {
    lifecycleRules { newMemberDays atRiskAfterDays dormantAfterDays churnedAfterDays }
    errors { code field }
  }
}"""

NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


async def bought(
    given: Scenario, merchant: Ids, member: Ids, minor: int, key: str, days: int, channel: str = "OFFLINE"
) -> str:
    payload = await given.purchase(merchant, member, minor, key, occurredAt=days_ago(days), channel=channel)
    assert payload["errors"] == [], payload
    return str(payload["purchase"]["id"])


async def refunded(given: Scenario, merchant: Ids, purchase_id: str, minor: int | None, key: str) -> None:
    variables: dict[str, Any] = {"input": {"purchaseId": purchase_id, "idempotencyKey": key}}
    if minor is not None:
        variables["input"]["amount"] = {"amountMinor": minor, "currency": "CNY"}
    body = await given.gql.post(REFUND, variables, given.tokens.merchant(merchant.raw))
    assert body["data"]["refundPurchase"]["errors"] == [], body


async def truth(backend: Backend, member: Ids, days: int) -> tuple[int, int]:
    """(purchases not fully refunded, spend net of refunds in CNY) over the window, from purchases."""
    start = dp.window_start(dp.utc_day(datetime.now(UTC)), days)
    async with backend.database.read_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT amount_minor, refunded_minor, currency, occurred_at"
                    " FROM purchases WHERE member_id = :m"
                ),
                {"m": member.raw},
            )
        ).all()
    kept = [r for r in rows if dp.utc_day(_aware(r.occurred_at)) >= start]
    return (
        sum(1 for r in kept if r.refunded_minor < r.amount_minor),
        sum(r.amount_minor - r.refunded_minor for r in kept if r.currency == "CNY"),
    )


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def test_insights_equal_what_the_purchases_say_net_of_refunds(
    backend: Backend, given: Scenario
) -> None:
    noodles = await given.merchant("Noodle Bar", "DINING")
    airline = await given.merchant("Sky Air", "TRAVEL")
    grocer = await given.merchant("Fresh Mart", "GROCERY")
    member = await given.member()
    await bought(given, noodles, member, 10_000, "p1", days=1)
    await bought(given, noodles, member, 5_000, "p2", days=40, channel="ONLINE")
    await bought(given, airline, member, 100_000, "p3", days=80, channel="ONLINE")
    gone = await bought(given, noodles, member, 2_000, "p4", days=0)
    part = await bought(given, airline, member, 30_000, "p5", days=10)
    await refunded(given, noodles, gone, None, "r4")  # fully: off the count and the spend
    await refunded(given, airline, part, 10_000, "r5")  # partly: 200.00 of 300.00 stays
    # A settlement file's line counts as a posted purchase does.
    ref = await given.member_ref(grocer, member)
    line = SettlementLine(1, "s-1", ref, Money(4_321, "CNY"), NOW - timedelta(days=5), Channel.OFFLINE)
    outcome = await import_settlement_batch(
        [line],
        actor=Actor(role=Role.MERCHANT, subject="import", merchant_id=grocer.raw),
        uow=SqlAlchemyUnitOfWork(backend.database.write_engine),
        clock=SystemClock(),
    )
    assert (outcome.posted, outcome.rejected) == (1, ())

    data = await given.gql.data(INSIGHTS, None, given.tokens.member(member.raw))
    insights = data["me"]["insights"]

    windows = {w["days"]: (w["purchases"], w["spend"]["amountMinor"]) for w in insights["windows"]}
    assert windows == {
        30: (3, 10_000 + 20_000 + 4_321),
        90: (5, 10_000 + 5_000 + 100_000 + 20_000 + 4_321),
        365: (5, 139_321),
    }
    for days in dp.WINDOWS:
        assert windows[days] == await truth(backend, member, days)
    assert {w["spend"]["currency"] for w in insights["windows"]} == {"CNY"}
    assert insights["averageTicket"] == {"amountMinor": 27_864}  # 139,321 / 5 = 27,864.2
    assert insights["categories"] == [
        {"category": "TRAVEL", "purchases": 2, "spend": {"amountMinor": 120_000}, "shareBasisPoints": 8613},
        {"category": "DINING", "purchases": 2, "spend": {"amountMinor": 15_000}, "shareBasisPoints": 1077},
        {"category": "GROCERY", "purchases": 1, "spend": {"amountMinor": 4_321}, "shareBasisPoints": 310},
    ]
    assert sum(c["shareBasisPoints"] for c in insights["categories"]) == 10_000
    assert insights["channels"] == [
        {"channel": "OFFLINE", "purchases": 3},
        {"channel": "ONLINE", "purchases": 2},
    ]
    assert [
        (m["merchant"]["name"], m["purchases"], m["spend"]["amountMinor"]) for m in insights["topMerchants"]
    ] == [
        ("Sky Air", 2, 120_000),
        ("Noodle Bar", 2, 15_000),
        ("Fresh Mart", 1, 4_321),
    ]
    assert sum(m["spend"]["amountMinor"] for m in insights["monthly"]) == 139_321
    assert insights["lastPurchaseOn"] == dp.utc_day(NOW - timedelta(days=1)).isoformat()
    assert insights["stage"] == "NEW"  # enrolled today


async def test_the_windows_roll_as_the_days_pass(backend: Backend, given: Scenario) -> None:
    """The same counters read on later days: a purchase leaves the 30-day window on its 31st day."""
    noodles = await given.merchant()
    member = await given.member()
    await bought(given, noodles, member, 1_000, "old", days=29)
    await bought(given, noodles, member, 2_000, "new", days=0)
    reader = SqlReadModel(backend.database.read_engine)
    today = dp.utc_day(datetime.now(UTC))
    [rows] = await reader.activity([member.raw], today - timedelta(days=400))

    def on(day: date) -> dict[int, tuple[int, int]]:
        found = dp.insights(
            rows,
            currency="CNY",
            today=day,
            enrolled_on=today,
            marked_dormant=False,
            rules=dp.LifecycleRules(),
        )
        return {w.days: (w.purchases, w.spend_minor) for w in found.windows}

    assert on(today)[30] == (2, 3_000)
    assert on(today + timedelta(days=1))[30] == (1, 2_000)
    assert on(today + timedelta(days=30))[30] == (0, 0)
    assert on(today + timedelta(days=30))[90] == (2, 3_000)
    assert on(today + timedelta(days=364))[365] == (1, 2_000)


async def test_with_profiles_off_purchases_leave_the_counters_alone(
    backend: Backend, given: Scenario
) -> None:
    noodles = await given.merchant()
    member = await given.member()
    await bought(given, noodles, member, 1_000, "counted", days=0)
    async with make_client(settings_for(backend.url, profiles=False), backend.database) as http:
        off = Scenario(GraphQLClient(http), given.tokens)
        await bought(off, noodles, member, 2_000, "not-counted", days=0)
    windows = (await given.gql.data(INSIGHTS, None, given.tokens.member(member.raw)))["me"]["insights"][
        "windows"
    ]
    assert windows[0] == {"days": 30, "purchases": 1, "spend": {"amountMinor": 1_000, "currency": "CNY"}}
    assert Settings.from_env({"PROFILES": "false", "JWT_SECRET": "x" * 32}).profiles is False
    assert Settings.from_env({"JWT_SECRET": "x" * 32}).profiles is True


async def test_only_the_member_and_admins_see_insights(given: Scenario) -> None:
    noodles = await given.merchant()
    member = await given.member()
    await bought(given, noodles, member, 1_000, "p", days=0)
    admin = (await given.gql.data(MEMBER_INSIGHTS, {"id": member.gid}, given.admin))["node"]
    assert admin["insights"]["windows"][0] == {"days": 30, "purchases": 1}
    other = await given.member()
    for token in (given.tokens.merchant(noodles.raw), given.tokens.member(other.raw)):
        body = await given.gql.post(MEMBER_INSIGHTS, {"id": member.gid}, token)
        node = body.get("data", {}).get("node")
        assert node is None or node.get("insights") is None, body


async def test_admins_set_the_lifecycle_rules_and_bad_ones_change_nothing(given: Scenario) -> None:
    assert (await given.gql.data(RULES, None, given.admin))["lifecycleRules"] == {
        "newMemberDays": 30,
        "atRiskAfterDays": 60,
        "dormantAfterDays": 120,
        "churnedAfterDays": 365,
    }
    wanted = {"newMemberDays": 0, "atRiskAfterDays": 45, "dormantAfterDays": 90, "churnedAfterDays": 200}
    done = (await given.gql.data(UPDATE_RULES, {"input": wanted}, given.admin))["updateLifecycleRules"]
    assert done == {"lifecycleRules": wanted, "errors": []}
    bad = wanted | {"dormantAfterDays": 30}
    refused = (await given.gql.data(UPDATE_RULES, {"input": bad}, given.admin))["updateLifecycleRules"]
    assert refused == {
        "lifecycleRules": None,
        "errors": [{"code": "VALIDATION", "field": ["atRiskAfterDays"]}],
    }
    assert (await given.gql.data(RULES, None, given.admin))["lifecycleRules"] == wanted
    # With no new-member period, a member enrolled today who bought today is ACTIVE.
    noodles = await given.merchant()
    member = await given.member()
    await bought(given, noodles, member, 1_000, "p", days=0)
    stage = (await given.gql.data(INSIGHTS, None, given.tokens.member(member.raw)))["me"]["insights"]["stage"]
    assert stage == "ACTIVE"
    body = await given.gql.post(RULES, None, given.tokens.member(member.raw))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
