"""me.recommendedOffers through the API, on both databases: the order follows each member's planted
profile; the reasons carry their figures; the page the member reads is recorded as exposures, with
exact counts (an admin's look is none); a merchant context narrows the list; a bad context is a
typed error; other roles see nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from api.app import create_app
from persistence.tables import offer_exposures
from tests.builders import Ids, Scenario, raw_id
from tests.conftest import Backend, GraphQLClient, settings_for
from tests.integration.test_offers_api import create_offer

RECOMMENDED = """query($first: Int, $context: RecommendationContext) {
  me {
    recommendedOffers(first: $first, context: $context) {
      edges { node {
        offer { id name }
        score
        reasons {
          code message merchantName purchases category shareBasisPoints days amount { amountMinor currency }
        }
      } }
      pageInfo { hasNextPage }
    }
  }
}"""
MEMBERS_RECOMMENDED = """query($id: ID!) {
  node(id: $id) { ... on Member { recommendedOffers { edges { node { offer { name } score } } } } }
}"""
PROGRAMME = [{"kind": "PROGRAMME", "percent": 100}]


def cny(minor: int) -> dict[str, Any]:
    return {"amountMinor": minor, "currency": "CNY"}


def ends_in(days: float) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "startsAt": (now - timedelta(days=1)).isoformat(),
        "endsAt": (now + timedelta(days=days)).isoformat(),
    }


async def offer(given: Scenario, name: str, **fields: Any) -> str:
    terms = {"mechanic": "BONUS_POINTS", "points": 50, "funding": PROGRAMME, **ends_in(60), **fields}
    created = await create_offer(given, name=name, **terms)
    assert created["errors"] == [], created
    return str(created["offer"]["id"])


async def recommended(
    gql: GraphQLClient, token: str, first: int = 20, context: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    data = await gql.data(RECOMMENDED, {"first": first, "context": context}, token)
    return [e["node"] for e in data["me"]["recommendedOffers"]["edges"]]


def names(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["offer"]["name"] for n in nodes]


def reason(node: dict[str, Any], code: str) -> dict[str, Any]:
    found = [r for r in node["reasons"] if r["code"] == code]
    assert len(found) == 1, node["reasons"]
    return {k: v for k, v in found[0].items() if v is not None}


@asynccontextmanager
async def member_app(backend: Backend, **settings: Any) -> AsyncIterator[tuple[GraphQLClient, Any]]:
    """A client over an app of its own, whose exposure buffer the test flushes."""
    app = create_app(settings_for(backend.url, **settings), backend.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield GraphQLClient(http), app


async def exposures(backend: Backend) -> dict[tuple[int, int], int]:
    c = offer_exposures.c
    async with backend.database.read_engine.connect() as conn:
        rows = (await conn.execute(select(c.offer_id, c.member_id, c.listings))).all()
    return {(r.offer_id, r.member_id): r.listings for r in rows}


async def planted(given: Scenario) -> tuple[Ids, Ids, Ids, Ids]:
    """A diner (most of its spend at the Tea House), a grocery shopper, a newcomer, and the Tea House."""
    tea_house = await given.merchant("Tea House", "DINING")
    grocer = await given.merchant("Fresh Mart", "GROCERY")
    diner, shopper, newcomer = await given.member(), await given.member(), await given.member()
    for i, amount in enumerate((6_000, 4_000, 5_000)):
        await given.purchase(tea_house, diner, amount, key=f"d{i}")
    await given.purchase(grocer, diner, 5_000, key="d-g")
    for i, amount in enumerate((8_000, 7_000)):
        await given.purchase(grocer, shopper, amount, key=f"s{i}")
    return diner, shopper, newcomer, tea_house


async def test_the_order_follows_each_members_planted_profile(backend: Backend, given: Scenario) -> None:
    diner, shopper, newcomer, _ = await planted(given)
    # Equal worth (50 points each), equal end: only affinity tells them apart.
    await offer(given, "Dining bonus", categories=["DINING"])
    await offer(given, "Grocery bonus", categories=["GROCERY"])
    await offer(given, "Travel bonus", categories=["TRAVEL"])

    as_diner = await recommended(given.gql, given.tokens.member(diner.raw))
    as_shopper = await recommended(given.gql, given.tokens.member(shopper.raw))
    as_newcomer = await recommended(given.gql, given.tokens.member(newcomer.raw))

    assert names(as_diner) == ["Dining bonus", "Grocery bonus", "Travel bonus"]
    assert names(as_shopper) == ["Grocery bonus", "Dining bonus", "Travel bonus"]
    # Nothing to tell them apart for a newcomer: by offer id, at the floor alike.
    assert names(as_newcomer) == ["Dining bonus", "Grocery bonus", "Travel bonus"]
    assert len({n["score"] for n in as_newcomer}) == 1
    scores = [float(n["score"]) for n in as_diner]
    assert scores[0] > scores[1] > scores[2] > 0
    # The diner: 15,000 of 20,000 on dining.
    assert reason(as_diner[0], "CATEGORY_SHARE") == {
        "code": "CATEGORY_SHARE",
        "message": "75% of your spending this year is on dining",
        "category": "DINING",
        "shareBasisPoints": 7_500,
    }
    assert [r["code"] for r in as_shopper[0]["reasons"]] == ["CATEGORY_SHARE"]
    assert as_newcomer[0]["reasons"] == []


async def test_reasons_name_the_merchant_the_value_the_end_and_the_budget(
    backend: Backend, given: Scenario
) -> None:
    diner, _, _, tea_house = await planted(given)
    await offer(
        given,
        "Tea House 10 off",
        mechanic="INSTANT_DISCOUNT",
        points=0,
        amount=cny(1_000),
        merchantIds=[tea_house.gid],
        **ends_in(2.5),
    )
    # 10 points a purchase from a budget of 40: three purchases leave a quarter.
    await offer(given, "Dining 10 points", points=10, categories=["DINING"], limits={"budgetPoints": 40})
    for i in range(3):
        await given.purchase(tea_house, diner, 5_000, key=f"budget-{i}")

    nodes = {n["offer"]["name"]: n for n in await recommended(given.gql, given.tokens.member(diner.raw))}

    discount = nodes["Tea House 10 off"]
    assert reason(discount, "OFTEN_AT_MERCHANT") == {
        "code": "OFTEN_AT_MERCHANT",
        "message": "You often shop at Tea House (6 purchases this year)",
        "merchantName": "Tea House",
        "purchases": 6,
    }
    # The member's mean at the Tea House: (6,000 + 4,000 + 5,000 + 3 × 5,000) / 6 = 5,000.
    assert reason(discount, "HIGH_VALUE") == {
        "code": "HIGH_VALUE",
        "message": "Worth about 10.00 CNY on your usual 50.00 CNY purchase",
        "amount": cny(1_000),
    }
    assert reason(discount, "ENDS_SOON") == {"code": "ENDS_SOON", "message": "Ends in 3 days", "days": 3}
    assert reason(nodes["Dining 10 points"], "BUDGET_LOW") == {
        "code": "BUDGET_LOW",
        "message": "Only 25% of its budget is left",
        "shareBasisPoints": 2_500,
    }
    assert list(nodes) == ["Tea House 10 off", "Dining 10 points"]


async def test_each_listing_the_member_reads_is_recorded_as_exposures(
    backend: Backend, given: Scenario
) -> None:
    diner, shopper, _, _ = await planted(given)
    dining = raw_id(await offer(given, "Dining bonus", categories=["DINING"]))
    grocery = raw_id(await offer(given, "Grocery bonus", categories=["GROCERY"]))
    travel = raw_id(await offer(given, "Travel bonus", categories=["TRAVEL"]))

    async with member_app(backend) as (gql, app):
        for _ in range(3):
            await recommended(gql, given.tokens.member(diner.raw), first=2)
        await recommended(gql, given.tokens.member(shopper.raw), first=1)
        # An admin looking at the diner's list is no exposure.
        await gql.data(MEMBERS_RECOMMENDED, {"id": diner.gid}, given.admin)
        assert await exposures(backend) == {}  # held in memory until the buffer writes
        await app.state.exposures.flush()

    assert await exposures(backend) == {
        (dining, diner.raw): 3,
        (grocery, diner.raw): 3,
        (grocery, shopper.raw): 1,
    }
    assert travel not in {offer_id for offer_id, _ in await exposures(backend)}


async def test_with_flushing_off_each_listing_is_written_at_once(backend: Backend, given: Scenario) -> None:
    diner, _, _, _ = await planted(given)
    dining = raw_id(await offer(given, "Dining bonus", categories=["DINING"]))

    async with member_app(backend, exposure_flush_seconds=0) as (gql, app):
        assert app.state.exposures is None
        await recommended(gql, given.tokens.member(diner.raw))
        await recommended(gql, given.tokens.member(diner.raw))

    assert await exposures(backend) == {(dining, diner.raw): 2}


async def test_a_page_says_whether_more_follow(backend: Backend, given: Scenario) -> None:
    diner, _, _, _ = await planted(given)
    for name in ("Dining bonus", "Grocery bonus", "Travel bonus"):
        await offer(given, name, categories=[name.split()[0].upper()])
    token = given.tokens.member(diner.raw)

    def pages(first: int) -> Any:
        return given.gql.data(RECOMMENDED, {"first": first}, token)

    two, three = await pages(2), await pages(3)

    assert [len(p["me"]["recommendedOffers"]["edges"]) for p in (two, three)] == [2, 3]
    assert [p["me"]["recommendedOffers"]["pageInfo"]["hasNextPage"] for p in (two, three)] == [True, False]


async def test_a_merchant_context_lists_only_the_offers_that_apply_there(
    backend: Backend, given: Scenario
) -> None:
    diner, _, _, tea_house = await planted(given)
    noodles = await given.merchant("Noodle Bar", "DINING")
    await offer(given, "Tea House only", merchantIds=[tea_house.gid])
    await offer(given, "Noodle Bar only", merchantIds=[noodles.gid])
    await offer(given, "Any dining", categories=["DINING"])
    await offer(given, "Any grocery", categories=["GROCERY"])
    await offer(given, "Anywhere")
    token = given.tokens.member(diner.raw)

    at_tea_house = await recommended(given.gql, token, context={"merchantId": tea_house.gid})
    at_noodles = await recommended(
        given.gql, token, context={"merchantId": noodles.gid, "category": "DINING"}
    )

    assert sorted(names(at_tea_house)) == ["Any dining", "Anywhere", "Tea House only"]
    assert sorted(names(at_noodles)) == ["Any dining", "Anywhere", "Noodle Bar only"]
    # At its usual shop the member's merchant habit puts the shop's own offer first.
    assert names(at_tea_house)[0] == "Tea House only"
    assert sorted(names(await recommended(given.gql, token, context={"category": "GROCERY"}))) == [
        "Any grocery",
        "Anywhere",
    ]


async def test_a_bad_context_is_a_typed_error_and_records_nothing(backend: Backend, given: Scenario) -> None:
    diner, _, _, tea_house = await planted(given)
    online_shop = await given.merchant("Web Tea", "DINING", channel="ONLINE")
    await offer(given, "Any dining", categories=["DINING"])
    token = given.tokens.member(diner.raw)

    async with member_app(backend, exposure_flush_seconds=0) as (gql, _):
        bad = [
            {"merchantId": diner.gid},  # a member's id
            {"merchantId": "TWVyY2hhbnQ6OTk5OTk="},  # Merchant:99999, none such
            {"merchantId": "not-an-id"},
            {"merchantId": tea_house.gid, "category": "GROCERY"},
            {"merchantId": online_shop.gid, "channel": "OFFLINE"},
        ]
        answers = [await gql.post(RECOMMENDED, {"context": context}, token) for context in bad]

    for answer in answers:
        assert answer["data"] is None or answer["data"]["me"] is None, answer
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"], answer
    assert "GROCERY" in answers[3]["errors"][0]["message"]
    assert await exposures(backend) == {}


async def test_only_the_member_and_admins_see_its_recommendations(backend: Backend, given: Scenario) -> None:
    diner, _, _, tea_house = await planted(given)
    await offer(
        given,
        "Dining bonus",
        categories=["DINING"],
        funding=[{"kind": "MERCHANT", "funderId": tea_house.gid, "percent": 100}],
    )
    variables = {"id": diner.gid}

    own = await given.gql.data(MEMBERS_RECOMMENDED, variables, given.tokens.member(diner.raw))
    admin = await given.gql.data(MEMBERS_RECOMMENDED, variables, given.admin)
    merchant = await given.gql.data(MEMBERS_RECOMMENDED, variables, given.tokens.merchant(tea_house.raw))

    assert [e["node"]["offer"]["name"] for e in own["node"]["recommendedOffers"]["edges"]] == ["Dining bonus"]
    assert admin == own
    assert merchant["node"]["recommendedOffers"]["edges"] == []
