"""Offers through the API, on both databases: an admin creates and pauses them, a merchant's purchase
gets them, the dry run agrees with the purchase, partners see what they fund, members see theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from persistence.queries.ledger_check import check_ledger
from tests.builders import Ids, Scenario
from tests.conftest import Backend

CREATE_PARTNER = """mutation($input: CreatePartnerBrandInput!) {
  createPartnerBrand(input: $input) { partnerBrand { id } errors { code } }
}"""
CREATE_OFFER = """mutation($input: CreateOfferInput!) {
  createOffer(input: $input) {
    offer { id version name mechanic status points funding { kind funderId percent } budgetPoints }
    errors { code field message }
  }
}"""
SET_STATUS = """mutation($input: PauseOfferInput!) {
  pauseOffer(input: $input) { offer { status } errors { code } }
}"""
PURCHASE_WITH_AWARDS = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase {
      pointsEarned
      basePoints
      paid { amountMinor }
      appliedOffers {
        offerId offerVersion mechanic points discount { amountMinor } funding { kind funderId points }
      }
    }
    errors { code }
  }
}"""
QUALIFY = """mutation($input: QualifyPurchaseInput!) {
  qualifyPurchase(input: $input) {
    qualification {
      basePoints totalPoints paid { amountMinor }
      appliedOffers { offerId points discount { amountMinor } }
      skipped { offerId reason }
    }
    errors { code field }
  }
}"""
OFFERS = "query { offers(first: 10) { edges { node { id name usage { pointsUsed uses } } } } }"
ELIGIBLE = "query { me { eligibleOffers { edges { node { id name usesLeft } } } } }"


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "startsAt": (now - timedelta(days=1)).isoformat(),
        "endsAt": (now + timedelta(days=7)).isoformat(),
    }


async def partner(given: Scenario) -> Ids:
    data = await given.gql.data(
        CREATE_PARTNER, {"input": {"name": "Bank of Tea", "kind": "OTHER"}}, given.admin
    )
    return Ids(data["createPartnerBrand"]["partnerBrand"]["id"])


async def purchase_with_offers(
    given: Scenario, merchant: Ids, member: Ids, amount_minor: int, key: str, **fields: Any
) -> dict[str, Any]:
    """postPurchase asking for what offers gave; the whole response data."""
    variables = {
        "input": {
            "memberRef": await given.member_ref(merchant, member),
            "amount": {"amountMinor": amount_minor, "currency": "CNY"},
            "idempotencyKey": key,
            **fields,
        }
    }
    return await given.gql.data(PURCHASE_WITH_AWARDS, variables, given.tokens.merchant(merchant.raw))  # type: ignore[no-any-return]


async def create_offer(given: Scenario, **fields: Any) -> dict[str, Any]:
    data = await given.gql.data(CREATE_OFFER, {"input": {**window(), **fields}}, given.admin)
    return data["createOffer"]


async def test_a_co_branded_offer_from_creation_to_purchase(backend: Backend, given: Scenario) -> None:
    bank = await partner(given)
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="Bank of Tea: 88 bonus points",
        mechanic="BONUS_POINTS",
        points=88,
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 70},
            {"kind": "PROGRAMME", "percent": 30},
        ],
        limits={"budgetPoints": 150, "perMember": 2},
    )
    assert created["errors"] == []
    offer = created["offer"]
    assert (offer["version"], offer["status"], offer["budgetPoints"]) == (1, "ACTIVE", 150)

    # The dry run, then the purchase it describes.
    qualify = await given.gql.data(
        QUALIFY,
        {
            "input": {
                "memberRef": await given.member_ref(merchant, member),
                "amount": {"amountMinor": 5_000, "currency": "CNY"},
            }
        },
        given.tokens.merchant(merchant.raw),
    )
    dry = qualify["qualifyPurchase"]["qualification"]
    posted = await purchase_with_offers(given, merchant, member, 5_000, "p1")
    purchase = posted["postPurchase"]["purchase"]

    assert (dry["basePoints"], dry["totalPoints"]) == (50, 138)
    assert purchase["pointsEarned"] == dry["totalPoints"]
    assert purchase["basePoints"] == dry["basePoints"]
    [award] = purchase["appliedOffers"]
    assert (award["offerId"], award["offerVersion"], award["points"]) == (offer["id"], 1, 88)
    assert award["funding"] == [
        {"kind": "PARTNER", "funderId": bank.gid, "points": 62},
        {"kind": "PROGRAMME", "funderId": None, "points": 26},
    ]
    assert (await given.balance(member))["available"] == 138

    # The partner sees the offer it funds, with its usage; the member no longer sees it: one use is
    # left, but the 62 points left of its budget cannot pay another 88.
    listed = await given.gql.data(OFFERS, token=given.tokens.partner(bank.raw))
    [edge] = listed["offers"]["edges"]
    assert edge["node"]["usage"] == {"pointsUsed": 88, "uses": 1}
    eligible = await given.gql.data(ELIGIBLE, token=given.tokens.member(member.raw))
    assert eligible["me"]["eligibleOffers"]["edges"] == []

    # A second bonus would pass the budget of 150 (176): the purchase earns the base only.
    again = await given.purchase(merchant, member, 5_000, key="p2")
    assert again["purchase"]["pointsEarned"] == 50
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_paused_offer_stops_applying(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="Weekend x2",
        mechanic="POINTS_MULTIPLIER",
        multiplier="2",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    offer_id = created["offer"]["id"]

    before = await given.purchase(merchant, member, 1_000, key="p1")
    paused = await given.gql.data(SET_STATUS, {"input": {"offerId": offer_id}}, given.admin)
    after = await given.purchase(merchant, member, 1_000, key="p2")

    assert before["purchase"]["pointsEarned"] == 20
    assert paused["pauseOffer"]["offer"]["status"] == "PAUSED"
    assert after["purchase"]["pointsEarned"] == 10
    listing = "query($s: OfferStatus) { offers(filter: {status: $s}) { edges { node { id } } } }"
    active = await given.gql.data(listing, {"s": "ACTIVE"}, given.admin)
    paused_list = await given.gql.data(listing, {"s": "PAUSED"}, given.admin)
    assert (active["offers"]["edges"], paused_list["offers"]["edges"]) == ([], [{"node": {"id": offer_id}}])


async def test_discounts_show_what_the_member_pays(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await create_offer(
        given,
        name="Spend 200 save 30",
        mechanic="SPEND_AND_SAVE",
        threshold={"amountMinor": 20_000, "currency": "CNY"},
        amount={"amountMinor": 3_000, "currency": "CNY"},
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )

    posted = await purchase_with_offers(given, merchant, member, 25_000, "p1")

    purchase = posted["postPurchase"]["purchase"]
    assert purchase["paid"] == {"amountMinor": 22_000}
    assert purchase["pointsEarned"] == 220
    assert [a["discount"]["amountMinor"] for a in purchase["appliedOffers"]] == [3_000]


async def test_bad_offers_are_refused_with_the_field(backend: Backend, given: Scenario) -> None:
    programme_pays = [{"kind": "PROGRAMME", "percent": 100}]
    now = datetime.now(UTC)
    cases = [
        ({"endsAt": (now - timedelta(days=2)).isoformat()}, "VALIDATION", ["endsAt"]),
        ({"points": 0}, "VALIDATION", ["points"]),
        ({"funding": [{"kind": "PROGRAMME", "percent": 90}]}, "VALIDATION", ["funding", "percent"]),
        ({"merchantIds": ["TWVyY2hhbnQ6OTk5"]}, "NOT_FOUND", ["merchantIds"]),
        ({"timeZone": "Mars/Olympus"}, "VALIDATION", ["timeZone"]),
    ]
    for change, code, field in cases:
        result = await create_offer(
            given,
            **{"name": "bad", "mechanic": "BONUS_POINTS", "points": 10, "funding": programme_pays, **change},
        )
        assert result["offer"] is None
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], change
    listed = await given.gql.data(OFFERS, token=given.admin)
    assert listed["offers"]["edges"] == []


async def test_only_admins_create_offers_and_members_list_none(backend: Backend, given: Scenario) -> None:
    member = await given.member()
    body = await given.gql.post(
        CREATE_OFFER,
        {"input": {**window(), "name": "x", "mechanic": "BONUS_POINTS", "points": 1, "funding": []}},
        given.tokens.member(member.raw),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = await given.gql.data(OFFERS, token=given.tokens.member(member.raw))
    assert listed["offers"]["edges"] == []


UPDATE_OFFER = """mutation($input: UpdateOfferInput!) {
  updateOffer(input: $input) { offer { id version points budgetPoints } errors { code field } }
}"""


async def test_an_update_is_a_new_version_and_earlier_purchases_keep_theirs(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    definition = {
        **window(),
        "name": "Bonus",
        "mechanic": "BONUS_POINTS",
        "points": 10,
        "funding": [{"kind": "PROGRAMME", "percent": 100}],
        "limits": {"budgetPoints": 1_000},
    }
    created = await create_offer(given, **{k: v for k, v in definition.items() if k not in window()})
    offer_id = created["offer"]["id"]
    first = await given.purchase(merchant, member, 1_000, key="p1")

    updated = await given.gql.data(
        UPDATE_OFFER, {"input": {"offerId": offer_id, "offer": {**definition, "points": 25}}}, given.admin
    )
    too_small = await given.gql.data(
        UPDATE_OFFER,
        {"input": {"offerId": offer_id, "offer": {**definition, "limits": {"budgetPoints": 5}}}},
        given.admin,
    )
    second = await given.purchase(merchant, member, 1_000, key="p2")

    assert updated["updateOffer"]["offer"] == {
        "id": offer_id,
        "version": 2,
        "points": 25,
        "budgetPoints": 1_000,
    }
    assert too_small["updateOffer"]["errors"] == [{"code": "VALIDATION", "field": ["limits", "budgetPoints"]}]
    assert (first["purchase"]["pointsEarned"], second["purchase"]["pointsEarned"]) == (20, 35)
    async with backend.database.read_engine.connect() as conn:
        versions = (
            await conn.exec_driver_sql("SELECT offer_version, points FROM purchase_awards ORDER BY id")
        ).all()
    assert [tuple(v) for v in versions] == [(1, 10), (2, 25)]
    assert await check_ledger(backend.database.read_engine) == []


GENERATE = """mutation($input: GenerateCouponsInput!) {
  generateCoupons(input: $input) { coupons { code maxUses uses } errors { code field } }
}"""
CLAIM = """mutation($input: ClaimCouponInput!) {
  claimCoupon(input: $input) { coupon { code } errors { code field } }
}"""
WALLET = "query { me { coupons { code uses } } }"


async def test_coupons_are_generated_claimed_and_used_once(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    alice = await given.member("alice")
    bob = await given.member("bob")
    created = await create_offer(
        given,
        name="¥20 off with a coupon",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 2_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
    )
    offer_id = created["offer"]["id"]
    generated = await given.gql.data(GENERATE, {"input": {"offerId": offer_id, "count": 3}}, given.admin)
    codes = [c["code"] for c in generated["generateCoupons"]["coupons"]]
    assert len(set(codes)) == 3
    assert all(len(code) == 12 for code in codes)

    # Without its coupon the offer does not apply; alice claims one, bob cannot use it.
    plain = await given.purchase(merchant, alice, 10_000, key="plain")
    claimed = await given.gql.data(CLAIM, {"input": {"code": codes[0]}}, given.tokens.member(alice.raw))
    bobs_try = await given.purchase(merchant, bob, 10_000, key="bob", couponCode=codes[0])
    used = await purchase_with_offers(
        given, merchant, alice, 10_000, "with-coupon", couponCode=codes[0].lower()
    )
    again = await given.purchase(merchant, alice, 10_000, key="again", couponCode=codes[0])
    wallet = await given.gql.data(WALLET, token=given.tokens.member(alice.raw))

    assert plain["purchase"]["pointsEarned"] == 100
    assert claimed["claimCoupon"]["errors"] == []
    assert [(e["code"], e["field"]) for e in bobs_try["errors"]] == [("VALIDATION", ["couponCode"])]
    purchase = used["postPurchase"]["purchase"]
    assert purchase["paid"] == {"amountMinor": 8_000}
    assert purchase["pointsEarned"] == 80
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("LIMIT_REACHED", ["couponCode"])]
    assert wallet["me"]["coupons"] == [{"code": codes[0], "uses": 1}]
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_coupon_that_does_not_apply_refuses_the_purchase_with_the_reason(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="Big basket coupon",
        mechanic="BONUS_POINTS",
        points=100,
        minimumSpend={"amountMinor": 50_000, "currency": "CNY"},
        requiresCoupon=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    generated = await given.gql.data(
        GENERATE,
        {"input": {"offerId": created["offer"]["id"], "sharedCode": "bigbasket", "maxUses": 100}},
        given.admin,
    )
    assert generated["generateCoupons"]["coupons"] == [{"code": "BIGBASKET", "maxUses": 100, "uses": 0}]

    small = await given.purchase(merchant, member, 10_000, key="small", couponCode="BIGBASKET")
    big = await given.purchase(merchant, member, 60_000, key="big", couponCode="BIGBASKET")

    [error] = small["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["couponCode"])
    assert big["purchase"]["pointsEarned"] == 600 + 100
    assert (await given.balance(member))["available"] == 700


REPORT = """query($id: ID!) {
  campaignReport(offerId: $id) {
    offer { name } purchases members pointsAwarded
    money { currency spendMinor discountMinor cashbackMinor }
    funding { kind points moneyMinor }
    usage { uses }
  }
}"""


async def test_a_campaign_report_for_the_admin_and_the_funding_partner_only(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    merchant = await given.merchant()
    alice, bob = await given.member("alice"), await given.member("bob")
    created = await create_offer(
        given,
        name="Bank of Tea: 10% off",
        mechanic="PERCENT_DISCOUNT",
        percent="10",
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 80},
            {"kind": "MERCHANT", "funderId": merchant.gid, "percent": 20},
        ],
    )
    offer_id = created["offer"]["id"]
    for member, amount, key in ((alice, 10_000, "a1"), (alice, 5_000, "a2"), (bob, 20_000, "b1")):
        await given.purchase(merchant, member, amount, key=key)

    report = (await given.gql.data(REPORT, {"id": offer_id}, given.tokens.partner(bank.raw)))[
        "campaignReport"
    ]
    for_member = await given.gql.data(REPORT, {"id": offer_id}, given.tokens.member(alice.raw))

    assert (report["purchases"], report["members"], report["pointsAwarded"]) == (3, 2, 0)
    assert report["money"] == [
        {"currency": "CNY", "spendMinor": 35_000, "discountMinor": 3_500, "cashbackMinor": 0}
    ]
    assert report["funding"] == [
        {"kind": "MERCHANT", "points": 0, "moneyMinor": 700},
        {"kind": "PARTNER", "points": 0, "moneyMinor": 2_800},
    ]
    assert report["usage"] == {"uses": 3}
    assert for_member["campaignReport"] is None


async def test_a_first_purchase_bonus_is_given_on_the_first_purchase_only(
    backend: Backend, given: Scenario
) -> None:
    tea = await given.merchant("Tea House")
    noodles = await given.merchant("Noodle Bar")
    member = await given.member()
    await create_offer(
        given,
        name="Welcome: 200 points on your first purchase",
        mechanic="BONUS_POINTS",
        points=200,
        firstPurchase="EVER",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    await create_offer(
        given,
        name="First time at the Noodle Bar: 50 points",
        mechanic="BONUS_POINTS",
        points=50,
        firstPurchase="AT_MERCHANT",
        merchantIds=[noodles.gid],
        funding=[{"kind": "MERCHANT", "funderId": noodles.gid, "percent": 100}],
    )

    earned = [
        (await given.purchase(shop, member, 1_000, key=key))["purchase"]["pointsEarned"]
        for shop, key in ((tea, "t1"), (tea, "t2"), (noodles, "n1"), (noodles, "n2"))
    ]

    assert earned == [10 + 200, 10, 10 + 50, 10]
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_sign_up_bonus_is_given_at_enrolment_within_its_budget(
    backend: Backend, given: Scenario
) -> None:
    created = await create_offer(
        given,
        name="Welcome: 100 points",
        mechanic="BONUS_POINTS",
        points=100,
        trigger="SIGN_UP",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
        limits={"budgetPoints": 250},
    )
    assert created["errors"] == []

    members = [await given.member(f"new-{i}") for i in range(3)]

    assert [(await given.balance(m))["available"] for m in members] == [100, 100, 0]
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_referral_bonus_rewards_referee_and_referrer_on_the_first_purchase(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    referrer = await given.member("old-friend")
    code = await given.referral_code(referrer)
    referee = await given.member("new-friend", referralCode=code)
    loner = await given.member("loner")
    await create_offer(
        given,
        name="Bring a friend: 50 each",
        mechanic="BONUS_POINTS",
        points=50,
        referrerPoints=50,
        referredOnly=True,
        firstPurchase="EVER",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
        limits={"budgetPoints": 1_000},
    )

    first = await given.purchase(merchant, referee, 1_000, key="r1")
    second = await given.purchase(merchant, referee, 1_000, key="r2")
    lonely = await given.purchase(merchant, loner, 1_000, key="l1")

    assert (first["purchase"]["pointsEarned"], second["purchase"]["pointsEarned"]) == (60, 10)
    assert lonely["purchase"]["pointsEarned"] == 10
    assert (await given.balance(referee))["available"] == 70
    assert (await given.balance(referrer))["available"] == 50
    async with backend.database.read_engine.connect() as conn:
        used = (await conn.exec_driver_sql("SELECT points_used, uses FROM offers")).one()
    assert tuple(used) == (100, 1)
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_sign_up_offer_with_purchase_conditions_is_refused(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    result = await create_offer(
        given,
        name="Welcome at the Noodle Bar",
        mechanic="BONUS_POINTS",
        points=10,
        trigger="SIGN_UP",
        merchantIds=[merchant.gid],
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("VALIDATION", ["trigger"])]


OPEN_RED_PACKET = """mutation($input: OpenRedPacketInput!) {
  openRedPacket(input: $input) { points errors { code field } }
}"""


async def test_a_shared_red_packet_opens_once_per_member_as_often_as_its_code_allows(
    backend: Backend, given: Scenario
) -> None:
    created = await create_offer(
        given,
        name="Spring Festival red packet: 88 points",
        mechanic="BONUS_POINTS",
        points=88,
        trigger="RED_PACKET",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    await given.gql.data(
        GENERATE,
        {"input": {"offerId": created["offer"]["id"], "sharedCode": "HONGBAO", "maxUses": 2}},
        given.admin,
    )
    members = [await given.member(f"m{i}") for i in range(3)]

    async def open_(member: Ids, key: str) -> dict[str, Any]:
        data = await given.gql.data(
            OPEN_RED_PACKET,
            {"input": {"code": "hongbao", "idempotencyKey": key}},
            given.tokens.member(member.raw),
        )
        return data["openRedPacket"]

    first = await open_(members[0], "k1")
    retried = await open_(members[0], "k1")
    twice = await open_(members[0], "k2")
    second = await open_(members[1], "k1")
    third = await open_(members[2], "k1")

    assert first == retried == {"points": 88, "errors": []}
    assert twice["errors"] == [{"code": "LIMIT_REACHED", "field": ["code"]}]
    assert second == {"points": 88, "errors": []}
    assert third["errors"] == [{"code": "LIMIT_REACHED", "field": ["code"]}]
    assert [(await given.balance(m))["available"] for m in members] == [88, 88, 0]
    assert await check_ledger(backend.database.read_engine) == []


async def test_query_qualify_purchase_answers_as_the_deprecated_mutation(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="Double points",
        mechanic="POINTS_MULTIPLIER",
        multiplier="2",
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    assert created["errors"] == []
    await create_offer(
        given,
        name="Big baskets only",
        mechanic="BONUS_POINTS",
        points=500,
        minimumSpend={"amountMinor": 1_000_000, "currency": "CNY"},
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    query = QUALIFY.replace("mutation(", "query(", 1)
    basket = {"amount": {"amountMinor": 7_300, "currency": "CNY"}}
    callers = [
        (
            {"memberRef": await given.member_ref(merchant, member), **basket},
            given.tokens.merchant(merchant.raw),
        ),
        ({"merchantId": merchant.gid, **basket}, given.tokens.member(member.raw)),
        (basket, given.tokens.member(member.raw)),  # a member must name the merchant
    ]
    answers = []
    for variables, token in callers:
        from_query = await given.gql.data(query, {"input": variables}, token)
        from_mutation = await given.gql.data(QUALIFY, {"input": variables}, token)
        assert from_query == from_mutation
        answers.append(from_query["qualifyPurchase"])

    by_merchant, by_member, unnamed = answers
    assert by_merchant == by_member
    dry = by_merchant["qualification"]
    assert (dry["basePoints"], dry["totalPoints"], dry["paid"]) == (73, 146, {"amountMinor": 7_300})
    assert [s["reason"] for s in dry["skipped"]] == ["MINIMUM_SPEND"]
    assert unnamed == {"qualification": None, "errors": [{"code": "VALIDATION", "field": ["merchantId"]}]}


async def test_query_qualify_purchase_does_not_wait_for_the_writer(backend: Backend, given: Scenario) -> None:
    if backend.is_postgres:
        pytest.skip("SQLite only: there its writes queue for one connection, which this test holds")
    merchant = await given.merchant()
    member = await given.member()
    ref = await given.member_ref(merchant, member)
    variables = {"input": {"memberRef": ref, "amount": {"amountMinor": 7_300, "currency": "CNY"}}}
    # The pool's only write connection, inside BEGIN IMMEDIATE: a dry run through it would wait for
    # the pool (and fail after its timeout); through the read pool it answers at once.
    async with backend.database.write_engine.connect() as writer:
        await writer.begin()
        data = await given.gql.data(
            QUALIFY.replace("mutation(", "query(", 1), variables, given.tokens.merchant(merchant.raw)
        )
        await writer.rollback()
    assert data["qualifyPurchase"] == {
        "qualification": {
            "basePoints": 73,
            "totalPoints": 73,
            "paid": {"amountMinor": 7_300},
            "appliedOffers": [],
            "skipped": [],
        },
        "errors": [],
    }
