"""refundPurchase on both databases: points taken back in proportion (pending first, then the purchase's
own lots, then the member's other points, the rest owed), back to their funders, offers' budget and
uses given back; refusals are typed and change nothing; the ledger verifies after each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.clock import FixedClock
from domain.services.maturation import run_maturation
from persistence.queries.ledger_check import check_ledger, verify_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario, global_id
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer, partner
from tests.pos_steps import Pos

REFUND = """mutation($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) {
    refund {
      id amount { amountMinor currency } pointsReversed debtCreated pointsReturned reference
      purchase { refundedAmount { amountMinor } pointsRefunded pointsPending }
    }
    errors { code field message }
  }
}"""
BALANCE = "query { me { balance { available pending lifetimeEarned debt } } }"
PURCHASE = """query($id: ID!) {
  node(id: $id) {
    ... on Purchase {
      pointsEarned pointsPending pointsRefunded refundedAmount { amountMinor currency }
      refunds { pointsReversed amount { amountMinor } }
    }
  }
}"""
LEDGER = "query { me { ledger(first: 1) { edges { node { kind account points description originId } } } } }"


async def refund(
    given: Scenario, merchant: Ids, purchase: str, key: str, amount: int | None = None, **fields: Any
) -> dict[str, Any]:
    money = {} if amount is None else {"amount": {"amountMinor": amount, "currency": "CNY"}}
    data = await given.gql.data(
        REFUND,
        {"input": {"purchaseId": purchase, "idempotencyKey": key, **money, **fields}},
        given.tokens.merchant(merchant.raw),
    )
    return data["refundPurchase"]  # type: ignore[no-any-return]


async def bought(given: Scenario, merchant: Ids, member: Ids, amount: int, key: str, **fields: Any) -> str:
    posted = await given.purchase(merchant, member, amount, key=key, **fields)
    assert posted["errors"] == [], posted
    return str(posted["purchase"]["id"])


async def balance(given: Scenario, member: Ids) -> tuple[int, int, int, int]:
    data = await given.gql.data(BALANCE, token=given.tokens.member(member.raw))
    b = data["me"]["balance"]
    return b["available"], b["pending"], b["lifetimeEarned"], b["debt"]


async def scalar(backend: Backend, sql: str) -> Any:
    async with backend.database.read_engine.connect() as conn:
        return (await conn.exec_driver_sql(sql)).scalar()


async def rows(backend: Backend, sql: str) -> list[tuple[Any, ...]]:
    async with backend.database.read_engine.connect() as conn:
        return [tuple(row) for row in (await conn.exec_driver_sql(sql)).all()]


async def test_a_full_refund_of_an_unspent_purchase_takes_every_point_back_to_its_funders(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    merchant = await given.merchant("Noodle Bar")
    member = await given.member()
    await create_offer(
        given,
        name="Bank of Tea: 88 bonus points",
        mechanic="BONUS_POINTS",
        points=88,
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 70},
            {"kind": "PROGRAMME", "percent": 30},
        ],
    )
    purchase = await bought(given, merchant, member, 12_000, "p1")  # 120 base + 88 (62 bank, 26 us)
    earned = await balance(given, member)

    refunded = await refund(given, merchant, purchase, "r1", reference="RMA-7")

    assert earned == (208, 0, 208, 0)
    assert refunded["errors"] == []
    assert refunded["refund"] == {
        "id": refunded["refund"]["id"],
        "amount": {"amountMinor": 12_000, "currency": "CNY"},
        "pointsReversed": 208,
        "debtCreated": 0,
        "pointsReturned": 0,
        "reference": "RMA-7",
        "purchase": {"refundedAmount": {"amountMinor": 12_000}, "pointsRefunded": 208, "pointsPending": 0},
    }
    assert await balance(given, member) == (0, 0, 0, 0)
    report = await verify_ledger(backend.database.read_engine)
    assert report.system_totals["ISSUANCE"] == 0
    assert report.system_totals["PARTNER_FUNDING"] == 0
    [entry] = (await given.gql.data(LEDGER, token=given.tokens.member(member.raw)))["me"]["ledger"]["edges"]
    assert entry["node"] == {
        "kind": "REFUND",
        "account": "MEMBER_AVAILABLE",
        "points": -208,
        "description": "Refunded at Noodle Bar: 120.00 CNY",
        "originId": refunded["refund"]["id"],
    }
    assert report.violations == ()


async def test_partial_refunds_take_points_and_funding_back_in_proportion(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    merchant = await given.merchant()
    member = await given.member()
    await create_offer(
        given,
        name="Bank of Tea: 88 bonus points",
        mechanic="BONUS_POINTS",
        points=88,
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 70},
            {"kind": "PROGRAMME", "percent": 30},
        ],
    )
    purchase = await bought(given, merchant, member, 10_000, "p1")  # 188: issuance 126, bank 62

    first = await refund(given, merchant, purchase, "r1", 3_000)
    after_first = await verify_ledger(backend.database.read_engine)
    rest = await refund(given, merchant, purchase, "r2")  # the 70.00 left
    after_all = await verify_ledger(backend.database.read_engine)

    # 30%: 188 * 3000 // 10000 = 56 points, 38 to issuance and 18 to the bank (D'Hondt);
    # the rest: 132, exactly what each funder has not had back (88 and 44).
    assert (first["refund"]["pointsReversed"], rest["refund"]["pointsReversed"]) == (56, 132)
    assert rest["refund"]["amount"] == {"amountMinor": 7_000, "currency": "CNY"}
    assert (after_first.system_totals["ISSUANCE"], after_first.system_totals["PARTNER_FUNDING"]) == (-88, -44)
    assert (after_all.system_totals["ISSUANCE"], after_all.system_totals["PARTNER_FUNDING"]) == (0, 0)
    assert await balance(given, member) == (0, 0, 0, 0)
    # The offer's budget came back with the money: 88 * 3000 // 10000 = 26, then the rest.
    assert after_first.violations == after_all.violations == ()
    assert await rows(backend, "SELECT points_used, uses FROM offers") == [(0, 0)]


async def test_three_refunds_of_40_percent_the_third_is_refused_and_changes_nothing(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    purchase = await bought(given, merchant, member, 12_345, "p1")  # 123 points

    first = await refund(given, merchant, purchase, "r1", 4_938)
    second = await refund(given, merchant, purchase, "r2", 4_938)
    before = await balance(given, member)
    third = await refund(given, merchant, purchase, "r3", 4_938)
    unchanged = await balance(given, member)
    shown = (await given.gql.data(PURCHASE, {"id": purchase}, given.tokens.merchant(merchant.raw)))["node"]
    rest = await refund(given, merchant, purchase, "r4")

    # 123 * 4938 // 12345 = 49; 123 * 9876 // 12345 = 98, so 49 again; the rest 25: 123 in all.
    assert (first["refund"]["pointsReversed"], second["refund"]["pointsReversed"]) == (49, 49)
    assert before == (25, 0, 25, 0)
    assert third == {
        "refund": None,
        "errors": [
            {
                "code": "VALIDATION",
                "field": ["amount"],
                "message": "only 24.69 CNY of the purchase is left to refund",
            }
        ],
    }
    assert unchanged == before
    assert shown == {
        "pointsEarned": 123,
        "pointsPending": 0,
        "pointsRefunded": 98,
        "refundedAmount": {"amountMinor": 9_876, "currency": "CNY"},
        "refunds": [
            {"pointsReversed": 49, "amount": {"amountMinor": 4_938}},
            {"pointsReversed": 49, "amount": {"amountMinor": 4_938}},
        ],
    }
    assert rest["refund"]["pointsReversed"] == 25
    assert rest["refund"]["amount"]["amountMinor"] == 2_469
    assert await balance(given, member) == (0, 0, 0, 0)
    nothing_left = await refund(given, merchant, purchase, "r5")
    assert [(e["code"], e["field"]) for e in nothing_left["errors"]] == [("VALIDATION", ["amount"])]
    assert await scalar(backend, "SELECT count(*) FROM refunds") == 3
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_refund_takes_the_purchases_own_lots_before_the_members_others(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await bought(given, merchant, member, 10_000, "a")  # lot of 100, the older: spent first otherwise
    second = await bought(given, merchant, member, 5_000, "b")  # lot of 50

    half = await refund(given, merchant, second, "r1", 2_500)

    assert half["refund"]["pointsReversed"] == 25
    assert await rows(backend, "SELECT points, remaining FROM points_lots ORDER BY id") == [
        (100, 100),
        (50, 25),
    ]
    assert await balance(given, member) == (125, 0, 125, 0)
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_refund_after_the_points_were_spent_makes_a_debt_the_next_earnings_repay(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant("Noodle Bar")
    member = await given.member()
    first = await bought(given, merchant, member, 10_000, "a")  # 100 points, the first lot
    await bought(given, merchant, member, 5_000, "b")  # 50 more, a second lot
    reward = await given.reward("Cinema", cost_points=80)
    assert (await given.redeem(member, reward, key="spend"))["errors"] == []  # 80 of the first lot

    refunded = await refund(given, merchant, first, "r1")
    owed = await balance(given, member)
    entry = (await given.gql.data(LEDGER, token=given.tokens.member(member.raw)))["me"]["ledger"]["edges"][0]
    await bought(given, merchant, member, 2_000, "c")  # 20: all repay the debt
    repaying = await balance(given, member)
    await bought(given, merchant, member, 4_000, "d")  # 40: 10 repay, 30 available
    repaid = await balance(given, member)

    # 100 back: the 20 left of its own lot, the 50 of the other lot, 30 owed.
    assert (refunded["refund"]["pointsReversed"], refunded["refund"]["debtCreated"]) == (100, 30)
    assert owed == (0, 0, 50, 30)
    assert entry["node"]["description"] == "Refunded at Noodle Bar: 100.00 CNY (30 points owed)"
    assert repaying == (0, 0, 70, 10)
    assert repaid == (30, 0, 110, 0)
    lots = await rows(backend, "SELECT points, remaining FROM points_lots ORDER BY id")
    assert lots == [(100, 0), (50, 0), (30, 30)]  # the 20 made no lot: it all went to the debt
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_refund_inside_the_return_window_reverses_pending_points_first(
    backend: Backend, given: Scenario, return_window: None
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    purchase = await bought(given, merchant, member, 12_300, "p1")  # 123 pending
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731

    partial = await refund(given, merchant, purchase, "r1", 5_000)  # 123 * 5000 // 12300 = 50
    pending = await balance(given, member)
    matured = await run_maturation(uow, FixedClock(datetime.now(UTC) + timedelta(days=15)))
    available = await balance(given, member)
    rest = await refund(given, merchant, purchase, "r2")

    assert partial["refund"]["pointsReversed"] == 50
    assert partial["refund"]["purchase"]["pointsPending"] == 73
    assert pending == (0, 73, 73, 0)
    assert (matured.purchases, matured.points) == (1, 73)
    assert available == (73, 0, 73, 0)
    assert (rest["refund"]["pointsReversed"], rest["refund"]["debtCreated"]) == (73, 0)
    assert await balance(given, member) == (0, 0, 0, 0)
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_full_refund_inside_the_window_leaves_nothing_to_mature(
    backend: Backend, given: Scenario, return_window: None
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    purchase = await bought(given, merchant, member, 12_300, "p1")

    await refund(given, merchant, purchase, "r1")
    matured = await run_maturation(
        lambda: SqlAlchemyUnitOfWork(backend.database.write_engine),
        FixedClock(datetime.now(UTC) + timedelta(days=15)),
    )

    assert matured.purchases == 0
    assert await balance(given, member) == (0, 0, 0, 0)
    assert await check_ledger(backend.database.read_engine) == []


async def test_another_merchants_purchase_is_not_found_and_bad_input_is_typed(
    backend: Backend, given: Scenario
) -> None:
    mine = await given.merchant("Tea House")
    theirs = await given.merchant("Noodle Bar")
    member = await given.member()
    purchase = await bought(given, theirs, member, 10_000, "p1")

    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"purchaseId": purchase}, ("NOT_FOUND", ["purchaseId"])),
        ({"purchaseId": global_id("Purchase", 999)}, ("NOT_FOUND", ["purchaseId"])),
        ({"purchaseId": member.gid}, ("VALIDATION", ["purchaseId"])),
    ]
    for n, (fields, expected) in enumerate(cases):
        data = await given.gql.data(
            REFUND, {"input": {"idempotencyKey": f"k{n}", **fields}}, given.tokens.merchant(mine.raw)
        )
        assert [(e["code"], e["field"]) for e in data["refundPurchase"]["errors"]] == [expected], fields

    bad_amounts = [
        ({"amountMinor": 0, "currency": "CNY"}, ["amount", "amountMinor"]),
        ({"amountMinor": 100, "currency": "HKD"}, ["amount", "currency"]),
        ({"amountMinor": 10_001, "currency": "CNY"}, ["amount"]),
    ]
    for n, (amount, field) in enumerate(bad_amounts):
        data = await given.gql.data(
            REFUND,
            {"input": {"purchaseId": purchase, "idempotencyKey": f"b{n}", "amount": amount}},
            given.tokens.merchant(theirs.raw),
        )
        assert [(e["code"], e["field"]) for e in data["refundPurchase"]["errors"]] == [("VALIDATION", field)]
    as_member = await given.gql.post(
        REFUND, {"input": {"purchaseId": purchase, "idempotencyKey": "m"}}, given.tokens.member(member.raw)
    )

    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await balance(given, member) == (100, 0, 100, 0)
    assert await scalar(backend, "SELECT count(*) FROM refunds") == 0
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_retry_returns_the_same_refund_and_moves_nothing(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    purchase = await bought(given, merchant, member, 10_000, "p1")

    first = await refund(given, merchant, purchase, "r1", 2_000)
    retried = await refund(given, merchant, purchase, "r1", 2_000)
    other_input = await refund(given, merchant, purchase, "r1", 3_000)
    whole_rest = await refund(given, merchant, purchase, "r1")

    assert first["errors"] == []
    assert first["refund"]["pointsReversed"] == 20
    assert retried["refund"]["id"] == first["refund"]["id"]
    assert retried["refund"]["pointsReversed"] == 20
    assert [e["code"] for e in other_input["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert [e["code"] for e in whole_rest["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await balance(given, member) == (80, 0, 80, 0)
    assert await scalar(backend, "SELECT count(*) FROM refunds") == 1
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_refund_gives_the_offer_its_budget_in_proportion_and_its_uses_when_complete(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    created = await create_offer(
        given,
        name="Spring coupon: 30 bonus points, once each",
        mechanic="BONUS_POINTS",
        points=30,
        requiresCoupon=True,
        funding=[{"kind": "MERCHANT", "funderId": merchant.gid, "percent": 100}],
        limits={"budgetPoints": 1_000, "perMember": 1, "perMemberPeriod": "MONTH"},
        timeZone="Asia/Shanghai",  # the cap's month starts at midnight there, not in UTC
    )
    assert created["errors"] == [], created
    generated = await given.gql.data(
        """mutation($input: GenerateCouponsInput!) { generateCoupons(input: $input) { errors { code } } }""",
        {"input": {"offerId": created["offer"]["id"], "sharedCode": "SPRING", "maxUses": 5}},
        given.admin,
    )
    assert generated["generateCoupons"]["errors"] == []
    purchase = await bought(given, merchant, member, 10_000, "p1", couponCode="SPRING")  # 100 + 30
    counters = "SELECT o.points_used, o.uses, c.uses FROM offers o JOIN coupons c ON c.offer_id = o.id"
    member_uses = "SELECT uses FROM offer_member_usage"
    claimed = (await rows(backend, counters), await scalar(backend, member_uses))

    half = await refund(given, merchant, purchase, "r1", 5_000)
    at_half = (await rows(backend, counters), await scalar(backend, member_uses))
    refused = await given.purchase(merchant, member, 10_000, key="p2", couponCode="SPRING")
    rest = await refund(given, merchant, purchase, "r2")
    at_full = (await rows(backend, counters), await scalar(backend, member_uses))
    again = await given.purchase(merchant, member, 10_000, key="p3", couponCode="SPRING")

    assert claimed == ([(30, 1, 1)], 1)
    assert half["refund"]["pointsReversed"] == 65  # 130 * 5000 // 10000
    assert at_half == ([(15, 1, 1)], 1)  # 30 * 5000 // 10000 back to the budget; the use stays
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", ["couponCode"])]
    assert rest["refund"]["pointsReversed"] == 65
    assert at_full == ([(0, 0, 0)], 0)  # budget, use, the member's cap and the coupon all back
    assert again["errors"] == []
    assert again["purchase"]["pointsEarned"] == 130
    awards = await rows(backend, "SELECT refunded_points, use_returned FROM purchase_awards ORDER BY id")
    assert [(points, bool(returned)) for points, returned in awards] == [(30, True), (0, False)]
    assert await scalar(backend, "SELECT count(*) FROM purchase_awards WHERE cap_period_start IS NULL") == 0
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_referrers_bonus_stays_when_the_referees_purchase_is_refunded(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    referrer = await given.member("old-friend")
    code = await given.referral_code(referrer)
    referee = await given.member("new-friend", referralCode=code)
    await create_offer(
        given,
        name="Bring a friend: 50 each",
        mechanic="BONUS_POINTS",
        points=50,
        referrerPoints=50,
        referredOnly=True,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    purchase = await bought(given, merchant, referee, 1_000, "p1")  # 10 + 50; the referrer 50

    await refund(given, merchant, purchase, "r1")

    assert await balance(given, referee) == (0, 0, 0, 0)
    assert await balance(given, referrer) == (50, 0, 50, 0)
    assert await rows(backend, "SELECT points_used, uses FROM offers") == [(50, 0)]  # the referrer's
    assert await check_ledger(backend.database.read_engine) == []


async def test_the_member_and_the_merchant_read_the_refund_others_do_not(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    other = await given.merchant("Elsewhere")
    member = await given.member()
    purchase = await bought(given, merchant, member, 10_000, "p1")
    refund_id = (await refund(given, merchant, purchase, "r1", 1_000))["refund"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on Refund { pointsReversed purchase { id } } } }"

    seen = [
        (await given.gql.data(query, {"id": refund_id}, token))["node"]
        for token in (
            given.tokens.member(member.raw),
            given.tokens.merchant(merchant.raw),
            given.admin,
            given.tokens.merchant(other.raw),
        )
    ]

    mine = {"pointsReversed": 10, "purchase": {"id": purchase}}
    assert seen == [mine, mine, mine, None]


async def test_points_past_their_date_are_expired_first_never_taken_back_as_if_available(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await bought(given, merchant, member, 10_000, "a")  # 100
    second = await bought(given, merchant, member, 5_000, "b")  # 50
    reward = await given.reward("Cinema", cost_points=120)
    assert (await given.redeem(member, reward, key="spend"))["errors"] == []  # all of a, 20 of b
    await bought(given, merchant, member, 4_000, "c")  # 40, in a lot we now make past its date
    async with backend.database.write_engine.begin() as conn:
        await conn.exec_driver_sql(
            "UPDATE points_lots SET expires_at = earned_at - interval '1 day' WHERE points = 40"
            if backend.is_postgres
            else "UPDATE points_lots SET expires_at = datetime(earned_at, '-1 day') WHERE points = 40"
        )

    refunded = await refund(given, merchant, second, "r1")

    # The 40 expire first; then the 30 left of b's own lot; 20 owed.
    assert (refunded["refund"]["pointsReversed"], refunded["refund"]["debtCreated"]) == (50, 20)
    assert await balance(given, member) == (0, 0, 140, 20)
    report = await verify_ledger(backend.database.read_engine)
    assert report.system_totals["EXPIRY"] == 40
    assert report.violations == ()


async def test_refunding_a_purchase_paid_with_points_gives_those_points_back(
    backend: Backend, given: Scenario
) -> None:
    """A member pays part of a 200.00 CNY purchase with 500 points held at the POS and captured for
    it; it earns 200. Half refunded: 250 paid points come back first, then 100 earned ones go; the
    rest: the other 250 come back and the other 100 go, and nothing is owed."""
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.funded_member(500)
    hold = await pos.hold(merchant, member, 500, key="h1")
    purchase = await bought(given, merchant, member, 20_000, key="p1")
    captured = await pos.capture(merchant, hold, key="c1", purchase_id=purchase)
    assert captured["errors"] == [], captured
    assert await balance(given, member) == (200, 0, 700, 0)

    half = await refund(given, merchant, purchase, key="r1", amount=10_000)
    after_half = await balance(given, member)
    rest = await refund(given, merchant, purchase, key="r2")
    after_all = await balance(given, member)
    ledger = await given.gql.data(
        "query { me { ledger(first: 2) { edges { node { kind points description } } } } }",
        token=given.tokens.member(member.raw),
    )

    assert (half["refund"]["pointsReturned"], half["refund"]["pointsReversed"]) == (250, 100)
    assert after_half == (350, 0, 600, 0)
    assert (rest["refund"]["pointsReturned"], rest["refund"]["pointsReversed"]) == (250, 100)
    assert after_all == (500, 0, 500, 0)  # as before the purchase
    kinds = [(e["node"]["kind"], e["node"]["points"]) for e in ledger["me"]["ledger"]["edges"]]
    assert kinds == [("REFUND", -100), ("RETURN", 250)]
    data = await given.gql.data(
        "query { me { balance { lifetimeRedeemed } } }", token=given.tokens.member(member.raw)
    )
    assert data["me"]["balance"]["lifetimeRedeemed"] == 0
    assert await check_ledger(backend.database.read_engine) == []


async def test_points_that_come_back_repay_the_debt_before_they_can_be_spent(
    backend: Backend, given: Scenario
) -> None:
    """Held or redeemed points are not taken back by a refund; when they come back (a cancelled
    reward, a voided hold, a transfer received) they repay the debt first."""
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.member("owes")
    sister = await given.funded_member(40)
    purchase = await bought(given, merchant, member, 30_000, key="p1")  # 300 points
    reward = await given.reward("Lamp", cost_points=100)
    redeemed = await given.redeem(member, reward, key="r1")
    hold = await pos.hold(merchant, member, 150, key="h1")
    assert await balance(given, member) == (50, 0, 300, 0)

    refunded = await refund(given, merchant, purchase, key="refund")
    owed = await balance(given, member)
    cancelled = await pos.cancel(
        redeemed["redemption"]["id"], key="c1", token=given.tokens.member(member.raw)
    )
    after_cancel = await balance(given, member)
    voided = await pos.void(merchant, hold, key="v1")
    after_void = await balance(given, member)
    given_by_sister = await given.gql.data(
        "mutation($i: TransferPointsInput!) { transferPoints(input: $i) { errors { code } } }",
        {"i": {"points": 40, "toExternalRef": "owes", "idempotencyKey": "t1"}},
        given.tokens.member(sister.raw),
    )

    assert refunded["refund"]["debtCreated"] == 250  # 50 were available; 250 owed
    assert owed == (0, 0, 0, 250)
    assert cancelled["errors"] == []
    assert after_cancel == (0, 0, 0, 150)  # the returned 100 went to the debt
    assert voided["errors"] == []
    assert after_void == (0, 0, 0, 0)  # 150 released: the debt is paid
    assert given_by_sister["transferPoints"]["errors"] == []
    assert await balance(given, member) == (40, 0, 0, 0)  # nothing owed: available again


async def test_a_hold_cannot_pay_for_a_purchase_already_refunded(given: Scenario) -> None:
    pos = Pos(given)
    merchant = await given.merchant()
    member = await given.funded_member(500)
    purchase = await bought(given, merchant, member, 10_000, key="p1")
    assert (await refund(given, merchant, purchase, key="r1", amount=1_000))["errors"] == []
    hold = await pos.hold(merchant, member, 50, key="h1")

    captured = await pos.capture(merchant, hold, key="c1", purchase_id=purchase)

    assert captured["errors"][0]["code"] == "VALIDATION"
    assert captured["errors"][0]["field"] == ["purchaseId"]
    assert (await given.balance(member))["held"] == 50  # the hold is still open, unchanged


CAMPAIGN = """query($id: ID!) {
  campaignReport(offerId: $id) {
    purchases members pointsAwarded
    money { currency spendMinor discountMinor cashbackMinor }
    funding { kind points moneyMinor }
    usage { pointsUsed moneyUsedMinor uses }
  }
}"""


async def test_a_campaign_report_is_net_of_refunds_and_agrees_with_the_offers_usage(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    merchant = await given.merchant()
    alice, bob, carol = await given.member("alice"), await given.member("bob"), await given.member("carol")
    created = await create_offer(
        given,
        name="Bank of Tea: 15.00 off",
        mechanic="INSTANT_DISCOUNT",
        amount={"amountMinor": 1_500, "currency": "CNY"},
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 50},
            {"kind": "MERCHANT", "funderId": merchant.gid, "percent": 50},
        ],
        limits={"budgetMoney": {"amountMinor": 3_000, "currency": "CNY"}},
    )
    assert created["errors"] == [], created
    offer_id = created["offer"]["id"]

    async def report() -> dict[str, Any]:
        data = await given.gql.data(CAMPAIGN, {"id": offer_id}, given.tokens.partner(bank.raw))
        return data["campaignReport"]  # type: ignore[no-any-return]

    # Two purchases spend the 30.00 budget; a full refund gives 15.00 back, and a third uses it.
    first = await bought(given, merchant, alice, 10_000, "p1")
    second = await bought(given, merchant, bob, 10_000, "p2")
    full = await refund(given, merchant, first, "r1")
    await bought(given, merchant, carol, 10_000, "p3")
    reused = await report()
    # A quarter of bob's purchase refunded: 3.75 of its 15.00 discount back to the budget.
    partial = await refund(given, merchant, second, "r2", 2_500)
    after_partial = await report()

    assert (full["errors"], partial["errors"]) == ([], [])
    assert reused == {
        "purchases": 2,
        "members": 2,
        "pointsAwarded": 0,
        "money": [{"currency": "CNY", "spendMinor": 20_000, "discountMinor": 3_000, "cashbackMinor": 0}],
        "funding": [
            {"kind": "MERCHANT", "points": 0, "moneyMinor": 1_500},
            {"kind": "PARTNER", "points": 0, "moneyMinor": 1_500},
        ],
        "usage": {"pointsUsed": 0, "moneyUsedMinor": 3_000, "uses": 2},
    }
    assert after_partial == {
        "purchases": 2,
        "members": 2,
        "pointsAwarded": 0,
        "money": [{"currency": "CNY", "spendMinor": 17_500, "discountMinor": 2_625, "cashbackMinor": 0}],
        # 375 given back, split 188 / 187: the tie goes to the first funder in the report's order.
        "funding": [
            {"kind": "MERCHANT", "points": 0, "moneyMinor": 1_312},
            {"kind": "PARTNER", "points": 0, "moneyMinor": 1_313},
        ],
        "usage": {"pointsUsed": 0, "moneyUsedMinor": 2_625, "uses": 2},
    }
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_points_offers_report_nets_refunded_points_from_each_funder(
    backend: Backend, given: Scenario
) -> None:
    bank = await partner(given)
    merchant = await given.merchant()
    alice, bob = await given.member("alice"), await given.member("bob")
    created = await create_offer(
        given,
        name="Bank of Tea: 90 bonus points",
        mechanic="BONUS_POINTS",
        points=90,
        funding=[
            {"kind": "PARTNER", "funderId": bank.gid, "percent": 70},
            {"kind": "PROGRAMME", "percent": 30},
        ],
    )
    offer_id = created["offer"]["id"]
    kept = await bought(given, merchant, alice, 10_000, "p1")
    gone = await bought(given, merchant, bob, 4_000, "p2")
    await refund(given, merchant, kept, "r1", 1_000)  # a tenth: 9 of its 90 points back
    await refund(given, merchant, gone, "r2")

    data = await given.gql.data(CAMPAIGN, {"id": offer_id}, given.admin)

    report = data["campaignReport"]
    assert (report["purchases"], report["members"], report["pointsAwarded"]) == (1, 1, 81)
    assert report["money"] == [
        {"currency": "CNY", "spendMinor": 9_000, "discountMinor": 0, "cashbackMinor": 0}
    ]
    # alice's award is 63 + 27; its 9 back split 7 / 2 (apportion: 6 / 2, then the tie at 9 a
    # point goes to the first); bob's is all back.
    assert report["funding"] == [
        {"kind": "PARTNER", "points": 56, "moneyMinor": 0},
        {"kind": "PROGRAMME", "points": 25, "moneyMinor": 0},
    ]
    assert report["usage"] == {"pointsUsed": 81, "moneyUsedMinor": 0, "uses": 1}
    assert await check_ledger(backend.database.read_engine) == []
