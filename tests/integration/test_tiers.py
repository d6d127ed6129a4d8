"""Tiers and dormancy through the API, on both databases: an admin builds the ladder 普卡 / 金卡 / 白金卡;
purchases upgrade at once and the tier multiplies the next purchase's base points; the evaluation
job starts a grace period and downgrades after it; tier-only and win-back offers; the dormancy job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from domain.actors import Actor, Role
from domain.clock import FixedClock, SystemClock
from domain.money import Money
from domain.programme import add_months
from domain.services.dormancy import run_dormancy
from domain.services.settlement import import_settlement_batch
from domain.services.tiers import run_tier_evaluation
from domain.settlement import SettlementLine
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer, purchase_with_offers
from tests.integration.test_query_counts import selects_for

CREATE_TIER = """mutation($input: CreateTierInput!) {
  createTier(input: $input) {
    tier { id code name rank minPoints minSpend { amountMinor currency } earnMultiplier isEntry }
    errors { code field message }
  }
}"""
UPDATE_TIER = """mutation($input: UpdateTierInput!) {
  updateTier(input: $input) {
    tier { id code name minPoints minSpend { amountMinor } earnMultiplier }
    errors { code field message }
  }
}"""
TIERS = "query { tiers { code name rank isEntry } }"
STANDING = """query {
  me {
    status
    tier { code name earnMultiplier }
    tierProgress {
      tier { code } nextTier { code } qualifyingPoints qualifyingSpend { amountMinor currency }
      pointsNeeded spendNeeded { amountMinor currency } windowStart graceUntil
    }
    tierHistory {
      edges { node {
        reason fromTier { code } toTier { code } qualifyingPoints qualifyingSpend { amountMinor currency }
      } }
    }
  }
}"""
QUALIFY = """mutation($input: QualifyPurchaseInput!) {
  qualifyPurchase(input: $input) { qualification { basePoints totalPoints } errors { code } }
}"""
MEMBERS = """query($status: MemberStatus) {
  members(filter: {status: $status}) { edges { node { externalRef status } } }
}"""
ACTIVITY = "query { me { lastActivityAt dormantSince } }"
ELIGIBLE = "query { me { eligibleOffers { edges { node { name tierIds dormantOnly } } } } }"

PROGRAMME_PAYS = [{"kind": "PROGRAMME", "percent": 100}]


def cny(minor: int) -> dict[str, Any]:
    return {"amountMinor": minor, "currency": "CNY"}


async def create_tier(given: Scenario, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(CREATE_TIER, {"input": fields}, given.admin)
    return data["createTier"]  # type: ignore[no-any-return]


async def given_ladder(given: Scenario) -> dict[str, str]:
    """普卡 (entry), 金卡 (1,000 points, x1.5), 白金卡 (5,000 points or CNY 50,000 spend, x2): ids by code."""
    ids = {}
    for fields in (
        {"code": "CLASSIC", "name": "普卡", "rank": 1},
        {"code": "GOLD", "name": "金卡", "rank": 2, "minPoints": 1_000, "earnMultiplier": "1.5"},
        {
            "code": "PLATINUM",
            "name": "白金卡",
            "rank": 3,
            "minPoints": 5_000,
            "minSpend": cny(5_000_000),
            "earnMultiplier": "2",
        },
    ):
        created = await create_tier(given, **fields)
        assert created["errors"] == [], created
        ids[created["tier"]["code"]] = created["tier"]["id"]
    return ids


async def standing(given: Scenario, member: Ids) -> dict[str, Any]:
    data = await given.gql.data(STANDING, token=given.tokens.member(member.raw))
    return data["me"]  # type: ignore[no-any-return]


def history(me: dict[str, Any]) -> list[tuple[str, str | None, str | None, int]]:
    return [
        (
            n["node"]["reason"],
            (n["node"]["fromTier"] or {}).get("code"),
            (n["node"]["toTier"] or {}).get("code"),
            n["node"]["qualifyingPoints"],
        )
        for n in me["tierHistory"]["edges"]
    ]


def jobs_uow(backend: Backend):  # type: ignore[no-untyped-def]
    return lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)


async def scalar(backend: Backend, sql: str, **params: object) -> Any:
    async with backend.database.read_engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def test_an_admin_builds_the_ladder_that_everyone_can_read(backend: Backend, given: Scenario) -> None:
    ids = await given_ladder(given)
    member = await given.member()

    listed = await given.gql.data(TIERS, token=given.tokens.member(member.raw))
    assert listed["tiers"] == [
        {"code": "CLASSIC", "name": "普卡", "rank": 1, "isEntry": True},
        {"code": "GOLD", "name": "金卡", "rank": 2, "isEntry": False},
        {"code": "PLATINUM", "name": "白金卡", "rank": 3, "isEntry": False},
    ]
    cases = [
        ({"code": "gold", "rank": 9, "minPoints": 9}, "ALREADY_EXISTS", ["code"]),
        ({"code": "DIAMOND", "rank": 2, "minPoints": 9}, "ALREADY_EXISTS", ["rank"]),
        (
            {"code": "DIAMOND", "rank": 9, "minPoints": 9, "earnMultiplier": "11"},
            "VALIDATION",
            ["earnMultiplier"],
        ),
        ({"code": "DIAMOND", "rank": 9, "minPoints": -1}, "VALIDATION", ["minPoints"]),
        ({"code": "DIAMOND", "rank": 9}, "VALIDATION", ["minPoints"]),  # a second entry tier
        (
            {"code": "DIAMOND", "rank": 9, "minSpend": {"amountMinor": 100, "currency": "HKD"}},
            "VALIDATION",
            ["minSpend", "currency"],
        ),
        (
            {"code": "DIAMOND", "rank": 9, "minSpend": {"amountMinor": 100, "currency": "EUR"}},
            "VALIDATION",
            None,
        ),
    ]
    for fields, code, field in cases:
        refused = await create_tier(given, name="鑽石卡", **fields)
        assert refused["tier"] is None, fields
        assert refused["errors"][0]["code"] == code, (fields, refused)
        if field is not None:
            assert refused["errors"][0]["field"] == field, (fields, refused)
    assert len((await given.gql.data(TIERS, token=given.admin))["tiers"]) == 3
    node = await given.gql.data(
        "query($id: ID!) { node(id: $id) { ... on Tier { code earnMultiplier } } }",
        {"id": ids["PLATINUM"]},
        given.tokens.member(member.raw),
    )
    assert node["node"] == {"code": "PLATINUM", "earnMultiplier": "2"}

    updated = await given.gql.data(
        UPDATE_TIER, {"input": {"id": ids["GOLD"], "name": "金卡會員", "minPoints": 1_200}}, given.admin
    )
    assert updated["updateTier"]["errors"] == []
    assert updated["updateTier"]["tier"] == {
        "id": ids["GOLD"],
        "code": "GOLD",
        "name": "金卡會員",
        "minPoints": 1_200,
        "minSpend": None,
        "earnMultiplier": "1.5",
    }
    cleared = await given.gql.data(
        UPDATE_TIER, {"input": {"id": ids["PLATINUM"], "minSpend": None}}, given.admin
    )
    assert cleared["updateTier"]["tier"]["minSpend"] is None
    assert await scalar(backend, "SELECT count(*) FROM audit_log WHERE target_type = 'Tier'") == 5

    as_member = await given.gql.post(
        CREATE_TIER, {"input": {"code": "X", "name": "x", "rank": 7}}, given.tokens.member(member.raw)
    )
    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_purchase_upgrades_at_once_and_the_tier_multiplies_the_next_purchase(
    backend: Backend, given: Scenario
) -> None:
    await given_ladder(given)
    merchant = await given.merchant()
    member = await given.member()
    before = await standing(given, member)

    first = await given.purchase(merchant, member, 100_000, key="p1")  # CNY 1,000: 1,000 points, gold
    upgraded = await standing(given, member)
    dry = await given.gql.data(
        QUALIFY,
        {"input": {"memberRef": await given.member_ref(merchant, member), "amount": cny(10_001)}},
        given.tokens.merchant(merchant.raw),
    )
    second = await given.purchase(merchant, member, 10_001, key="p2")  # 100.01 x 1.5 = 150.015
    after = await standing(given, member)

    assert before["tier"]["code"] == "CLASSIC"
    assert history(before) == []
    assert first["purchase"]["pointsEarned"] == 1_000
    assert upgraded["tier"] == {"code": "GOLD", "name": "金卡", "earnMultiplier": "1.5"}
    assert history(upgraded) == [("UPGRADE", "CLASSIC", "GOLD", 1_000)]
    assert upgraded["tierHistory"]["edges"][0]["node"]["qualifyingSpend"] == cny(100_000)
    assert dry["qualifyPurchase"]["qualification"] == {"basePoints": 150, "totalPoints": 150}
    assert second["purchase"]["pointsEarned"] == 150
    progress = after["tierProgress"]
    assert progress["tier"] == {"code": "GOLD"}
    assert progress["nextTier"] == {"code": "PLATINUM"}
    assert (progress["qualifyingPoints"], progress["qualifyingSpend"]) == (1_150, cny(110_001))
    assert (progress["pointsNeeded"], progress["spendNeeded"]) == (3_850, cny(4_889_999))
    assert progress["graceUntil"] is None
    window_start = datetime.fromisoformat(progress["windowStart"])
    assert abs(window_start - add_months(datetime.now(UTC), -12)) < timedelta(minutes=1)
    assert len(after["tierHistory"]["edges"]) == 1
    assert (await given.balance(member))["available"] == 1_150
    assert await check_ledger(backend.database.read_engine) == []


async def test_spend_alone_reaches_a_tier_and_the_top_tier_is_left_alone(
    backend: Backend, given: Scenario
) -> None:
    await given_ladder(given)
    # One point per CNY 100: CNY 50,000 of spend earns only 500 points, yet reaches platinum.
    merchant = await given.merchant("Jeweller", "RETAIL", earnRateOverride="0.01")
    member = await given.member()

    posted = await given.purchase(merchant, member, 5_000_000, key="p1")
    more = await given.purchase(merchant, member, 5_000_000, key="p2")  # already at the top: no change
    me = await standing(given, member)

    assert posted["purchase"]["pointsEarned"] == 500
    assert more["purchase"]["pointsEarned"] == 1_000  # at platinum's x2
    assert me["tier"]["code"] == "PLATINUM"
    assert history(me) == [("UPGRADE", "CLASSIC", "PLATINUM", 500)]
    progress = me["tierProgress"]
    assert (progress["nextTier"], progress["pointsNeeded"], progress["spendNeeded"]) == (None, None, None)


async def test_the_evaluation_starts_a_grace_period_then_downgrades_after_it(
    backend: Backend, given: Scenario
) -> None:
    await given_ladder(given)
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 120_000, key="p1")  # gold, with 1,200 points
    now = datetime.now(UTC)
    lapsed = add_months(now, 13)  # the purchase has left the 12-month window

    today = await run_tier_evaluation(jobs_uow(backend), FixedClock(now))
    grace = await run_tier_evaluation(jobs_uow(backend), FixedClock(lapsed))
    in_grace = await run_tier_evaluation(jobs_uow(backend), FixedClock(lapsed + timedelta(days=29)))
    during = await standing(given, member)
    downgrade = await run_tier_evaluation(jobs_uow(backend), FixedClock(lapsed + timedelta(days=30)))
    again = await run_tier_evaluation(jobs_uow(backend), FixedClock(lapsed + timedelta(days=31)))
    after = await standing(given, member)

    assert (today.members, today.upgraded, today.grace_started, today.downgraded) == (1, 0, 0, 0)
    assert (grace.members, grace.grace_started) == (1, 1)
    assert (in_grace.grace_started, in_grace.downgraded) == (0, 0)
    assert during["tier"]["code"] == "GOLD"
    assert datetime.fromisoformat(during["tierProgress"]["graceUntil"]) == lapsed + timedelta(days=30)
    assert (downgrade.downgraded, downgrade.upgraded) == (1, 0)
    assert again.members == 0  # in the entry tier without purchases in the window: nothing to look at
    assert after["tier"]["code"] == "CLASSIC"
    assert after["tierProgress"]["graceUntil"] is None
    assert history(after) == [
        ("DOWNGRADE", "GOLD", "CLASSIC", 0),
        ("GRACE", "GOLD", "GOLD", 0),
        ("UPGRADE", "CLASSIC", "GOLD", 1_200),
    ]


async def test_qualifying_again_during_the_grace_keeps_the_tier(backend: Backend, given: Scenario) -> None:
    await given_ladder(given)
    merchant = await given.merchant()
    member = await given.member()
    await given.purchase(merchant, member, 100_000, key="p1")
    # The programme's window shrinks to 0 months: the member no longer qualifies today.
    async with backend.database.write_engine.begin() as conn:
        await conn.exec_driver_sql(
            "UPDATE programme SET tier_window_months = 0, catalogue_version = catalogue_version + 1"
        )
    try:
        later = datetime.now(UTC) + timedelta(minutes=10)
        grace = await run_tier_evaluation(jobs_uow(backend), FixedClock(later))
        # A purchase during the grace reaches gold again: the grace ends at once.
        await given.purchase(merchant, member, 70_000, key="p2")  # 700 x 1.5 = 1,050 points
    finally:
        async with backend.database.write_engine.begin() as conn:
            await conn.exec_driver_sql(
                "UPDATE programme SET tier_window_months = 12, catalogue_version = catalogue_version + 1"
            )
    me = await standing(given, member)

    assert grace.grace_started == 1
    assert me["tier"]["code"] == "GOLD"
    assert me["tierProgress"]["graceUntil"] is None
    assert [h[0] for h in history(me)] == ["REQUALIFIED", "GRACE", "UPGRADE"]


async def test_the_evaluation_upgrades_members_whose_purchases_came_by_settlement_file(
    backend: Backend, given: Scenario
) -> None:
    await given_ladder(given)
    merchant = await given.merchant()
    gold = await given.member("alice")
    await given.purchase(merchant, gold, 100_000, key="p1")
    bob = await given.member("bob")
    b, a = await given.member_ref(merchant, bob), await given.member_ref(merchant, gold)
    lines = [
        SettlementLine(2, "S-1", b, Money(600_000, "CNY"), datetime.now(UTC), None),
        SettlementLine(3, "S-2", a, Money(1_000, "CNY"), datetime.now(UTC), None),
    ]

    outcome = await import_settlement_batch(
        lines,
        actor=Actor(Role.MERCHANT, "import", merchant_id=merchant.raw),
        uow=SqlAlchemyUnitOfWork(backend.database.write_engine),
        clock=SystemClock(),
    )
    run = await run_tier_evaluation(jobs_uow(backend), SystemClock())
    members = await given.gql.data(
        "query { members { edges { node { externalRef tier { code } } } } }", token=given.admin
    )

    assert outcome.points == 6_000 + 15  # alice earns at gold's x1.5 in the file too
    assert (run.members, run.upgraded) == (2, 1)
    assert [(e["node"]["externalRef"], e["node"]["tier"]["code"]) for e in members["members"]["edges"]] == [
        ("alice", "GOLD"),
        ("bob", "PLATINUM"),
    ]


async def test_a_tier_only_offer_applies_to_that_tier_only(backend: Backend, given: Scenario) -> None:
    ids = await given_ladder(given)
    merchant = await given.merchant()
    gold = await given.member("gold")
    await given.purchase(merchant, gold, 100_000, key="g1")
    classic = await given.member("classic")
    for name, tier in (("Gold: 88 points", "GOLD"), ("Classic: 11 points", "CLASSIC")):
        created = await create_offer(
            given,
            name=name,
            mechanic="BONUS_POINTS",
            points=88 if tier == "GOLD" else 11,
            funding=PROGRAMME_PAYS,
            tierIds=[ids[tier]],
        )
        assert created["errors"] == [], created
    unknown = await create_offer(
        given, name="x", mechanic="BONUS_POINTS", points=1, funding=PROGRAMME_PAYS, tierIds=["VGllcjo5OTk="]
    )

    as_gold = await purchase_with_offers(given, merchant, gold, 10_000, "g2")
    as_classic = await purchase_with_offers(given, merchant, classic, 10_000, "c1")
    wallet = await given.gql.data(ELIGIBLE, token=given.tokens.member(gold.raw))

    assert (unknown["errors"][0]["code"], unknown["errors"][0]["field"]) == ("NOT_FOUND", ["tierIds"])
    assert as_gold["postPurchase"]["purchase"]["pointsEarned"] == 150 + 88
    assert [a["points"] for a in as_gold["postPurchase"]["purchase"]["appliedOffers"]] == [88]
    # A member without a tier row is in the entry tier: the classic offer is its.
    assert as_classic["postPurchase"]["purchase"]["pointsEarned"] == 100 + 11
    assert wallet["me"]["eligibleOffers"]["edges"] == [
        {"node": {"name": "Gold: 88 points", "tierIds": [ids["GOLD"]], "dormantOnly": False}}
    ]


async def test_the_dormancy_job_marks_inactive_members_and_a_purchase_wakes_them(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    sleeper = await given.member("sleeper")
    await given.member("recent")
    win_back = await create_offer(
        given,
        name="We miss you: 200 points",
        mechanic="BONUS_POINTS",
        points=200,
        funding=PROGRAMME_PAYS,
        dormantOnly=True,
    )
    assert win_back["errors"] == []
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text("UPDATE member_balances SET last_activity_at = :at WHERE member_id = :id"),
            {"at": datetime.now(UTC) - timedelta(days=400), "id": sleeper.raw},
        )

    first = await run_dormancy(jobs_uow(backend), SystemClock())
    again = await run_dormancy(jobs_uow(backend), SystemClock())
    dormant = await given.gql.data(MEMBERS, {"status": "DORMANT"}, given.admin)
    active = await given.gql.data(MEMBERS, {"status": "ACTIVE"}, given.admin)
    wallet = await given.gql.data(ELIGIBLE, token=given.tokens.member(sleeper.raw))
    asleep_since = await given.gql.data(ACTIVITY, token=given.tokens.member(sleeper.raw))
    woken = await purchase_with_offers(given, merchant, sleeper, 10_000, "w1")
    awake = await standing(given, sleeper)
    woken_at = await given.gql.data(ACTIVITY, token=given.tokens.member(sleeper.raw))
    next_time = await purchase_with_offers(given, merchant, sleeper, 10_000, "w2")

    assert (first.members, again.members) == (1, 0)
    assert dormant["members"]["edges"] == [{"node": {"externalRef": "sleeper", "status": "DORMANT"}}]
    assert active["members"]["edges"] == [{"node": {"externalRef": "recent", "status": "ACTIVE"}}]
    assert [e["node"]["name"] for e in wallet["me"]["eligibleOffers"]["edges"]] == ["We miss you: 200 points"]
    assert woken["postPurchase"]["purchase"]["pointsEarned"] == 100 + 200
    assert awake["status"] == "ACTIVE"
    idle_for = datetime.now(UTC) - datetime.fromisoformat(asleep_since["me"]["lastActivityAt"])
    assert 399 <= idle_for.days <= 400
    assert asleep_since["me"]["dormantSince"] is not None
    assert woken_at["me"]["dormantSince"] is None
    assert datetime.now(UTC) - datetime.fromisoformat(woken_at["me"]["lastActivityAt"]) < timedelta(minutes=5)
    assert next_time["postPurchase"]["purchase"]["pointsEarned"] == 100
    assert (await given.gql.data(MEMBERS, {"status": "DORMANT"}, given.admin))["members"]["edges"] == []
    assert await check_ledger(backend.database.read_engine) == []


PAGE = """query { members(first: 50) { edges { node {
  externalRef tier { code } tierProgress { qualifyingPoints pointsNeeded }
} } } }"""


async def count_statements(backend: Backend, given: Scenario) -> int:
    count, data = await selects_for(backend, given, PAGE)
    assert all(e["node"]["tier"] for e in data["members"]["edges"])
    return count


async def test_tiers_on_a_member_page_cost_constant_statements(backend: Backend, given: Scenario) -> None:
    await given_ladder(given)
    merchant = await given.merchant()
    for i in range(3):
        await given.purchase(merchant, await given.member(), 100_000 * i + 1_000, key=f"k{i}")
    await count_statements(backend, given)  # warms this process's catalogue cache
    small = await count_statements(backend, given)

    for i in range(12):
        await given.purchase(merchant, await given.member(), 1_000, key=f"more{i}")
    large = await count_statements(backend, given)

    # members page; ladder and programme (each a catalogue version check); one qualification aggregate
    assert small == large == 4


async def test_a_purchase_that_earns_nothing_still_wakes_a_dormant_member(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    sleeper = await given.member("sleeper")
    async with backend.database.write_engine.begin() as conn:
        await conn.execute(
            text("UPDATE member_balances SET last_activity_at = :at WHERE member_id = :id"),
            {"at": datetime.now(UTC) - timedelta(days=400), "id": sleeper.raw},
        )
    assert (await run_dormancy(jobs_uow(backend), SystemClock())).members == 1

    posted = await given.purchase(merchant, sleeper, 50, key="tiny")  # 0.50 CNY: no points

    assert posted["purchase"]["pointsEarned"] == 0
    assert (await standing(given, sleeper))["status"] == "ACTIVE"
    assert (await given.gql.data(MEMBERS, {"status": "DORMANT"}, given.admin))["members"]["edges"] == []
