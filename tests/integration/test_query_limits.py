"""Cost and time limits: a request over its caller's budget is refused before anything runs, and a
query that runs too long is cancelled; mutations are never cut off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from graphql import parse
from sqlalchemy import event

from api.cost import UNPAGED_LIST_SIZE, WRITE_COST, operation_cost
from api.schema import build_schema
from api.settings import CostBudgets, Settings
from tests.builders import ADJUST, REDEEM, Scenario
from tests.conftest import Backend, GraphQLClient, make_client

# One member's redemptions, each with its member's redemptions again: 100 x 100 nodes per alias.
NESTED = (
    "me { redemptions(first: 100) { edges { node {"
    " member { redemptions(first: 100) { edges { node { id } } } } } } } }"
)
ATTACK = "{ " + " ".join(f"a{i}: {NESTED}" for i in range(15)) + " }"
# me 1 + connection 1 + 100 x (edge 1 + node 1 + member 1 + connection 1 + 100 x (edge 1 + node 1))
NESTED_COST = 1 + 1 + 100 * (4 + 100 * 2)

# `first` from variables: 2 + n x (4 + 2n) for n = $n.
BY_VARIABLE = """query($n: Int) { me { redemptions(first: $n) { edges { node {
  member { ledger(first: $n) { edges { node { kind } } } } } } } } }"""


BUDGETS = CostBudgets()


def cost_of(n: int) -> int:
    return 2 + n * (4 + 2 * n)


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    return dict(error)


@contextmanager
def statements(backend: Backend) -> Iterator[list[str]]:
    """Every statement either engine sends while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engines = {backend.database.read_engine.sync_engine, backend.database.write_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def test_the_nested_pages_attack_is_refused_with_its_cost_and_budget(
    given: Scenario, backend: Backend
) -> None:
    member = await given.funded_member(500)

    with statements(backend) as sent:
        body = await given.gql.post(ATTACK, token=given.tokens.member(member.raw))

    error = refusal(body)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 15 * NESTED_COST,
        "budget": BUDGETS.member,
    }
    assert "306030" in error["message"]
    assert str(BUDGETS.member) in error["message"]
    assert sent == [], "a refused request reads nothing"


async def test_a_refused_mutation_changes_nothing(given: Scenario, backend: Backend) -> None:
    member = await given.funded_member(500)
    reward = await given.reward(cost_points=100, stock=3)
    costly = """mutation($input: RedeemRewardInput!) { redeemReward(input: $input) {
      redemption { member { redemptions(first: 100) { edges { node { member {
        ledger(first: 100) { edges { node { points } } } } } } } } }
      errors { code } } }"""

    with statements(backend) as sent:
        body = await given.gql.post(
            costly,
            {"input": {"rewardId": reward.gid, "idempotencyKey": "r1"}},
            given.tokens.member(member.raw),
        )

    refusal(body)
    assert sent == []
    assert (await given.balance(member))["available"] == 500
    # The same key is still free: the refused request left no idempotency record behind.
    redeemed = await given.redeem(member, reward, key="r1")
    assert redeemed["errors"] == []
    assert redeemed["redemption"]["points"] == 100
    assert (await given.balance(member))["available"] == 400


async def test_first_from_variables_and_their_defaults_is_counted(given: Scenario) -> None:
    member = await given.funded_member(100)
    token = given.tokens.member(member.raw)

    within = await given.gql.post(BY_VARIABLE, {"n": 14}, token)
    over = await given.gql.post(BY_VARIABLE, {"n": 15}, token)
    defaulted = await given.gql.post(BY_VARIABLE.replace("$n: Int", "$n: Int = 15"), {}, token)
    # Above the largest page the connection reads 100, and the cost counts 100.
    capped = await given.gql.post(BY_VARIABLE, {"n": 5_000}, token)

    assert "errors" not in within
    assert within["data"]["me"]["redemptions"]["edges"] == []
    assert cost_of(14) <= BUDGETS.member < cost_of(15)
    assert refusal(over)["extensions"]["cost"] == cost_of(15)
    assert refusal(defaulted)["extensions"]["cost"] == cost_of(15)
    assert refusal(capped)["extensions"]["cost"] == cost_of(100)


async def test_fragments_inline_fragments_and_aliases_are_counted(given: Scenario) -> None:
    token = given.tokens.member((await given.member()).raw)
    named = """{ me { redemptions(first: 100) { ...Page } } }
      fragment Page on RedemptionConnection { edges { node { ...Owner } } }
      fragment Owner on Redemption { member { redemptions(first: 100) { edges { node { id } } } } }"""
    inline = """{ me { redemptions(first: 100) { edges { node {
      ... on Redemption { member { ... { redemptions(first: 100) { edges { node { id } } } } } } } } } } }"""
    twice = "{ a: " + NESTED + " b: " + NESTED + " }"

    costs = [
        refusal(await given.gql.post(q, token=token))["extensions"]["cost"] for q in (named, inline, twice)
    ]

    assert costs == [NESTED_COST, NESTED_COST, 2 * NESTED_COST]


async def test_an_admin_budget_admits_what_a_member_budget_refuses(given: Scenario) -> None:
    member = await given.funded_member(300)
    reward = await given.reward(cost_points=100)
    for key in ("a", "b"):
        assert (await given.redeem(member, reward, key=key))["errors"] == []
    query = BY_VARIABLE.replace("$n: Int)", "$n: Int, $id: ID!)").replace("me {", "member(id: $id) {")
    variables = {"n": 30, "id": member.gid}

    as_member = await given.gql.post(query, variables, given.tokens.member(member.raw))
    as_admin = await given.gql.data(query, variables, given.admin)

    assert BUDGETS.member < cost_of(30) <= BUDGETS.admin
    assert refusal(as_member)["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": cost_of(30),
        "budget": BUDGETS.member,
    }
    edges = as_admin["member"]["redemptions"]["edges"]
    assert len(edges) == 2
    assert [e["node"]["kind"] for e in edges[0]["node"]["member"]["ledger"]["edges"]] == [
        "REDEEM",
        "REDEEM",
        "ADJUST",
    ]


async def test_full_pages_for_wallets_merchants_and_admins_stay_within_budget(given: Scenario) -> None:
    merchant = await given.merchant()
    member = await given.funded_member(1_000)
    reward = await given.reward(cost_points=10)
    earned = 0
    for i in range(3):
        earned += (await given.purchase(merchant, member, 10_000, key=f"p{i}"))["purchase"]["pointsEarned"]
        assert (await given.redeem(member, reward, key=f"r{i}"))["errors"] == []
    home = """{ me { externalRef balance { available pending held expiringSoon { points expiresAt } }
      tier { name } tierProgress { pointsNeeded nextTier { name } } coupons { code }
      ledger(first: 20) {
        edges { cursor node { kind points description createdAt } } pageInfo { hasNextPage } }
      redemptions(first: 20) { edges { node { status points reward { name } merchant { name } } } }
      eligibleOffers(first: 20) { edges { node { name usesLeft } } } } }"""
    history = """{ me { balance { available } ledger(first: 100) {
      edges { cursor node { id kind account points description createdAt originId } }
      pageInfo { hasNextPage endCursor } } } }"""
    rewards = "{ me { redemptions(first: 100) { edges { node { status points reward { name } } } } } }"
    shop = """{ offers(first: 100) { edges { node {
      id name usage { pointsUsed uses } funding { kind percent } } } } }"""
    console = """{ members(first: 100) { edges { node { externalRef status
      balance { available expiringSoon { points } } tier { code } tierProgress { pointsNeeded }
      ledger(first: 20) { edges { node { kind points } } } } } } }"""

    wallet = [
        await given.gql.data(q, token=given.tokens.member(member.raw)) for q in (home, history, rewards)
    ]
    offers = await given.gql.data(shop, token=given.tokens.merchant(merchant.raw))
    members = await given.gql.data(console, token=given.admin)

    assert earned > 0
    assert [w["me"].get("balance", {}).get("available") for w in wallet] == [1_000 + earned - 30] * 2 + [None]
    assert len(wallet[0]["me"]["redemptions"]["edges"]) == 3
    assert len(wallet[1]["me"]["ledger"]["edges"]) == 1 + 3 + 3  # the adjustment, 3 earnings, 3 redemptions
    assert len(wallet[2]["me"]["redemptions"]["edges"]) == 3
    assert offers["offers"]["edges"] == []
    assert [e["node"]["externalRef"] for e in members["members"]["edges"]] == [wallet[0]["me"]["externalRef"]]


@pytest.fixture
def impatient(settings: Settings) -> Settings:
    """A time limit every read outlasts: cancelled at its first wait for the database."""
    return replace(settings, request_timeout_seconds=1e-9)


async def test_a_query_past_the_time_limit_is_cancelled_with_timeout(
    given: Scenario, backend: Backend, impatient: Settings
) -> None:
    member = await given.funded_member(250)
    token = given.tokens.member(member.raw)

    async with make_client(impatient, backend.database) as http:
        body = await GraphQLClient(http).post("{ me { balance { available } } }", token=token)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    # The pools gave back what the cancelled read held: the next reads answer as usual.
    for _ in range(3):
        assert (await given.balance(member))["available"] == 250


async def test_mutations_are_never_cut_off_by_the_time_limit(
    given: Scenario, backend: Backend, impatient: Settings
) -> None:
    member = await given.funded_member(100)
    reward = await given.reward(cost_points=40)
    variables = {"memberId": member.gid, "points": 25, "reasonCode": "GOODWILL", "idempotencyKey": "slow"}

    async with make_client(impatient, backend.database) as http:
        slow = GraphQLClient(http)
        adjusted = await slow.data(ADJUST, {"input": variables}, given.admin)
        redeemed = await slow.data(
            REDEEM,
            {"input": {"rewardId": reward.gid, "idempotencyKey": "k"}},
            given.tokens.member(member.raw),
        )

    assert adjusted["adjustPoints"]["errors"] == []
    assert adjusted["adjustPoints"]["member"]["balance"]["available"] == 125
    assert redeemed["redeemReward"]["errors"] == []
    assert (await given.balance(member))["available"] == 85


def test_budgets_and_time_limit_come_from_the_environment() -> None:
    env = {
        "JWT_SECRET": "s" * 40,
        "COST_BUDGET_MEMBER": "700",
        "COST_BUDGET_ADMIN": "50000",
        "REQUEST_TIMEOUT_SECONDS": "2.5",
    }

    settings = Settings.from_env(env)

    assert settings.cost_budgets == CostBudgets(member=700, admin=50_000)
    assert settings.request_timeout_seconds == 2.5
    assert Settings.from_env({"JWT_SECRET": "s" * 40}).cost_budgets == CostBudgets()


def cost(query: str, variables: dict[str, Any] | None = None) -> int | None:
    return operation_cost(build_schema()._schema, parse(query), None, variables)


def test_each_mutation_costs_a_transaction_and_lists_without_pages_count_ten() -> None:
    one = "mutation { createRedemptionCode { code } }"
    two = "mutation { a: createRedemptionCode { code errors { code } } b: createRedemptionCode { code } }"

    assert cost(one) == WRITE_COST
    assert cost(two) == 2 * WRITE_COST + UNPAGED_LIST_SIZE
    assert cost("{ tiers { code name } }") == UNPAGED_LIST_SIZE


def test_introspection_costs_nothing_and_unusable_variables_are_left_to_execution() -> None:
    assert cost("{ __schema { types { name fields { name type { name } } } } }") == 0
    assert cost("query($n: Int) { me { ledger(first: $n) { edges { cursor } } } }", {"n": "many"}) is None
    # A negative `first` is refused by the connection itself, and reads nothing.
    assert cost("{ me { ledger(first: -5) { edges { cursor } } } }") == 2
