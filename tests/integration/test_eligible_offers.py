"""me.eligibleOffers through the API, on both databases: only what the member can use now, each
exclusion with its own test; why each applies; what it would give on the member's typical basket,
equal to what postPurchase then gives; worth most first, paged by keyset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import CLAIM, CREATE_PARTNER, GENERATE, OPEN_RED_PACKET, create_offer
from tests.integration.test_query_counts import selects_for
from tests.integration.test_tiers import create_tier

ELIGIBLE = """query($first: Int, $after: String) {
  me {
    eligibleOffers(first: $first, after: $after) {
      edges { cursor node {
        name usesLeft reasons
        estimate {
          basket { amountMinor currency } points discount { amountMinor } cashback { amountMinor } worthPoints
        }
      } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""
PURCHASE = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase { pointsEarned paid { amountMinor } appliedOffers { offerId points discount { amountMinor } } }
    errors { code }
  }
}"""
PROGRAMME = [{"kind": "PROGRAMME", "percent": 100}]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def cny(minor: int) -> dict[str, Any]:
    return {"amountMinor": minor, "currency": "CNY"}


async def page(given: Scenario, member: Ids, first: int = 20, after: str | None = None) -> dict[str, Any]:
    data = await given.gql.data(ELIGIBLE, {"first": first, "after": after}, given.tokens.member(member.raw))
    return data["me"]["eligibleOffers"]  # type: ignore[no-any-return]


async def listed(given: Scenario, member: Ids) -> list[str]:
    return [e["node"]["name"] for e in (await page(given, member))["edges"]]


async def bonus(given: Scenario, name: str, points: int = 10, **fields: Any) -> dict[str, Any]:
    created = await create_offer(
        given, name=name, mechanic="BONUS_POINTS", points=points, funding=PROGRAMME, **fields
    )
    assert created["errors"] == [], created
    return created["offer"]  # type: ignore[no-any-return]


# --- each exclusion ----------------------------------------------------------------------------------


async def test_a_sign_up_bonus_is_not_listed_once_enrolment_is_done(
    backend: Backend, given: Scenario
) -> None:
    old_hand = await given.member("old-hand")
    await bonus(given, "Welcome: 100 points", 100, trigger="SIGN_UP")
    await bonus(given, "Everyone: 10 points")
    newcomer = await given.member("newcomer")  # got the welcome bonus as it enrolled

    assert (await given.balance(newcomer))["available"] == 100
    assert await listed(given, old_hand) == ["Everyone: 10 points"]
    assert await listed(given, newcomer) == ["Everyone: 10 points"]


async def test_a_red_packet_is_listed_only_with_its_code_in_the_wallet(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    shared = await bonus(given, "Shared red packet", 66, trigger="RED_PACKET")
    own = await bonus(given, "Red packet: 88 points", 88, trigger="RED_PACKET")
    await given.gql.data(
        GENERATE, {"input": {"offerId": shared["id"], "sharedCode": "HONGBAO", "maxUses": 5}}, given.admin
    )
    generated = await given.gql.data(GENERATE, {"input": {"offerId": own["id"], "count": 1}}, given.admin)
    [code] = [c["code"] for c in generated["generateCoupons"]["coupons"]]

    before = await listed(given, member)
    await given.gql.data(CLAIM, {"input": {"code": code}}, given.tokens.member(member.raw))
    holding = (await page(given, member))["edges"]
    opened = await given.gql.data(
        OPEN_RED_PACKET, {"input": {"code": code, "idempotencyKey": "r1"}}, given.tokens.member(member.raw)
    )

    assert before == []
    [line] = holding
    assert line["node"]["name"] == "Red packet: 88 points"
    assert line["node"]["estimate"] == {
        "basket": None,
        "points": 88,
        "discount": None,
        "cashback": None,
        "worthPoints": 88,
    }
    assert "a red packet code in your wallet" in line["node"]["reasons"]
    assert opened["openRedPacket"] == {"points": 88, "errors": []}
    assert await listed(given, member) == []


async def test_a_first_purchase_offer_is_not_listed_after_a_purchase(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    buyer = await given.member("buyer")
    newcomer = await given.member("newcomer")
    await given.purchase(merchant, buyer, 1_000, key="p1")  # before the offer: it counts no use
    await bonus(given, "First purchase: 50 points", 50, firstPurchase="EVER")

    assert await listed(given, buyer) == []
    assert await listed(given, newcomer) == ["First purchase: 50 points"]


async def test_an_offer_is_not_listed_once_the_members_cap_is_reached(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await bonus(given, "Twice: 20 points", 20, limits={"perMember": 2})
    await bonus(given, "Always: 10 points")

    first = await page(given, member)
    await given.purchase(merchant, member, 1_000, key="p1")
    once = await page(given, member)
    await given.purchase(merchant, member, 1_000, key="p2")

    assert [(e["node"]["name"], e["node"]["usesLeft"]) for e in first["edges"]] == [
        ("Twice: 20 points", 2),
        ("Always: 10 points", None),
    ]
    assert (once["edges"][0]["node"]["name"], once["edges"][0]["node"]["usesLeft"]) == ("Twice: 20 points", 1)
    assert await listed(given, member) == ["Always: 10 points"]


async def test_an_offer_is_not_listed_once_its_budget_cannot_pay_its_award(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    first, second = await given.member("first"), await given.member("second")
    await bonus(given, "88 points, budget 100", 88, limits={"budgetPoints": 100})
    await bonus(given, "10 points, budget 20", 10, limits={"budgetPoints": 20})

    assert await listed(given, second) == ["88 points, budget 100", "10 points, budget 20"]
    bought = await given.purchase(merchant, first, 1_000, key="p1")  # 88 + 10 of the budgets used
    await given.purchase(merchant, first, 1_000, key="p2")  # 10 more: the second budget is spent

    assert bought["purchase"]["pointsEarned"] == 10 + 88 + 10
    # 12 points left cannot pay 88; 0 left cannot pay 10.
    assert await listed(given, second) == []


async def test_offers_outside_their_dates_days_or_hours_are_not_listed(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    now = datetime.now(SHANGHAI)
    today, hour = now.isoweekday(), now.hour
    # Not today nor tomorrow (should the test run across midnight), and not this hour nor the next.
    other_days = [d for d in range(1, 8) if d not in (today, today % 7 + 1)]
    other_hours = {"fromHour": hour + 2, "toHour": 24} if hour <= 21 else {"fromHour": 0, "toHour": hour}
    if hour == 23:
        other_hours = {"fromHour": 1, "toHour": 23}
    await bonus(given, "Open now")
    await given.gql.data(
        """mutation($input: CreateOfferInput!) { createOffer(input: $input) { errors { code } } }""",
        {
            "input": {
                "name": "Next week",
                "mechanic": "BONUS_POINTS",
                "points": 10,
                "funding": PROGRAMME,
                "startsAt": (now + timedelta(days=7)).isoformat(),
                "endsAt": (now + timedelta(days=14)).isoformat(),
            }
        },
        given.admin,
    )
    await bonus(given, "Other days", daysOfWeek=other_days)
    await bonus(given, "Other hours", **other_hours)
    await bonus(given, "Today, all day", daysOfWeek=[today, today % 7 + 1])

    assert await listed(given, member) == ["Open now", "Today, all day"]


async def test_an_offer_for_other_tiers_is_not_listed(backend: Backend, given: Scenario) -> None:
    classic = (await create_tier(given, code="CLASSIC", name="Classic", rank=1))["tier"]["id"]
    gold = (await create_tier(given, code="GOLD", name="Gold", rank=2, minPoints=1_000))["tier"]["id"]
    member = await given.member()
    await bonus(given, "Gold only", tierIds=[gold])
    await bonus(given, "Classic only", tierIds=[classic])

    [line] = (await page(given, member))["edges"]

    assert line["node"]["name"] == "Classic only"
    assert "Classic members" in line["node"]["reasons"]


async def test_an_offer_for_another_segment_is_not_listed(backend: Backend, given: Scenario) -> None:
    member = await given.member(profile={"region": "Shanghai", "birthYear": 1990, "tags": ["tea"]})
    await bonus(given, "Beijing only", segment={"regions": ["Beijing"]})
    await bonus(given, "Born in the 1980s", segment={"bornFrom": 1980, "bornTo": 1989})
    await bonus(given, "Coffee lovers", segment={"anyTags": ["coffee"]})
    await bonus(given, "Shanghai tea lovers", segment={"regions": ["Shanghai"], "anyTags": ["tea"]})

    [line] = (await page(given, member))["edges"]

    assert line["node"]["name"] == "Shanghai tea lovers"
    assert line["node"]["reasons"][:2] == ["members in Shanghai", "members tagged tea"]


async def test_a_coupon_only_offer_is_listed_only_with_an_unused_coupon_in_the_wallet(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    offer = await create_offer(
        given,
        name="20 off with a coupon",
        mechanic="INSTANT_DISCOUNT",
        amount=cny(2_000),
        requiresCoupon=True,
        funding=PROGRAMME,
    )
    generated = await given.gql.data(
        GENERATE, {"input": {"offerId": offer["offer"]["id"], "count": 1}}, given.admin
    )
    [code] = [c["code"] for c in generated["generateCoupons"]["coupons"]]

    before = await listed(given, member)
    await given.gql.data(CLAIM, {"input": {"code": code}}, given.tokens.member(member.raw))
    holding = (await page(given, member))["edges"]
    used = await given.purchase(merchant, member, 10_000, key="p1", couponCode=code)

    assert before == []
    [line] = holding
    assert line["node"]["name"] == "20 off with a coupon"
    assert "a coupon in your wallet" in line["node"]["reasons"]
    assert used["purchase"]["pointsEarned"] == 80  # 100.00 less 20.00 off
    assert await listed(given, member) == []


async def test_a_referred_only_offer_is_listed_only_to_referred_members(
    backend: Backend, given: Scenario
) -> None:
    referrer = await given.member("referrer")
    referred = await given.member("referred", referralCode=await given.referral_code(referrer))
    await bonus(given, "Friends of members", referredOnly=True)

    assert await listed(given, referrer) == []
    [line] = (await page(given, referred))["edges"]
    assert line["node"]["name"] == "Friends of members"
    assert "referred members" in line["node"]["reasons"]


# --- why, what it would give, and in which order ------------------------------------------------------


async def test_each_estimate_is_what_a_purchase_of_the_typical_basket_then_gives(
    backend: Backend, given: Scenario
) -> None:
    tea_house = await given.merchant("Tea House", "DINING")
    grocer = await given.merchant("Grocer", "GROCERY")
    member = await given.member()
    # The member's dining purchases: mean 40.00 (the grocery one is in another category).
    for key, amount in (("d1", 3_000), ("d2", 5_000), ("g1", 90_000)):
        await given.purchase(grocer if key == "g1" else tea_house, member, amount, key=key)
    all_week = {"daysOfWeek": [1, 2, 3, 4, 5, 6, 7], "fromHour": 0, "toHour": 24}
    await create_offer(
        given,
        name="Dining x2",
        mechanic="POINTS_MULTIPLIER",
        multiplier="2",
        categories=["DINING"],
        funding=PROGRAMME,
        **all_week,
    )
    cashback = await create_offer(
        given,
        name="Tea House 5% back in points",
        mechanic="CASHBACK_POINTS",
        percent="5",
        merchantIds=[tea_house.gid],
        funding=[{"kind": "MERCHANT", "funderId": tea_house.gid, "percent": 100}],
    )
    await create_offer(
        given,
        name="Spend 100, save 10",
        mechanic="SPEND_AND_SAVE",
        threshold=cny(10_000),
        amount=cny(1_000),
        categories=["DINING"],
        funding=PROGRAMME,
    )

    shown = (await page(given, member))["edges"]
    bought = await given.gql.data(
        PURCHASE,
        {
            "input": {
                "memberRef": await given.member_ref(tea_house, member),
                "amount": cny(4_000),
                "idempotencyKey": "typical",
            }
        },
        given.tokens.merchant(tea_house.raw),
    )

    lines = {e["node"]["name"]: e["node"] for e in shown}
    assert list(lines) == ["Dining x2", "Spend 100, save 10", "Tea House 5% back in points"]
    assert lines["Dining x2"]["estimate"] == {
        "basket": cny(4_000),
        "points": 40,
        "discount": {"amountMinor": 0},
        "cashback": {"amountMinor": 0},
        "worthPoints": 40,
    }
    # Below its threshold the typical basket would get nothing: estimated at the threshold.
    assert lines["Spend 100, save 10"]["estimate"] == {
        "basket": cny(10_000),
        "points": 0,
        "discount": {"amountMinor": 1_000},
        "cashback": {"amountMinor": 0},
        "worthPoints": 10,
    }
    assert lines["Tea House 5% back in points"]["estimate"]["points"] == 2
    assert lines["Dining x2"]["reasons"] == [
        "dining",
        "every day 00:00-24:00 (Asia/Shanghai time)",
        lines["Dining x2"]["reasons"][-1],
    ]
    assert lines["Dining x2"]["reasons"][-1].startswith("until ")
    assert lines["Tea House 5% back in points"]["reasons"][0] == "at Tea House"
    assert lines["Spend 100, save 10"]["reasons"][:2] == ["dining", "spend 100.00 CNY or more"]
    # The purchase of the typical basket gets exactly what the estimates said.
    purchase = bought["postPurchase"]["purchase"]
    by_offer = {a["offerId"]: a["points"] for a in purchase["appliedOffers"]}
    assert by_offer[cashback["offer"]["id"]] == 2
    assert sorted(by_offer.values()) == [2, 40]
    assert purchase["pointsEarned"] == 40 + 40 + 2


async def test_without_purchases_of_its_own_a_member_is_estimated_on_the_programmes_typical_basket(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant("Tea House", "DINING")
    regular, newcomer = await given.member("regular"), await given.member("newcomer")
    await given.purchase(merchant, regular, 2_000, key="p1")
    await given.purchase(merchant, regular, 6_001, key="p2")
    await create_offer(
        given, name="Dining x3", mechanic="POINTS_MULTIPLIER", multiplier="3", funding=PROGRAMME
    )

    [line] = (await page(given, newcomer))["edges"]

    # The mean of 20.00 and 60.01, rounded down to the fen; x3 gives twice the base of 40 points.
    assert line["node"]["estimate"]["basket"] == cny(4_000)
    assert line["node"]["estimate"]["points"] == 80


async def test_offers_are_ranked_by_worth_then_end_and_paged_by_keyset(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    await given.purchase(await given.merchant(), member, 1_000, key="p1")  # a basket to estimate on
    for name, points in (("Small", 5), ("Big", 500), ("Middle", 50), ("Middle too", 50)):
        await bonus(given, name, points)

    first = await page(given, member, first=2)
    rest = await page(given, member, first=2, after=first["pageInfo"]["endCursor"])
    # A new offer worth more than all of them arrives between the pages: the second page is unmoved.
    await bonus(given, "Huge", 5_000)
    again = await page(given, member, first=2, after=first["pageInfo"]["endCursor"])

    assert [e["node"]["name"] for e in first["edges"]] == ["Big", "Middle"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in rest["edges"]] == ["Middle too", "Small"]
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (False, True)
    assert again["edges"] == rest["edges"]
    assert [e["node"]["estimate"]["worthPoints"] for e in first["edges"]] == [500, 50]


MEMBERS_OFFERS = """query($id: ID!) {
  member(id: $id) {
    eligibleOffers { edges { node { name reasons estimate { basket { amountMinor } points worthPoints } } } }
  }
}"""


async def test_only_the_member_and_admins_see_its_offers_reasons_and_estimates(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant("Tea House", "DINING")
    member = await given.member()
    await given.purchase(merchant, member, 2_000, key="p1")  # links the member to the merchant
    await create_offer(
        given,
        name="Dining x2",
        mechanic="POINTS_MULTIPLIER",
        multiplier="2",
        categories=["DINING"],
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
    )
    variables = {"id": member.gid}

    own = await given.gql.data(MEMBERS_OFFERS, variables, given.tokens.member(member.raw))
    admin = await given.gql.data(MEMBERS_OFFERS, variables, given.admin)
    funder = await given.gql.data(MEMBERS_OFFERS, variables, given.tokens.merchant(merchant.raw))

    expected = [
        {
            "node": {
                "name": "Dining x2",
                "reasons": ["dining", own["member"]["eligibleOffers"]["edges"][0]["node"]["reasons"][-1]],
                "estimate": {"basket": {"amountMinor": 2_000}, "points": 20, "worthPoints": 20},
            }
        }
    ]
    assert own["member"]["eligibleOffers"]["edges"] == expected
    assert admin == own
    # The merchant reads the member linked to it, but not its offers (nor what it would get).
    assert funder["member"]["eligibleOffers"]["edges"] == []


async def test_a_page_costs_the_same_reads_however_many_offers_it_shows(
    backend: Backend, given: Scenario
) -> None:
    member = await given.member()
    await given.purchase(await given.merchant("Tea House", "DINING"), member, 2_000, key="p1")
    query = MEMBERS_OFFERS.replace("query($id: ID!)", "query").replace("$id", f'"{member.gid}"')

    async def offers_at_new_places(count: int) -> None:
        for i in range(count):
            shop = await given.merchant(f"Shop {i}", "GROCERY")
            brand = await given.gql.data(
                CREATE_PARTNER, {"input": {"name": f"Brand {i}", "kind": "OTHER"}}, given.admin
            )
            await bonus(given, f"First at shop {i}", merchantIds=[shop.gid], firstPurchase="AT_MERCHANT")
            await create_offer(
                given,
                name=f"Brand {i} x2",
                mechanic="POINTS_MULTIPLIER",
                multiplier="2",
                partnerIds=[brand["createPartnerBrand"]["partnerBrand"]["id"]],
                categories=["GROCERY"],
                funding=PROGRAMME,
            )

    async def reads() -> tuple[int, int]:
        await selects_for(backend, given, query)  # warms the catalogue cache after the changes
        count, data = await selects_for(backend, given, query)
        return count, len(data["member"]["eligibleOffers"]["edges"])

    await offers_at_new_places(1)
    few = await reads()
    await offers_at_new_places(5)
    many = await reads()

    assert (few[1], many[1]) == (2, 12)
    assert many[0] == few[0]
