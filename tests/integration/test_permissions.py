"""Roles and ownership: each caller sees and changes only what is its own."""

from __future__ import annotations

import pytest

from api.settings import Settings
from persistence.queries.read_model import SqlReadModel
from tests.builders import ADJUST, POST_PURCHASE, Scenario
from tests.conftest import JWT_SECRET, Backend, make_client

MEMBER_QUERY = """query($id: ID!) {
  member(id: $id) {
    displayName externalRef memberRef tier { code } contact { phone email } balance { available }
  }
}"""


async def test_member_cannot_use_admin_or_merchant_mutations(given: Scenario) -> None:
    member = await given.funded_member(100)
    token = given.tokens.member(member.raw)

    adjust = await given.gql.post(
        ADJUST,
        {"input": {"memberId": member.gid, "points": 1000, "reasonCode": "GOODWILL", "idempotencyKey": "x"}},
        token,
    )
    earn = await given.gql.post(
        POST_PURCHASE,
        {
            "input": {
                "memberId": member.gid,
                "amount": {"amountMinor": 100, "currency": "CNY"},
                "idempotencyKey": "y",
            }
        },
        token,
    )

    assert adjust["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert earn["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await given.balance(member))["available"] == 100


async def test_member_sees_only_itself(given: Scenario) -> None:
    alice = await given.member(phone="13800138000")
    bob = await given.member()

    own = await given.gql.data(MEMBER_QUERY, {"id": alice.gid}, given.tokens.member(alice.raw))
    other = await given.gql.data(MEMBER_QUERY, {"id": alice.gid}, given.tokens.member(bob.raw))
    node = await given.gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": alice.gid}, given.tokens.member(bob.raw)
    )

    assert own["member"]["contact"]["phone"] == "13800138000"
    assert other["member"] is None
    assert node["node"] is None


async def test_merchant_reads_only_linked_members_and_of_them_only_a_masked_name_and_its_reference(
    given: Scenario,
) -> None:
    shop = await given.merchant("Shop")
    other_shop = await given.merchant("Other")
    member = await given.member(phone="13800138000", email="li@example.cn")
    await given.purchase(shop, member, 1_000, key="p1")

    seen = await given.gql.data(MEMBER_QUERY, {"id": member.gid}, given.tokens.merchant(shop.raw))
    unseen = await given.gql.data(MEMBER_QUERY, {"id": member.gid}, given.tokens.merchant(other_shop.raw))

    assert seen["member"] == {
        "displayName": "138****8000",
        "externalRef": None,
        "memberRef": await given.member_ref(shop, member),
        "tier": None,  # the programme has no tiers here
        "contact": None,
        "balance": None,
    }
    assert unseen["member"] is None


async def test_partner_sees_masked_contact_only_through_admin_granted_paths(given: Scenario) -> None:
    member = await given.member(phone="13800138000", email="li.wei@example.cn")
    body = await given.gql.post(MEMBER_QUERY, {"id": member.gid}, given.tokens.partner(1))
    assert body["data"]["member"] is None  # partners read no member directly


async def test_merchant_cannot_read_another_merchants_purchase(given: Scenario) -> None:
    shop = await given.merchant("Shop")
    rival = await given.merchant("Rival")
    member = await given.member()
    purchase = await given.purchase(shop, member, 1_000, key="p1")
    query = "query($id: ID!) { node(id: $id) { ... on Purchase { pointsEarned } } }"

    own = await given.gql.data(query, {"id": purchase["purchase"]["id"]}, given.tokens.merchant(shop.raw))
    foreign = await given.gql.data(
        query, {"id": purchase["purchase"]["id"]}, given.tokens.merchant(rival.raw)
    )

    assert own["node"] == {"pointsEarned": 10}
    assert foreign["node"] is None


async def test_members_list_is_admin_only(given: Scenario) -> None:
    member = await given.member()
    body = await given.gql.post(
        "query { members { edges { node { id } } } }", token=given.tokens.member(member.raw)
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_query_limits_and_no_field_suggestions(given: Scenario) -> None:
    member = await given.member()
    token = given.tokens.member(member.raw)
    deep = "query { me { " + "redemptions { edges { node { member { " * 4 + "id" + " } } } }" * 4 + " } }"
    aliases = "query { " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }"

    too_deep = await given.gql.post(deep, token=token)
    too_many = await given.gql.post(aliases, token=token)
    typo = await given.gql.post("query { me { balanse { available } } }", token=token)

    assert "exceeds maximum operation depth" in too_deep["errors"][0]["message"]
    assert "aliases" in too_many["errors"][0]["message"]
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_unexpected_errors_are_masked_and_logged_with_request_id(
    given: Scenario, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: object, after: int | None, limit: int) -> list[object]:
        raise RuntimeError("connection to db-primary password=hunter2 failed")

    monkeypatch.setattr(SqlReadModel, "merchant_page", broken)
    response = await given.gql.http.post(
        "/graphql",
        json={"query": "query { merchants { edges { node { id } } } }"},
        headers={"Authorization": f"Bearer {given.admin}", "X-Request-ID": "req-123"},
    )

    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert "hunter2" not in response.text
    assert response.headers["x-request-id"] == "req-123"
    logged = [r for r in caplog.records if r.name == "loyalty.api" and "req-123" in r.getMessage()]
    assert logged, "the unexpected error is logged with the request id"


async def test_malformed_cursor_is_a_client_error(given: Scenario) -> None:
    member = await given.member()
    body = await given.gql.post(
        'query { me { ledger(after: "not-a-cursor") { edges { cursor } } } }',
        token=given.tokens.member(member.raw),
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_body_cap_and_malformed_json(given: Scenario) -> None:
    too_big = await given.gql.http.post(
        "/graphql", content=b"{" + b" " * 2_000_000 + b"}", headers={"content-type": "application/json"}
    )
    malformed = await given.gql.http.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json"}
    )

    assert too_big.status_code == 413
    assert malformed.status_code == 400


async def test_production_switches_turn_off_introspection_and_graphiql(backend: Backend) -> None:
    settings = Settings(database_url=backend.url, jwt_secret=JWT_SECRET, introspection=False, graphiql=False)
    async with make_client(settings, backend.database) as http:
        introspection = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        ide = await http.get("/graphql", headers={"accept": "text/html"})

    assert "introspection has been disabled" in introspection.json()["errors"][0]["message"]
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
