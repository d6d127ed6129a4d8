"""Risk control over HTTP, on both databases: the default rules hold the cases seen, a held earning
waits in the review balance, admins approve or reject it (once, audited, idempotent), refused
movements change nothing, and refunds stay exact around a review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from persistence.tables import audit_log
from tests.builders import Ids, Scenario, raw_id
from tests.conftest import Backend
from tests.integration.test_settlement_import import line, run
from tests.integration.test_transfers import transfer

POST = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase { id pointsEarned pointsPending }
    errors { code field message }
    notices { code message }
  }
}"""
BALANCE = "query { me { balance { available pending underReview lifetimeEarned } } }"
RULES = "query { riskRules { id kind action limit windowMinutes currency minHistory description } }"
UPDATE_RULE = """mutation($input: UpdateRiskRuleInput!) {
  updateRiskRule(input: $input) { rule { id action limit windowMinutes } errors { code field message } }
}"""
REVIEWS = """query($status: RiskReviewStatus, $first: Int, $after: String) {
  riskReviews(first: $first, after: $after, filter: {status: $status}) {
    edges { node { id points status purchaseId memberId decidedBy
                   outcomes { kind action figure limit reason } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
APPROVE = """mutation($input: ApproveRiskReviewInput!) {
  approveRiskReview(input: $input) { review { id status points decidedBy } errors { code field message } }
}"""
REJECT = """mutation($input: RejectRiskReviewInput!) {
  rejectRiskReview(input: $input) { review { id status points } errors { code field message } }
}"""
REFUND = """mutation($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) { refund { pointsReversed debtCreated } errors { code field message } }
}"""
REDEEM = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) { redemption { id } errors { code field message } }
}"""


async def post(
    given: Scenario, merchant: Ids, member: Ids, amount: int, key: str, currency: str = "CNY"
) -> dict[str, Any]:
    variables = {
        "input": {
            "memberRef": await given.member_ref(merchant, member),
            "amount": {"amountMinor": amount, "currency": currency},
            "idempotencyKey": key,
        }
    }
    data = await given.gql.data(POST, variables, given.tokens.merchant(merchant.raw))
    return data["postPurchase"]  # type: ignore[no-any-return]


async def balance(given: Scenario, member: Ids) -> dict[str, int]:
    data = await given.gql.data(BALANCE, token=given.tokens.member(member.raw))
    return data["me"]["balance"]  # type: ignore[no-any-return]


async def rules(given: Scenario) -> list[dict[str, Any]]:
    return (await given.gql.data(RULES, token=given.admin))["riskRules"]  # type: ignore[no-any-return]


async def rule_id(given: Scenario, kind: str, currency: str | None = None) -> str:
    [found] = [r["id"] for r in await rules(given) if r["kind"] == kind and r["currency"] == currency]
    return str(found)


async def update_rule(given: Scenario, rule: str, **settings: Any) -> dict[str, Any]:
    data = await given.gql.data(UPDATE_RULE, {"input": {"ruleId": rule, **settings}}, given.admin)
    return data["updateRiskRule"]  # type: ignore[no-any-return]


async def open_reviews(given: Scenario) -> list[dict[str, Any]]:
    data = await given.gql.data(REVIEWS, {"status": "OPEN"}, given.admin)
    return [edge["node"] for edge in data["riskReviews"]["edges"]]


async def decide(given: Scenario, mutation: str, review: str, key: str) -> dict[str, Any]:
    data = await given.gql.data(mutation, {"input": {"reviewId": review, "idempotencyKey": key}}, given.admin)
    return data["approveRiskReview" if mutation is APPROVE else "rejectRiskReview"]  # type: ignore[no-any-return]


async def refund(
    given: Scenario, merchant: Ids, purchase: str, key: str, amount: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = await given.gql.data(
        REFUND,
        {"input": {"purchaseId": purchase, "idempotencyKey": key, "amount": amount}},
        given.tokens.merchant(merchant.raw),
    )
    return data["refundPurchase"]  # type: ignore[no-any-return]


async def audit_actions(backend: Backend) -> list[tuple[str, str]]:
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.target_type).order_by(audit_log.c.id)
        )
        return [(row.action, row.target_type) for row in rows]


async def test_the_default_rules_are_listed_with_their_thresholds(given: Scenario) -> None:
    listed = {
        (r["kind"], r["currency"]): (r["action"], r["limit"], r["windowMinutes"]) for r in await rules(given)
    }

    assert listed == {
        ("PURCHASE_AMOUNT", "USD"): ("HOLD", 5_000_000, 0),
        ("PURCHASE_AMOUNT", "CNY"): ("HOLD", 30_000_000, 0),
        ("PURCHASE_AMOUNT", "HKD"): ("HOLD", 40_000_000, 0),
        ("MERCHANT_DAILY_POINTS", None): ("HOLD", 50_000_000, 0),
        ("MEMBER_VELOCITY", None): ("HOLD", 10, 10),
        ("MEMBER_DAILY_POINTS", None): ("HOLD", 500_000, 0),
        ("ABOVE_OWN_HISTORY", None): ("HOLD", 50, 0),
        ("EARN_AND_BURN", None): ("REFUSE", 1_000_000, 30),
        ("TRANSFER_FAN_IN", None): ("REFUSE", 10, 0),
    }


async def test_a_usd_21_million_purchase_is_held_for_review_and_replays_alike(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    first = await post(given, merchant, member, 2_100_000_000, "huge", "USD")
    replay = await post(given, merchant, member, 2_100_000_000, "huge", "USD")

    assert first["errors"] == []
    assert first["purchase"]["pointsEarned"] == 147_000_000  # USD 21,000,000.00 x 7
    assert first["purchase"]["pointsPending"] == 0
    [notice] = first["notices"]
    assert notice["code"] == "RISK_REVIEW"
    assert "amount 2100000000 USD minor units over 5000000" in notice["message"]
    assert "the merchant's points today would be 147000000, over 50000000" in notice["message"]
    assert replay == first
    assert await balance(given, member) == {
        "available": 0,
        "pending": 0,
        "underReview": 147_000_000,
        "lifetimeEarned": 147_000_000,
    }
    [review] = await open_reviews(given)
    assert (review["points"], review["status"], review["purchaseId"]) == (
        147_000_000,
        "OPEN",
        first["purchase"]["id"],
    )
    assert {(o["kind"], o["figure"], o["limit"]) for o in review["outcomes"]} == {
        ("PURCHASE_AMOUNT", 2_100_000_000, 5_000_000),
        ("MERCHANT_DAILY_POINTS", 147_000_000, 50_000_000),
        ("MEMBER_DAILY_POINTS", 147_000_000, 500_000),
    }


async def test_the_eleventh_purchase_in_ten_minutes_is_held_and_the_tenth_is_not(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()

    answers = [await post(given, merchant, member, 10_000, f"p{i}") for i in range(11)]

    assert [len(a["notices"]) for a in answers] == [0] * 10 + [1]
    assert "purchase 11 in 10 minutes, over 10" in answers[10]["notices"][0]["message"]
    assert await balance(given, member) == {
        "available": 1_000,
        "pending": 0,
        "underReview": 100,
        "lifetimeEarned": 1_100,
    }


async def test_approval_makes_the_points_available_once_audited_and_idempotent(
    given: Scenario, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    await post(given, merchant, member, 2_100_000_000, "huge", "USD")
    [review] = await open_reviews(given)

    approved = await decide(given, APPROVE, review["id"], "a1")
    replay = await decide(given, APPROVE, review["id"], "a1")
    again = await decide(given, APPROVE, review["id"], "a2")
    rejected = await decide(given, REJECT, review["id"], "r1")

    assert approved["errors"] == []
    assert approved["review"]["status"] == "APPROVED"
    assert approved["review"]["decidedBy"] == "admin@test"
    assert replay == approved
    assert again["errors"][0]["code"] == "ALREADY_FINALIZED"
    assert rejected["errors"][0]["code"] == "ALREADY_FINALIZED"
    assert await balance(given, member) == {
        "available": 147_000_000,
        "pending": 0,
        "underReview": 0,
        "lifetimeEarned": 147_000_000,
    }
    assert await open_reviews(given) == []
    assert [a for a in await audit_actions(backend) if a[1] == "RiskReview"] == [
        ("approveRiskReview", "RiskReview")
    ]


async def test_rejection_reverses_the_points_and_a_later_refund_takes_none_again(
    given: Scenario, backend: Backend
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    posted = await post(given, merchant, member, 2_100_000_000, "huge", "USD")
    [review] = await open_reviews(given)

    refused = await refund(given, merchant, posted["purchase"]["id"], "early")
    rejected = await decide(given, REJECT, review["id"], "r1")
    part = await refund(
        given, merchant, posted["purchase"]["id"], "part", {"amountMinor": 700_000_000, "currency": "USD"}
    )
    refunded = await refund(given, merchant, posted["purchase"]["id"], "later")

    assert refused["refund"] is None
    assert refused["errors"][0]["code"] == "RISK_REVIEW"
    assert refused["errors"][0]["field"] == ["purchaseId"]
    assert rejected["review"]["status"] == "REJECTED"
    assert part["errors"] == []  # in part too: the rejection already took every point back
    assert part["refund"] == {"pointsReversed": 0, "debtCreated": 0}
    assert refunded["errors"] == []
    assert refunded["refund"] == {"pointsReversed": 0, "debtCreated": 0}
    assert await balance(given, member) == {
        "available": 0,
        "pending": 0,
        "underReview": 0,
        "lifetimeEarned": 0,
    }
    assert ("rejectRiskReview", "RiskReview") in await audit_actions(backend)


async def test_a_refund_after_approval_takes_the_points_back_as_usual(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    for i in range(10):
        await post(given, merchant, member, 1_000, f"p{i}")  # 10 points each
    held = await post(given, merchant, member, 5_000, "held")  # the 11th: 50 points held
    [review] = await open_reviews(given)
    await decide(given, APPROVE, review["id"], "a1")

    refunded = await refund(given, merchant, held["purchase"]["id"], "back")

    assert refunded["refund"] == {"pointsReversed": 50, "debtCreated": 0}
    assert await balance(given, member) == {
        "available": 100,
        "pending": 0,
        "underReview": 0,
        "lifetimeEarned": 100,
    }


async def test_a_rule_set_to_refuse_refuses_and_changes_nothing(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    usd = await rule_id(given, "PURCHASE_AMOUNT", "USD")

    updated = await update_rule(given, usd, action="REFUSE", limit=100_000)
    refused = await post(given, merchant, member, 100_001, "over", "USD")
    at_limit = await post(given, merchant, member, 100_000, "at", "USD")

    assert updated["errors"] == []
    assert updated["rule"]["action"] == "REFUSE"
    assert refused["purchase"] is None
    assert refused["errors"][0]["code"] == "RISK_REVIEW"
    assert "amount 100001 USD minor units over 100000" in refused["errors"][0]["message"]
    assert at_limit["errors"] == []
    assert at_limit["notices"] == []
    assert await balance(given, member) == {
        "available": 7_000,
        "pending": 0,
        "underReview": 0,
        "lifetimeEarned": 7_000,
    }


async def test_rule_updates_are_validated_audited_and_for_admins_only(
    given: Scenario, backend: Backend
) -> None:
    burn = await rule_id(given, "EARN_AND_BURN")
    velocity = await rule_id(given, "MEMBER_VELOCITY")
    merchant = await given.merchant()

    hold_on_spending = await update_rule(given, burn, action="HOLD")
    no_window = await update_rule(given, velocity, windowMinutes=0)
    negative = await update_rule(given, velocity, limit=-1)
    off = await update_rule(given, velocity, action="ALLOW")
    as_merchant = await given.gql.post(RULES, token=given.tokens.merchant(merchant.raw))

    assert (hold_on_spending["errors"][0]["code"], hold_on_spending["errors"][0]["field"]) == (
        "VALIDATION",
        ["action"],
    )
    assert no_window["errors"][0]["field"] == ["windowMinutes"]
    assert negative["errors"][0]["field"] == ["limit"]
    assert off["rule"]["action"] == "ALLOW"
    assert as_merchant["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [a for a in await audit_actions(backend) if a[1] == "RiskRule"] == [("updateRiskRule", "RiskRule")]


async def test_redeeming_soon_after_a_large_earning_is_refused(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.member()
    reward = await given.reward("Coffee", cost_points=100)
    await update_rule(given, await rule_id(given, "EARN_AND_BURN"), limit=1_000)
    await post(given, merchant, member, 100_000, "small")  # 1,000 points: at the limit
    allowed = await given.gql.data(
        REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": "r1"}}, given.tokens.member(member.raw)
    )
    await post(given, merchant, member, 100_100, "big")  # 1,001 points

    refused = await given.gql.data(
        REDEEM, {"input": {"rewardId": reward.gid, "idempotencyKey": "r2"}}, given.tokens.member(member.raw)
    )

    assert allowed["redeemReward"]["errors"] == []
    assert refused["redeemReward"]["redemption"] is None
    assert refused["redeemReward"]["errors"][0]["code"] == "RISK_REVIEW"
    assert (
        "an earning of 1001 points in the last 30 minutes" in refused["redeemReward"]["errors"][0]["message"]
    )
    assert (await balance(given, member))["available"] == 1_901


async def test_points_from_too_many_members_in_a_day_are_refused(given: Scenario) -> None:
    merchant = await given.merchant()
    receiver = await given.member("receiver")
    senders = [await given.member(f"sender-{i}") for i in range(3)]
    for i, sender in enumerate(senders):
        await post(given, merchant, sender, 10_000, f"s{i}")
    await update_rule(given, await rule_id(given, "TRANSFER_FAN_IN"), limit=2)

    answers = [
        await transfer(given, sender, f"t{i}", points=10, toExternalRef="receiver")
        for i, sender in enumerate(senders)
    ]
    again = await transfer(given, senders[0], "t-again", points=10, toExternalRef="receiver")

    assert [a["errors"] for a in answers[:2]] == [[], []]
    assert answers[2]["errors"][0]["code"] == "RISK_REVIEW"
    assert again["errors"] == []  # a member who already gave today is not another sender
    assert (await balance(given, receiver))["available"] == 30


async def test_a_settlement_file_goes_through_the_same_rules_line_by_line(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    alice = await given.member_ref(merchant, await given.member("alice"))
    bob = await given.member_ref(merchant, await given.member("bob"))
    await given.risk_rule("MEMBER_VELOCITY", limit=2)
    usd = await rule_id(given, "PURCHASE_AMOUNT", "USD")
    await update_rule(given, usd, action="REFUSE")
    lines = [
        line(2, "S-1", alice, 10_000),
        line(3, "S-2", alice, 10_000),
        line(4, "S-3", alice, 10_000),  # the third in the window: held
        line(5, "S-4", bob, 5_000_001, "USD"),  # refused, and claims nothing
        line(6, "S-5", bob, 10_000),
    ]

    outcome = await run(backend, merchant, lines)

    assert (outcome.posted, outcome.points) == (4, 400)
    [bad] = outcome.rejected
    assert bad.line_no == 5
    assert "refused by risk control: amount 5000001 USD minor units over 5000000" in bad.message
    [review] = await open_reviews(given)
    assert review["points"] == 100
    alice = (await given.gql.data(REVIEWS, {"status": "OPEN"}, given.admin))["riskReviews"]["edges"][0][
        "node"
    ]
    assert alice["memberId"] == review["memberId"]
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT count, points FROM risk_counters WHERE scope = 'MERCHANT_DAY'")
        )
        assert [tuple(r) for r in rows] == [(4, 400)]
        balances = await conn.execute(
            text("SELECT available, under_review FROM member_balances ORDER BY member_id")
        )
        assert [tuple(r) for r in balances] == [(200, 100), (100, 0)]


RISK_AUDIT = """query($filter: AuditLogFilter) {
  auditLog(filter: $filter) { edges { node { actor action memberId after } } }
}"""


async def test_every_risk_decision_is_in_the_audit_log_with_its_rules(given: Scenario) -> None:
    merchant, cafe = await given.merchant(), await given.merchant("Cafe")  # the whale fills its day
    whale, spender = await given.member(), await given.member()
    reward = await given.reward("Coffee", cost_points=100)
    await update_rule(given, await rule_id(given, "EARN_AND_BURN"), limit=1_000)
    redeem = {"input": {"rewardId": reward.gid, "idempotencyKey": "r"}}

    held = await post(given, merchant, whale, 2_100_000_000, "huge", "USD")
    await post(given, cafe, spender, 100_100, "big")  # 1,001 points, available at once
    refused = await given.gql.data(REDEEM, redeem, given.tokens.member(spender.raw))
    # The same request again: replayed, neither decided nor audited twice.
    replayed = await given.gql.data(REDEEM, redeem, given.tokens.member(spender.raw))

    async def audited(action: str) -> list[dict[str, Any]]:
        data = await given.gql.data(RISK_AUDIT, {"filter": {"action": action}}, given.admin)
        return [edge["node"] for edge in data["auditLog"]["edges"]]

    [hold] = await audited("security.risk_hold")
    [refusal] = await audited("security.risk_refused")
    [review] = await open_reviews(given)
    assert (hold["actor"], hold["memberId"]) == (f"pos-{merchant.raw}", whale.gid)
    assert hold["after"]["points"] == 147_000_000
    assert hold["after"]["reviewId"] == raw_id(review["id"])
    assert "amount 2100000000 USD minor units over 5000000" in hold["after"]["rules"]
    assert held["purchase"]["id"] == review["purchaseId"]
    [error] = refused["redeemReward"]["errors"]
    assert error["code"] == "RISK_REVIEW"
    assert replayed == refused
    assert (refusal["actor"], refusal["memberId"]) == (f"member-{spender.raw}", spender.gid)
    assert refusal["after"] == {"reason": error["message"]}
